package dev.deja.device.x86;

/**
 * A jump with a displacement (Jcc rel8/rel32, JMP rel8/rel32), carried out by the tracer instead of
 * the processor: where it goes follows from the flags alone, and it changes nothing but the
 * instruction pointer. Replay steps a thread over a breakpoint at such an instruction by setting
 * its instruction pointer (one stop a pass) instead of removing the breakpoint, single-stepping and
 * planting it again (two stops and two writes of code a pass): a loop's branch in a JIT's code is
 * where points no guard can patch often lie, passed thousands of times.
 *
 * <p>Not covered (null): LOOP/JRCXZ (they read or change rcx), a 66 prefix (a 16-bit instruction
 * pointer), anything else.
 *
 * @param length       the instruction's length, prefixes included
 * @param displacement where the jump goes, from the end of the instruction
 * @param condition    the condition code (0-15, the low nibble of the opcode), or -1 for an unconditional jump
 */
public record RelativeJump(int length, long displacement, int condition) {
    private static final long CF = 1, PF = 1 << 2, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11;

    /** The instruction that starts {@code code}, when it is a relative jump this class carries out; null otherwise. */
    public static RelativeJump decode(byte[] code) {
        X86Insn insn;
        try {
            insn = X86Decoder.decode(code, 0);
        } catch (X86DecodeException e) {
            return null;
        }
        int rel = insn.rel();
        switch (insn.branch()) {
            case JCC_REL8, JCC_REL32, JMP_REL8, JMP_REL32 -> {
            }
            default -> {
                return null;
            }
        }
        for (int i = 0; i < rel; i++) {
            if ((code[i] & 0xff) == 0x66) return null;
        }
        boolean short8 = insn.branch() == Branch.JCC_REL8 || insn.branch() == Branch.JMP_REL8;
        long displacement = short8 ? code[rel] : (code[rel] & 0xffL) | (code[rel + 1] & 0xffL) << 8
                | (code[rel + 2] & 0xffL) << 16 | (long) code[rel + 3] << 24;
        int opcode = code[rel - 1] & 0xff; // 7x, 0F 8x, EB, E9: the byte before the displacement
        int condition = switch (insn.branch()) {
            case JCC_REL8, JCC_REL32 -> opcode & 0x0f;
            default -> -1;
        };
        return new RelativeJump(insn.length(), displacement, condition);
    }

    /** Where the jump at {@code address} goes with flags {@code eflags}: its target or the next instruction. */
    public long next(long address, long eflags) {
        long after = address + length;
        return taken(eflags) ? after + displacement : after;
    }

    /** Whether the jump is taken with flags {@code eflags} (Intel SDM vol. 2, Jcc). */
    boolean taken(long eflags) {
        if (condition < 0) return true;
        boolean cf = (eflags & CF) != 0, pf = (eflags & PF) != 0, zf = (eflags & ZF) != 0;
        boolean sf = (eflags & SF) != 0, of = (eflags & OF) != 0;
        boolean t = switch (condition >> 1) {
            case 0 -> of;             // JO / JNO
            case 1 -> cf;             // JB / JAE
            case 2 -> zf;             // JE / JNE
            case 3 -> cf || zf;       // JBE / JA
            case 4 -> sf;             // JS / JNS
            case 5 -> pf;             // JP / JNP
            case 6 -> sf != of;       // JL / JGE
            default -> zf || sf != of; // JLE / JG
        };
        return (condition & 1) == 0 ? t : !t;
    }
}
