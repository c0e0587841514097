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

    /**
     * signal_in_cpuid_loop keeps its last cpuid leaf 1 EBX in rbx through the loop: the replayed one has
     * another APIC ID (these VMs answer the host CPU's). A register whose recorded value has EBX's shape is
     * compared without those bytes; any other difference, and rsp, still count.
     */
    @Test
    void aRegisterHoldingCpuidsEbxIsComparedWithoutItsApicId() {
        long[] recorded = registers();
        recorded[X86Regs.RBX] = 0x3dfe0800L;
        recorded[X86Regs.R12] = 0x1234_0800_5555_92a0L;
        RunTarget target = new RunTarget(recorded, 42, 1_000_000, "event 65");
        long[] live = recorded.clone();
        live[X86Regs.RBX] = 0x70fe0800L;
        live[X86Regs.R12] = 0x9934_0800_5555_92a0L;
        assertTrue(RunState.matches(target, live, 42));
        assertTrue(RunState.matchesBeforeIterations(target, live));
        for (long other : new long[] {0x70fe0801L, 0x70fe1800L, 0x71fe0800_0000_0000L, 0x1_70fe0800L}) {
            long[] l = live.clone();
            l[X86Regs.RBX] = other;
            assertFalse(RunState.matches(target, l, 42), Long.toHexString(other));
        }
        long[] stack = recorded.clone();
        stack[X86Regs.RSP] = 0x7fff_f63f_0800L;
        RunTarget atStack = new RunTarget(stack, 42, 1_000_000, "event 66");
        long[] l = stack.clone();
        l[X86Regs.RSP] = 0x7fff_f73f_0800L;
        assertFalse(RunState.matches(atStack, l, 42), "rsp is compared whole");
    }

    /**
     * signal_in_cpuid_loop's nanosleep saves rbx, the loop's last cpuid EBX, below main's stack pointer: the
     * recorded and the replayed stack differ in its APIC ID byte there. Format version 6 hashes the stack's
     * words without it (and a byte anywhere else still counts); versions before hashed the bytes.
     */
    @Test
    void theStackHashesLeaveCpuidsApicIdsOut() {
        long top = 0x7fff_0000_0000L;
        long sp = top - 8192;
        byte[] recorded = new byte[16384];
        java.nio.ByteBuffer.wrap(recorded).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(8192 - 40, 0x0000_0001_5efe_0800L)
                .putLong(8192 + 1000, 0x3dfe_0800_00b0_0f21L);
        byte[] replayed = recorded.clone();
        replayed[8192 - 40 + 3] = (byte) 0xb4;
        replayed[8192 + 1000 + 7] = (byte) 0x70;
        assertEquals(RunState.stackHash(stack(recorded, top), sp, true), RunState.stackHash(stack(replayed, top), sp, true));
        assertEquals(RunState.deeperStackHash(stack(recorded, top), sp, 0, true), RunState.deeperStackHash(stack(replayed, top), sp, 0, true));
        assertNotEquals(RunState.stackHash(stack(recorded, top), sp, false), RunState.stackHash(stack(replayed, top), sp, false));
        assertNotEquals(RunState.deeperStackHash(stack(recorded, top), sp, 0, false), RunState.deeperStackHash(stack(replayed, top), sp, 0, false));
        byte[] other = recorded.clone();
        other[8192 - 40 + 4] = 2;
        assertNotEquals(RunState.stackHash(stack(recorded, top), sp, true), RunState.stackHash(stack(other, top), sp, true));
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
        for (boolean words : new boolean[] {true, false}) deeperHashTellsTurnsApart(words);
    }

    /** Format version 6 hashes the stack's words without APIC IDs ({@code words}), earlier versions its bytes. */
    private static void deeperHashTellsTurnsApart(boolean words) {
        long top = 0x7fff_0000_0000L;
        byte[] turn1 = new byte[16384];
        long sp = top - 8192;
        byte[] turn2 = turn1.clone();
        turn2[8192 + 500] = 1;  // the caller's loop count, in its frame 500 bytes above sp
        long top1 = RunState.stackHash(stack(turn1, top), sp, words);
        assertEquals(top1, RunState.stackHash(stack(turn2, top), sp, words), "the top 384 bytes are the same in both turns");
        long deeper1 = RunState.deeperStackHash(stack(turn1, top), sp, 0, words);
        assertNotEquals(deeper1, RunState.deeperStackHash(stack(turn2, top), sp, 0, words));
        RunTarget target = new RunTarget(registers(), top1, deeper1, 1_000_000, "event 9",
                new MemoryWitness(0, new long[0], 0, 0, words));
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
        assertNotEquals(RunState.deeperStackHash(stack(turn1, top), nearTop, 0, words), RunState.deeperStackHash(stack(changedBelow, top), nearTop, 0, words));
        assertNotEquals(RunTarget.NO_DEEPER_HASH, RunState.deeperStackHash(stack(new byte[0], top), sp, 0, words), "0 stands for none");
        // On the first stack of a process, nothing from where exec put argc up: the executable's path is up there.
        long startStack = sp + 1000;
        byte[] otherPath = turn1.clone();
        otherPath[8192 + 2000] = '/';
        assertEquals(RunState.deeperStackHash(stack(turn1, top), sp, startStack, words),
                RunState.deeperStackHash(stack(otherPath, top), sp, startStack, words));
        assertNotEquals(RunState.deeperStackHash(stack(turn1, top), sp, 0, words), RunState.deeperStackHash(stack(otherPath, top), sp, 0, words));
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
