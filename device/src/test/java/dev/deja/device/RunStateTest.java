package dev.deja.device;

import org.junit.jupiter.api.Test;

import dev.deja.device.syscall.TraceeMemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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

    /** A stack of {@code size} bytes ending at {@code top} (the pages above are unmapped). */
    private static TraceeMemory stack(byte[] bytes, long top) {
        long bottom = top - bytes.length;
        return (address, dst, off, len) -> {
            if (address < bottom || address >= top) return 0;
            int n = (int) Math.min(len, top - address);
            System.arraycopy(bytes, (int) (address - bottom), dst, off, n);
            return n;
        };
    }

    @Test
    void theDeeperHashTellsApartTurnsOfAnOuterLoopThatTheTopOfTheStackDoesNot() {
        long top = 0x7fff_0000_0000L;
        byte[] turn1 = new byte[16384];
        long sp = top - 8192;
        byte[] turn2 = turn1.clone();
        turn2[8192 + 500] = 1;  // the caller's loop count, in its frame 500 bytes above sp
        long top1 = RunState.stackHash(stack(turn1, top), sp);
        assertEquals(top1, RunState.stackHash(stack(turn2, top), sp), "the top 384 bytes are the same in both turns");
        long deeper1 = RunState.deeperStackHash(stack(turn1, top), sp, 0);
        assertNotEquals(deeper1, RunState.deeperStackHash(stack(turn2, top), sp, 0));
        RunTarget target = new RunTarget(registers(), top1, deeper1, 1_000_000, "event 9");
        long[] at = registers();
        at[X86Regs.RSP] = sp;
        assertTrue(RunState.deeperStackAndMemoryMatch(target, stack(turn1, top), at, 0));
        assertFalse(RunState.deeperStackAndMemoryMatch(target, stack(turn2, top), at, 0));
        // A recording made before the deeper hash was kept checks only the top.
        RunTarget old = new RunTarget(registers(), top1, 1_000_000, "event 9");
        assertTrue(RunState.deeperStackAndMemoryMatch(old, stack(turn2, top), at, 0));
        // Near the top of the stack the window ends at the last readable byte.
        long nearTop = top - 1000;
        byte[] changedBelow = turn1.clone();
        changedBelow[16384 - 1000 + 400] = 7;
        assertNotEquals(RunState.deeperStackHash(stack(turn1, top), nearTop, 0), RunState.deeperStackHash(stack(changedBelow, top), nearTop, 0));
        assertNotEquals(RunTarget.NO_DEEPER_HASH, RunState.deeperStackHash(stack(new byte[0], top), sp, 0), "0 stands for none");
        // On the first stack of a process, nothing from where exec put argc up: the executable's path is up there.
        long startStack = sp + 1000;
        byte[] otherPath = turn1.clone();
        otherPath[8192 + 2000] = '/';
        assertEquals(RunState.deeperStackHash(stack(turn1, top), sp, startStack),
                RunState.deeperStackHash(stack(otherPath, top), sp, startStack));
        assertNotEquals(RunState.deeperStackHash(stack(turn1, top), sp, 0), RunState.deeperStackHash(stack(otherPath, top), sp, 0));
    }

    @Test
    void aThreadEnteringTheCallWhoseInstructionIsThePointIsAtThePoint() {
        long[] recorded = registers();
        recorded[X86Regs.RIP] = 0x7ffff7e9e3e5L;
        recorded[X86Regs.RAX] = 8; // lseek's number, about to be run
        recorded[X86Regs.RCX] = 1;
        recorded[X86Regs.R11] = 2;
        recorded[X86Regs.ORIG_RAX] = -1;
        RunTarget target = new RunTarget(recorded, 42, 1_000_000, "event 33145");
        // The entry stop: the instruction moved rip past it, put the return address in rcx and the flags in
        // r11; the kernel shows the number as orig_rax and -ENOSYS in rax.
        long[] entry = recorded.clone();
        entry[X86Regs.RIP] = recorded[X86Regs.RIP] + 2;
        entry[X86Regs.RCX] = entry[X86Regs.RIP];
        entry[X86Regs.R11] = recorded[X86Regs.EFLAGS];
        entry[X86Regs.ORIG_RAX] = 8;
        entry[X86Regs.RAX] = -38;
        long[] at = RunState.onSyscallInstruction(target, entry);
        assertTrue(java.util.Arrays.equals(recorded, at));
        assertTrue(RunState.matches(target, at, 42));

        // Another call from the same instruction (another number), or the same call with another argument: not the point.
        long[] other = entry.clone();
        other[X86Regs.ORIG_RAX] = 0;
        assertFalse(RunState.matches(target, RunState.onSyscallInstruction(target, other), 42));
        long[] argument = entry.clone();
        argument[X86Regs.RDI] += 1;
        assertFalse(RunState.matches(target, RunState.onSyscallInstruction(target, argument), 42));
        // A call entered from another instruction: no state on the point's.
        long[] elsewhere = entry.clone();
        elsewhere[X86Regs.RIP] += 0x10;
        assertEquals(null, RunState.onSyscallInstruction(target, elsewhere));
    }
}
