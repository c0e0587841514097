package dev.deja.device.x86;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Relative jumps carried out from the flags: every condition, both displacement sizes, and what is left alone. */
class RelativeJumpTest {
    private static final long AT = 0x7fff7800ac0cL;
    private static final long CF = 1, PF = 1 << 2, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11;
    private static final long BASE = 0x202; // IF and the reserved bit 1, as a stopped thread's eflags have them

    private static byte[] code(int... bytes) {
        byte[] b = new byte[15];
        java.util.Arrays.fill(b, (byte) 0x90);
        for (int i = 0; i < bytes.length; i++) b[i] = (byte) bytes[i];
        return b;
    }

    /** Whether Jcc with condition {@code cc} (rel8 -2, a loop's branch back) is taken with {@code flags}. */
    private static boolean taken(int cc, long flags) {
        RelativeJump j = RelativeJump.decode(code(0x70 | cc, 0xfe));
        assertNotNull(j);
        long next = j.next(AT, BASE | flags);
        if (next == AT) return true;
        assertEquals(AT + 2, next);
        return false;
    }

    @Test
    void everyConditionReadsItsFlags() {
        long[] all = {0, CF, PF, ZF, SF, OF, CF | ZF, SF | OF, ZF | SF, ZF | OF, CF | PF | ZF | SF | OF};
        for (long f : all) {
            boolean cf = (f & CF) != 0, pf = (f & PF) != 0, zf = (f & ZF) != 0, sf = (f & SF) != 0, of = (f & OF) != 0;
            boolean[] expected = {of, !of, cf, !cf, zf, !zf, cf || zf, !(cf || zf), sf, !sf, pf, !pf, sf != of, sf == of,
                    zf || sf != of, !zf && sf == of};
            for (int cc = 0; cc < 16; cc++) {
                assertEquals(expected[cc], taken(cc, f), "condition " + cc + " with flags 0x" + Long.toHexString(f));
            }
        }
    }

    @Test
    void rel32ConditionalAndUnconditionalJumps() {
        // jne +0x100 (0F 85 rel32)
        RelativeJump jne = RelativeJump.decode(code(0x0f, 0x85, 0x00, 0x01, 0x00, 0x00));
        assertNotNull(jne);
        assertEquals(AT + 6 + 0x100, jne.next(AT, BASE));
        assertEquals(AT + 6, jne.next(AT, BASE | ZF));
        // jl -0x20 (0F 8C rel32, negative)
        RelativeJump jl = RelativeJump.decode(code(0x0f, 0x8c, 0xe0, 0xff, 0xff, 0xff));
        assertEquals(AT + 6 - 0x20, jl.next(AT, BASE | SF));
        assertEquals(AT + 6, jl.next(AT, BASE | SF | OF));
        // jmp -5 (EB FB) and jmp +0x12345678 (E9)
        assertEquals(AT + 2 - 5, RelativeJump.decode(code(0xeb, 0xfb)).next(AT, BASE));
        assertEquals(AT + 5 + 0x12345678L, RelativeJump.decode(code(0xe9, 0x78, 0x56, 0x34, 0x12)).next(AT, BASE));
        // a branch hint prefix (3E) and a BND prefix (F2) change nothing
        assertEquals(AT + 3 - 2, RelativeJump.decode(code(0x3e, 0x74, 0xfe)).next(AT, BASE | ZF));
        assertEquals(AT + 6 + 0x10, RelativeJump.decode(code(0xf2, 0xe9, 0x10, 0, 0, 0)).next(AT, BASE));
    }

    @Test
    void otherInstructionsAreNotCarriedOut() {
        assertNull(RelativeJump.decode(code(0xe2, 0xfe)));             // loop: changes rcx
        assertNull(RelativeJump.decode(code(0xe3, 0xfe)));             // jrcxz: reads rcx
        assertNull(RelativeJump.decode(code(0xe8, 0, 0, 0, 0)));       // call: pushes
        assertNull(RelativeJump.decode(code(0xff, 0xe0)));             // jmp rax
        assertNull(RelativeJump.decode(code(0xc3)));                   // ret
        assertNull(RelativeJump.decode(code(0x48, 0x01, 0xd8)));       // add rax, rbx
        assertNull(RelativeJump.decode(code(0x66, 0xe9, 0x10, 0x00))); // jmp rel16: a 16-bit instruction pointer
    }
}
