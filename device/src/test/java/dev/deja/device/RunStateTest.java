package dev.deja.device;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The state compared at a recorded point; at a rep string instruction, before its iterations. */
class RunStateTest {
    private static long[] registers() {
        long[] r = new long[X86Regs.COUNT];
        for (int i = 0; i < r.length; i++) r[i] = 0x1000L * (i + 1);
        r[X86Regs.EFLAGS] = 0x206;
        return r;
    }

    @Test
    void beforeTheIterationsEveryRegisterButTheCountAndThePointersIsCompared() {
        long[] recorded = registers();
        RunTarget target = new RunTarget(recorded, 42, 1_000_000, "event 7");
        long[] live = recorded.clone();
        live[X86Regs.RCX] += 100;
        live[X86Regs.RDI] -= 100;
        live[X86Regs.RSI] -= 100;
        assertTrue(RunState.matchesBeforeIterations(target, live));
        assertFalse(RunState.matches(target, live, 42));
        live[X86Regs.EFLAGS] |= 0x100; // TF differs between a trap and an interrupt: not compared
        assertTrue(RunState.matchesBeforeIterations(target, live));
        for (int i : new int[] {X86Regs.RAX, X86Regs.RDX, X86Regs.R15, X86Regs.RBP, X86Regs.RIP, X86Regs.RSP, X86Regs.FS_BASE}) {
            long[] other = live.clone();
            other[i] += 8;
            assertFalse(RunState.matchesBeforeIterations(target, other), "register " + i + " differs");
        }
        long[] down = live.clone();
        down[X86Regs.EFLAGS] |= 0x400;
        assertFalse(RunState.matchesBeforeIterations(target, down), "DF differs: the instruction walks the other way");
    }
}
