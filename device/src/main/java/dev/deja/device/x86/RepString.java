package dev.deja.device.x86;

/**
 * A {@code rep movs} or {@code rep stos} instruction: one instruction that loops, {@code rcx} counting
 * the iterations left. An interrupt can stop a thread between two iterations, with the instruction
 * pointer still on the instruction and {@code rcx}, {@code rdi} (and for movs {@code rsi}) part of the
 * way: a state no instruction boundary has, which replay reaches by running the instruction for just
 * the iterations recorded ({@code rcx} lowered for the run, as rr's fast_forward does).
 *
 * <p>{@code movs} and {@code stos} leave the flags alone and cannot end early, so the state after
 * {@code n} iterations follows from the state before: {@code rcx - n}, and {@code rdi}/{@code rsi}
 * moved by {@code n} elements (backwards when DF is set). {@code cmps}/{@code scas} (which end on a
 * flag) and {@code lods} are not covered, nor a 67 prefix (32-bit addressing).
 *
 * @param length      the instruction's length in bytes, prefixes included
 * @param elementSize bytes per iteration: 1, 2, 4 or 8
 * @param movesSource movs: {@code rsi} advances as well as {@code rdi}
 */
public record RepString(int length, int elementSize, boolean movesSource) {
    /** The longest instruction x86 allows. */
    public static final int MAX_LENGTH = 15;

    /** The instruction that starts {@code code}, when it is a rep movs/stos; null otherwise. */
    public static RepString decode(byte[] code) {
        boolean rep = false;
        boolean operand16 = false;
        boolean wide = false;
        int i = 0;
        for (; i < code.length && i < MAX_LENGTH; i++) {
            int b = code[i] & 0xff;
            switch (b) {
                case 0xF3, 0xF2 -> rep = true; // F2 with movs/stos repeats as F3 does
                case 0x66 -> operand16 = true;
                case 0x67 -> {
                    return null;
                }
                case 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 -> {
                }
                default -> {
                    if (b >= 0x40 && b <= 0x4F) {
                        // REX must come last, right before the opcode
                        wide = (b & 0x08) != 0;
                        if (i + 1 >= code.length) return null;
                        return opcode(code[i + 1] & 0xff, i + 2, rep, operand16, wide);
                    }
                    return opcode(b, i + 1, rep, operand16, false);
                }
            }
        }
        return null;
    }

    private static RepString opcode(int op, int length, boolean rep, boolean operand16, boolean wide) {
        if (!rep || length > MAX_LENGTH) return null;
        int size = wide ? 8 : operand16 ? 2 : 4;
        return switch (op) {
            case 0xA4 -> new RepString(length, 1, true);
            case 0xA5 -> new RepString(length, size, true);
            case 0xAA -> new RepString(length, 1, false);
            case 0xAB -> new RepString(length, size, false);
            default -> null;
        };
    }

    /**
     * How many iterations take a thread at this instruction from {@code rcx}, {@code rdi}, {@code rsi}
     * to the target's, or -1 when none do (the target lies in another execution of it, or behind).
     */
    public long iterationsTo(long rcx, long rdi, long rsi, boolean backwards,
                             long targetRcx, long targetRdi, long targetRsi) {
        if (Long.compareUnsigned(rcx, targetRcx) <= 0) return -1;
        long n = rcx - targetRcx;
        long step = backwards ? -elementSize : elementSize;
        if (rdi + n * step != targetRdi) return -1;
        if (movesSource ? rsi + n * step != targetRsi : rsi != targetRsi) return -1;
        return n;
    }
}
