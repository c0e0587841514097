package dev.deja.device.x86;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which instructions are a rep movs/stos, and how many iterations take a thread to a recorded count. */
class RepStringTest {
    private static byte[] bytes(String hex) {
        String[] parts = hex.trim().split("\\s+");
        byte[] b = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) b[i] = (byte) Integer.parseInt(parts[i], 16);
        return b;
    }

    @Test
    void repMovsAndStosInEveryOperandSize() {
        // glibc's memset (erms) and memmove, and the sizes the prefixes give (objdump's reading in comments)
        assertEquals(new RepString(2, 1, false), RepString.decode(bytes("f3 aa c3")));          // rep stos %al,%es:(%rdi)
        assertEquals(new RepString(2, 1, true), RepString.decode(bytes("f3 a4")));             // rep movsb
        assertEquals(new RepString(2, 4, false), RepString.decode(bytes("f3 ab")));            // rep stos %eax
        assertEquals(new RepString(3, 8, false), RepString.decode(bytes("f3 48 ab")));         // rep stos %rax
        assertEquals(new RepString(3, 8, true), RepString.decode(bytes("f3 48 a5")));          // rep movsq
        assertEquals(new RepString(3, 2, true), RepString.decode(bytes("66 f3 a5")));          // rep movsw
        assertEquals(new RepString(2, 1, true), RepString.decode(bytes("f2 a4")));             // repnz movsb repeats as rep
        assertEquals(new RepString(3, 1, false), RepString.decode(bytes("64 f3 aa")));         // a segment prefix
    }

    @Test
    void otherInstructionsAreNone() {
        assertNull(RepString.decode(bytes("aa")), "stosb without rep: one store");
        assertNull(RepString.decode(bytes("f3 a6")), "repz cmpsb ends on a flag");
        assertNull(RepString.decode(bytes("f2 ae")), "repnz scasb ends on a flag");
        assertNull(RepString.decode(bytes("f3 ac")), "rep lodsb");
        assertNull(RepString.decode(bytes("67 f3 aa")), "32-bit addressing");
        assertNull(RepString.decode(bytes("f3 c3")), "repz ret");
        assertNull(RepString.decode(bytes("f3 0f 1e fa")), "endbr64");
        assertNull(RepString.decode(bytes("48 f3 aa")), "a REX before a legacy prefix is not the opcode's");
        assertNull(RepString.decode(bytes("f3")), "cut short");
        assertNull(RepString.decode(new byte[0]));
    }

    @Test
    void iterationsToARecordedCount() {
        RepString stosb = new RepString(2, 1, false);
        // 0x1000000 bytes to fill from 0x7000, recorded with 0x223000 left: 0xddd000 done
        assertEquals(0xddd000L, stosb.iterationsTo(0x1000000, 0x7000, 5, false, 0x223000, 0x7000 + 0xddd000, 5));
        assertEquals(-1, stosb.iterationsTo(0x1000000, 0x7000, 5, false, 0x223000, 0x7000 + 0xddd001, 5), "another execution's pointer");
        assertEquals(-1, stosb.iterationsTo(0x1000000, 0x7000, 6, false, 0x223000, 0x7000 + 0xddd000, 5), "stos leaves rsi");
        assertEquals(-1, stosb.iterationsTo(0x223000, 0x7000, 5, false, 0x223000, 0x7000, 5), "at the count already: nothing to run");
        assertEquals(-1, stosb.iterationsTo(0x100, 0x7000, 5, false, 0x223000, 0x7000, 5), "fewer left than recorded: behind it");
        RepString movsq = new RepString(3, 8, true);
        assertEquals(4L, movsq.iterationsTo(10, 0x2000, 0x1000, false, 6, 0x2020, 0x1020));
        assertEquals(4L, movsq.iterationsTo(10, 0x2000, 0x1000, true, 6, 0x2000 - 0x20, 0x1000 - 0x20), "DF set: downwards");
        assertEquals(-1, movsq.iterationsTo(10, 0x2000, 0x1000, false, 6, 0x2020, 0x1028), "the source moved otherwise");
    }
}
