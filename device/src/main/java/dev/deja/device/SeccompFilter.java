package dev.deja.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Builds the classic-BPF seccomp program (seccomp(2), SECCOMP_SET_MODE_FILTER) that makes only
 * the syscalls of interest stop a traced program: SECCOMP_RET_TRACE for them, SECCOMP_RET_ALLOW
 * for the rest. Pure: the device writes the bytes into the tracee and injects the seccomp call.
 *
 * <p>The program checks the audit architecture first: a call of another ABI (a 32-bit
 * {@code int 0x80} on x86_64) always stops, as does any number at or above the limit (the x32
 * ABI's 0x40000000 bit included), so nothing unusual slips past the device. Below the limit it
 * tests runs of consecutive numbers, encoding whichever of the traced set or its complement has
 * fewer runs.
 */
public final class SeccompFilter {
    public static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    public static final int RET_TRACE = 0x7ff00000;
    public static final int RET_ALLOW = 0x7fff0000;
    /** BPF_MAXINSNS: the kernel refuses longer programs. */
    public static final int MAX_INSTRUCTIONS = 4096;
    /** sizeof(struct sock_filter). */
    public static final int INSTRUCTION_SIZE = 8;

    // classic BPF opcodes (linux/bpf_common.h)
    static final int LD_W_ABS = 0x20;
    static final int JEQ_K = 0x15;
    static final int AND_K = 0x54;
    static final int JA = 0x05;
    static final int JGT_K = 0x25;
    static final int JGE_K = 0x35;
    static final int RET_K = 0x06;
    // offsets in struct seccomp_data
    static final int DATA_NR = 0;
    static final int DATA_ARCH = 4;

    /** One sock_filter instruction. */
    public record Instruction(int code, int jt, int jf, int k) {
        public Instruction {
            if (jt < 0 || jt > 255 || jf < 0 || jf > 255) {
                throw new IllegalArgumentException("BPF jump offsets are one byte: jt=" + jt + " jf=" + jf);
            }
        }
    }

    private SeccompFilter() {
    }

    /**
     * The program for {@code auditArch}: numbers below {@code limit} stop when set in
     * {@code traced}; numbers at or above it, and calls of any other architecture, always stop.
     */
    public static List<Instruction> program(int auditArch, BitSet traced, int limit) {
        if (limit <= 0) throw new IllegalArgumentException("limit must be positive: " + limit);
        List<Instruction> p = new ArrayList<>();
        p.add(new Instruction(LD_W_ABS, 0, 0, DATA_ARCH));
        p.add(new Instruction(JEQ_K, 1, 0, auditArch));
        p.add(new Instruction(RET_K, 0, 0, RET_TRACE));
        p.add(new Instruction(LD_W_ABS, 0, 0, DATA_NR));
        // unsigned compare: also catches x32 numbers and -1
        p.add(new Instruction(JGE_K, 0, 1, limit));
        p.add(new Instruction(RET_K, 0, 0, RET_TRACE));
        List<int[]> tracedRuns = runs(traced, limit, true);
        List<int[]> allowedRuns = runs(traced, limit, false);
        boolean encodeTraced = tracedRuns.size() <= allowedRuns.size();
        int inside = encodeTraced ? RET_TRACE : RET_ALLOW;
        int outside = encodeTraced ? RET_ALLOW : RET_TRACE;
        for (int[] run : encodeTraced ? tracedRuns : allowedRuns) {
            int lo = run[0];
            int hi = run[1];
            if (lo == hi) {
                p.add(new Instruction(JEQ_K, 0, 1, lo));
            } else if (lo == 0) {
                p.add(new Instruction(JGT_K, 1, 0, hi));
            } else {
                p.add(new Instruction(JGE_K, 0, 2, lo));
                p.add(new Instruction(JGT_K, 1, 0, hi));
            }
            p.add(new Instruction(RET_K, 0, 0, inside));
        }
        p.add(new Instruction(RET_K, 0, 0, outside));
        if (p.size() > MAX_INSTRUCTIONS) {
            throw new IllegalArgumentException("the filter needs " + p.size() + " instructions, more than "
                    + MAX_INSTRUCTIONS);
        }
        return List.copyOf(p);
    }

    /**
     * The program for a replay answered at one stop: every call of {@code auditArch} and of any other
     * architecture stops, but number -1. A tracer skips a call by setting its number to -1 at a plain
     * syscall-entry stop (after it injected a call of its own there); the kernel runs the filter again
     * for the new number after that stop, and a -1 let through is skipped with the result the tracer
     * left in the return register, with no further stop.
     */
    public static List<Instruction> everyCall(int auditArch) {
        List<Instruction> p = new ArrayList<>(skippedLetThrough(auditArch));
        p.add(new Instruction(RET_K, 0, 0, RET_TRACE));
        return List.copyOf(p);
    }

    /** Another architecture's call stops, a skipped call (-1) goes through; the rest falls through to what follows. */
    private static List<Instruction> skippedLetThrough(int auditArch) {
        return List.of(
                new Instruction(LD_W_ABS, 0, 0, DATA_ARCH),
                new Instruction(JEQ_K, 1, 0, auditArch),
                new Instruction(RET_K, 0, 0, RET_TRACE),
                new Instruction(LD_W_ABS, 0, 0, DATA_NR),
                new Instruction(JEQ_K, 0, 1, SKIPPED_NR),
                new Instruction(RET_K, 0, 0, RET_ALLOW));
    }

    /**
     * {@link #everyCall}, except that a call of {@code auditArch} whose sixth argument is {@code marker} and
     * whose number is one of {@code numbers} goes through without a stop: a replay's answer stubs make the
     * calls that act on the process alone for real (its memory map, its signal actions: nothing outside it,
     * whatever a program that found the marker in its memory made with it). So does an {@code mmap}
     * (number {@code mmap}, or none when negative) whose fifth argument's high half is the marker's and
     * whose flags map privately: the stubs' mappings at the recorded address (the descriptor, which the
     * kernel reads as 32 bits, is the recorded copy's, or none); private, it writes to no file. With
     * {@code numbers} null, a marked call of any number goes through: the calls a recording's buffer stubs
     * make (the stub puts the program's r9 back after). The marker is random per run, so that a program's own
     * call carries it only by a 1 in 2^64 chance (2^32 for an mmap's).
     */
    public static List<Instruction> everyCallButMarked(int auditArch, long marker, java.util.Collection<Integer> numbers,
                                                       int mmap) {
        if ((int) marker == 0 || (int) (marker >>> 32) == 0) throw new IllegalArgumentException("a marker with a zero half");
        if (mmap >= 0 && (int) (marker >>> 32) == -1) throw new IllegalArgumentException("a marker whose high half is a -1 descriptor's");
        boolean any = numbers == null;
        List<Integer> nrs = any ? List.of() : List.copyOf(new java.util.TreeSet<>(numbers));
        int k = nrs.size();
        List<Instruction> p = new ArrayList<>(skippedLetThrough(auditArch));
        // Offsets from the first instruction below: the marked numbers' checks, then the mmap's, then TRACE and ALLOW.
        int mmapAt = mmap >= 0 ? 6 + k : 5 + k;
        int trace = mmap >= 0 ? mmapAt + 7 : mmapAt;
        int allow = trace + 1;
        p.add(new Instruction(LD_W_ABS, 0, 0, DATA_ARG5_LOW));                            // 0
        p.add(new Instruction(JEQ_K, 0, mmapAt - 2, (int) marker));                      // 1
        p.add(new Instruction(LD_W_ABS, 0, 0, DATA_ARG5_LOW + 4));                        // 2
        p.add(new Instruction(JEQ_K, 0, mmapAt - 4, (int) (marker >>> 32)));             // 3
        p.add(new Instruction(LD_W_ABS, 0, 0, DATA_NR));                                  // 4
        for (int j = 0; j < k; j++) p.add(new Instruction(JEQ_K, allow - (6 + j), 0, nrs.get(j)));
        if (any) p.set(p.size() - 1, new Instruction(JA, 0, 0, allow - 5));      // 4: any number (k = 0)
        if (mmap >= 0) {
            p.add(new Instruction(RET_K, 0, 0, RET_TRACE));                               // 5 + k
            p.add(new Instruction(LD_W_ABS, 0, 0, DATA_NR));
            p.add(new Instruction(JEQ_K, 0, trace - (mmapAt + 2), mmap));
            p.add(new Instruction(LD_W_ABS, 0, 0, DATA_ARG4_LOW + 4));
            p.add(new Instruction(JEQ_K, 0, trace - (mmapAt + 4), (int) (marker >>> 32)));
            p.add(new Instruction(LD_W_ABS, 0, 0, DATA_ARG3_LOW));
            p.add(new Instruction(AND_K, 0, 0, MAP_TYPE));
            p.add(new Instruction(JEQ_K, allow - (mmapAt + 7), trace - (mmapAt + 7), MAP_PRIVATE));
        }
        p.add(new Instruction(RET_K, 0, 0, RET_TRACE));
        p.add(new Instruction(RET_K, 0, 0, RET_ALLOW));
        return List.copyOf(p);
    }

    /** seccomp_data's args[3] and args[4], their low halves (little-endian). */
    static final int DATA_ARG3_LOW = 16 + 3 * 8;
    static final int DATA_ARG4_LOW = 16 + 4 * 8;
    /** mmap's flags: the mapping's type, and a private one. */
    static final int MAP_TYPE = 0x0f;
    static final int MAP_PRIVATE = 0x02;

    /** seccomp_data's args[5], its low half (little-endian). */
    static final int DATA_ARG5_LOW = 16 + 5 * 8;

    /** The number a tracer gives a call it skips (-1, as seccomp_data's u32 nr holds it). */
    static final int SKIPPED_NR = -1;

    /** The program as the kernel reads it: struct sock_filter[], little-endian. */
    public static byte[] bytes(List<Instruction> program) {
        ByteBuffer b = ByteBuffer.allocate(program.size() * INSTRUCTION_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (Instruction i : program) {
            b.putShort((short) i.code()).put((byte) i.jt()).put((byte) i.jf()).putInt(i.k());
        }
        return b.array();
    }

    /** Maximal runs [lo, hi] of numbers below {@code limit} whose membership in {@code set} is {@code member}. */
    private static List<int[]> runs(BitSet set, int limit, boolean member) {
        List<int[]> runs = new ArrayList<>();
        int nr = 0;
        while (nr < limit) {
            int lo = member ? set.nextSetBit(nr) : set.nextClearBit(nr);
            if (lo < 0 || lo >= limit) break;
            int end = member ? set.nextClearBit(lo) : set.nextSetBit(lo);
            if (end < 0 || end > limit) end = limit;
            runs.add(new int[]{lo, end - 1});
            nr = end;
        }
        return runs;
    }
}
