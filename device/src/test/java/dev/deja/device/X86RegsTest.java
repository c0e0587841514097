package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The syscall a seccomp stop's registers hold, as the one-stop replay reads it instead of PTRACE_GET_SYSCALL_INFO. */
class X86RegsTest {

    /** A register set in user_regs_struct order, every word distinct (word i holds 0x1000 + i), code 64-bit. */
    private static long[] regs() {
        long[] r = new long[X86Regs.COUNT];
        for (int i = 0; i < r.length; i++) r[i] = 0x1000 + i;
        r[X86Regs.CS] = X86Regs.USER_CS_64;
        return r;
    }

    @Test
    void numberFromOrigRaxAndArgumentsFromTheAbiRegistersInOrder() {
        long[] r = regs();
        r[X86Regs.ORIG_RAX] = 110; // getppid
        r[X86Regs.RAX] = -38;      // -ENOSYS, as the kernel leaves it at an entry: not the number
        X86Regs.SyscallCall call = X86Regs.syscallCall(r);
        assertNotNull(call);
        assertEquals(110, call.nr());
        // user_regs_struct: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs ...
        assertArrayEquals(new long[]{0x1000 + 14, 0x1000 + 13, 0x1000 + 12, 0x1000 + 7, 0x1000 + 9, 0x1000 + 8}, call.args());
    }

    @Test
    void argumentsAreFullWidthAndTheArrayIsTheCallersOwn() {
        long[] r = regs();
        r[X86Regs.ORIG_RAX] = 9; // mmap
        r[X86Regs.RDI] = 0xffff_ffff_ffff_f000L;
        r[X86Regs.R9] = Long.MIN_VALUE;
        X86Regs.SyscallCall call = X86Regs.syscallCall(r);
        assertEquals(0xffff_ffff_ffff_f000L, call.args()[0]);
        assertEquals(Long.MIN_VALUE, call.args()[5]);
        call.args()[0] = 0; // the session changes args (CLONE_UNTRACED): the register set stays as read
        assertEquals(0xffff_ffff_ffff_f000L, r[X86Regs.RDI]);
    }

    @Test
    void numbersAsTheKernelPassesThem() {
        long[] r = regs();
        for (long nr : new long[]{0, 1, 59, 334, 435, 461, 0x4000_0000L | 1, -1}) {
            r[X86Regs.ORIG_RAX] = nr;
            assertEquals((int) nr, X86Regs.syscallCall(r).nr(), "orig_rax " + nr);
        }
    }

    @Test
    void notAnX86_64CallWhenTheCodeIsNot64Bit() {
        long[] r = regs();
        r[X86Regs.ORIG_RAX] = 20;
        for (long cs : new long[]{0x23, 0x2b, 0, 0x10, 0x33 | 0x10000}) {
            r[X86Regs.CS] = cs;
            assertNull(X86Regs.syscallCall(r), "cs 0x" + Long.toHexString(cs));
        }
    }

    @Test
    void refusesAnythingButAWholeRegisterSet() {
        assertThrows(IllegalArgumentException.class, () -> X86Regs.syscallCall(new long[X86Regs.COUNT - 1]));
        assertThrows(IllegalArgumentException.class, () -> X86Regs.syscallCall(new long[X86Regs.COUNT + 1]));
    }
}
