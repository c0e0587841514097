package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Runs every built program in a small classic-BPF interpreter, for every syscall number and arch. */
class SeccompFilterTest {
    private static final int LIMIT = SyscallInterest.LIMIT;
    private static final int AUDIT_ARCH_I386 = 0x40000003;
    private static final int AUDIT_ARCH_AARCH64 = 0xC00000B7;

    /** Interprets the program's bytes (as the kernel gets them) against one seccomp_data. */
    private static int run(byte[] program, int nr, int arch) {
        return run(program, nr, arch, 0);
    }

    private static int run(byte[] program, int nr, int arch, long arg5) {
        return run(program, nr, arch, new long[] {0, 0, 0, 0, 0, arg5});
    }

    private static int run(byte[] program, int nr, int arch, long[] args) {
        long arg5 = args[5];
        ByteBuffer p = ByteBuffer.wrap(program).order(ByteOrder.LITTLE_ENDIAN);
        int count = program.length / SeccompFilter.INSTRUCTION_SIZE;
        int acc = 0;
        int pc = 0;
        for (int steps = 0; steps <= count; steps++) {
            if (pc < 0 || pc >= count) throw new AssertionError("pc " + pc + " outside the program of " + count);
            int at = pc * SeccompFilter.INSTRUCTION_SIZE;
            int code = p.getShort(at) & 0xffff;
            int jt = p.get(at + 2) & 0xff;
            int jf = p.get(at + 3) & 0xff;
            int k = p.getInt(at + 4);
            pc++;
            switch (code) {
                case SeccompFilter.LD_W_ABS -> acc = switch (k) {
                    case SeccompFilter.DATA_NR -> nr;
                    case SeccompFilter.DATA_ARCH -> arch;
                    case SeccompFilter.DATA_ARG3_LOW -> (int) args[3];
                    case SeccompFilter.DATA_ARG3_LOW + 4 -> (int) (args[3] >>> 32);
                    case SeccompFilter.DATA_ARG4_LOW -> (int) args[4];
                    case SeccompFilter.DATA_ARG4_LOW + 4 -> (int) (args[4] >>> 32);
                    case SeccompFilter.DATA_ARG5_LOW -> (int) arg5;
                    case SeccompFilter.DATA_ARG5_LOW + 4 -> (int) (arg5 >>> 32);
                    default -> throw new AssertionError("load from offset " + k);
                };
                case SeccompFilter.JEQ_K -> pc += acc == k ? jt : jf;
                case SeccompFilter.AND_K -> acc &= k;
                case SeccompFilter.JA -> pc += k;
                case SeccompFilter.JGT_K -> pc += Integer.compareUnsigned(acc, k) > 0 ? jt : jf;
                case SeccompFilter.JGE_K -> pc += Integer.compareUnsigned(acc, k) >= 0 ? jt : jf;
                case SeccompFilter.RET_K -> {
                    return k;
                }
                default -> throw new AssertionError("opcode 0x" + Integer.toHexString(code));
            }
        }
        throw new AssertionError("the program does not end");
    }

    private static void check(BitSet traced) {
        List<SeccompFilter.Instruction> program = SeccompFilter.program(SeccompFilter.AUDIT_ARCH_X86_64, traced, LIMIT);
        assertTrue(program.size() <= SeccompFilter.MAX_INSTRUCTIONS, "program of " + program.size());
        byte[] bytes = SeccompFilter.bytes(program);
        assertEquals(program.size() * 8, bytes.length);
        for (int nr = 0; nr < LIMIT + 64; nr++) {
            int expected = nr >= LIMIT || traced.get(nr) ? SeccompFilter.RET_TRACE : SeccompFilter.RET_ALLOW;
            assertEquals(expected, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64), "nr " + nr + " with " + traced);
            // another ABI always stops, whatever the number
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, AUDIT_ARCH_I386), "i386 nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, AUDIT_ARCH_AARCH64), "aarch64 nr " + nr);
        }
        for (int nr : new int[]{-1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x40000000, 0x40000000 | 1, 0x40000000 | 39}) {
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64), "nr " + nr);
        }
    }

    private static BitSet of(int... nrs) {
        BitSet b = new BitSet();
        for (int nr : nrs) b.set(nr);
        return b;
    }

    @Test
    void everyCallStopsButASkippedOne() {
        byte[] bytes = SeccompFilter.bytes(SeccompFilter.everyCall(SeccompFilter.AUDIT_ARCH_X86_64));
        for (int nr = 0; nr < LIMIT + 64; nr++) {
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64), "nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, AUDIT_ARCH_I386), "i386 nr " + nr);
        }
        for (int nr : new int[]{Integer.MIN_VALUE, Integer.MAX_VALUE, -2, 0x40000000, 0x40000000 | 39}) {
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64), "nr " + nr);
        }
        // -1: a call the tracer skipped at a plain entry stop goes through with the result it set
        assertEquals(SeccompFilter.RET_ALLOW, run(bytes, -1, SeccompFilter.AUDIT_ARCH_X86_64));
        // another ABI's -1 is not ours to let through
        assertEquals(SeccompFilter.RET_TRACE, run(bytes, -1, AUDIT_ARCH_I386));
        assertEquals(SeccompFilter.RET_TRACE, run(bytes, -1, AUDIT_ARCH_AARCH64));
    }

    @Test
    void everyCallStopsButASkippedOneAndOnesWithTheMarker() {
        long marker = 0x1234_5678_9abc_def1L;
        byte[] bytes = SeccompFilter.bytes(SeccompFilter.everyCallButMarked(SeccompFilter.AUDIT_ARCH_X86_64, marker, null, -1));
        for (int nr = 0; nr < LIMIT + 64; nr++) {
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64), "nr " + nr);
            assertEquals(SeccompFilter.RET_ALLOW, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker), "nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, AUDIT_ARCH_I386, marker), "i386 nr " + nr);
            // half the marker is not the marker
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker & 0xffffffffL), "nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker & ~0xffffffffL), "nr " + nr);
        }
        assertEquals(SeccompFilter.RET_ALLOW, run(bytes, -1, SeccompFilter.AUDIT_ARCH_X86_64));
        assertThrows(IllegalArgumentException.class, () -> SeccompFilter.everyCallButMarked(SeccompFilter.AUDIT_ARCH_X86_64, 5, null, -1));
    }

    @Test
    void onlyTheGivenCallsWithTheMarkerGoThrough() {
        long marker = 0x0fed_cba9_8765_4321L;
        java.util.Set<Integer> through = java.util.Set.of(13, 10, 11, 12); // rt_sigaction, mprotect, munmap, brk
        byte[] bytes = SeccompFilter.bytes(SeccompFilter.everyCallButMarked(SeccompFilter.AUDIT_ARCH_X86_64, marker, through, -1));
        for (int nr = 0; nr < LIMIT + 64; nr++) {
            int marked = through.contains(nr) ? SeccompFilter.RET_ALLOW : SeccompFilter.RET_TRACE;
            assertEquals(marked, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker), "nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64), "nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, AUDIT_ARCH_I386, marker), "i386 nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker & 0xffffffffL), "nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker ^ 1L << 40), "nr " + nr);
        }
        assertEquals(SeccompFilter.RET_ALLOW, run(bytes, -1, SeccompFilter.AUDIT_ARCH_X86_64));
        byte[] none = SeccompFilter.bytes(SeccompFilter.everyCallButMarked(SeccompFilter.AUDIT_ARCH_X86_64, marker, java.util.Set.of(), -1));
        for (int nr = 0; nr < LIMIT; nr++) assertEquals(SeccompFilter.RET_TRACE, run(none, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker));
    }

    @Test
    void aMarkedPrivateMmapGoesThroughAndNothingElseLikeIt() {
        long marker = 0x0fed_cba9_8765_4321L;
        long high = marker & ~0xffff_ffffL;
        java.util.Set<Integer> through = java.util.Set.of(13, 10, 11, 12);
        int mmap = 9;
        byte[] bytes = SeccompFilter.bytes(SeccompFilter.everyCallButMarked(SeccompFilter.AUDIT_ARCH_X86_64, marker, through, mmap));
        long anonPrivate = 0x22 | 0x100000;    // MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
        long filePrivate = 0x02 | 0x10;        // MAP_PRIVATE | MAP_FIXED
        // A stub's mappings: the recorded copy's descriptor, or none (-1's low half), with the marker's high half
        assertEquals(SeccompFilter.RET_ALLOW, run(bytes, mmap, SeccompFilter.AUDIT_ARCH_X86_64, new long[] {0x7f00_0000_0000L, 4096, 3, filePrivate, high | 5, 0}));
        assertEquals(SeccompFilter.RET_ALLOW, run(bytes, mmap, SeccompFilter.AUDIT_ARCH_X86_64, new long[] {0x7f00_0000_0000L, 4096, 3, anonPrivate, high | 0xffff_ffffL, 0}));
        // Shared, shared-validate, or a type beyond: stopped, whatever else it carries (it could write to a file)
        for (long type : new long[] {0x01, 0x03, 0x08, 0x0a, 0x00}) {
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, mmap, SeccompFilter.AUDIT_ARCH_X86_64, new long[] {0, 4096, 3, type | 0x10, high | 5, 0}), "type " + type);
        }
        // The program's own mmaps: a descriptor (or -1) as an int, the high half 0 or all ones; half the marker wrong
        for (long fd : new long[] {5, 0xffff_ffffL, -1L, high ^ 1L << 40 | 5, marker & 0xffff_ffffL}) {
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, mmap, SeccompFilter.AUDIT_ARCH_X86_64, new long[] {0, 4096, 3, filePrivate, fd, 0}), "fd " + Long.toHexString(fd));
        }
        // The mark on another call's fifth argument is nothing; the r9 marker still lets the four through, not mmap
        for (int nr = 0; nr < LIMIT + 64; nr++) {
            if (nr != mmap) assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, new long[] {0, 0, 0, filePrivate, high | 5, 0}), "nr " + nr);
            int marked = through.contains(nr) ? SeccompFilter.RET_ALLOW : SeccompFilter.RET_TRACE;
            assertEquals(marked, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker), "nr " + nr);
        }
        assertEquals(SeccompFilter.RET_TRACE, run(bytes, mmap, AUDIT_ARCH_I386, new long[] {0, 4096, 3, filePrivate, high | 5, 0}));
        assertEquals(SeccompFilter.RET_ALLOW, run(bytes, -1, SeccompFilter.AUDIT_ARCH_X86_64));
        assertThrows(IllegalArgumentException.class,
                () -> SeccompFilter.everyCallButMarked(SeccompFilter.AUDIT_ARCH_X86_64, 0xffff_ffff_0000_0001L, through, mmap));
    }

    @Test
    void aRecordingsFilterLetsAnyMarkedCallAndAMarkedPrivateMmapThrough() {
        long marker = 0x0fed_cba9_8765_4321L;
        long high = marker & ~0xffff_ffffL;
        byte[] bytes = SeccompFilter.bytes(SeccompFilter.everyCallButMarked(SeccompFilter.AUDIT_ARCH_X86_64, marker, null, 9));
        for (int nr = 0; nr < LIMIT + 64; nr++) {
            assertEquals(SeccompFilter.RET_ALLOW, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker), "nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64), "nr " + nr);
            assertEquals(SeccompFilter.RET_TRACE, run(bytes, nr, SeccompFilter.AUDIT_ARCH_X86_64, marker ^ 1), "nr " + nr);
        }
        assertEquals(SeccompFilter.RET_ALLOW, run(bytes, 9, SeccompFilter.AUDIT_ARCH_X86_64, new long[] {0, 4096, 1, 0x12, high | 3, 0x1000}));
        assertEquals(SeccompFilter.RET_TRACE, run(bytes, 9, SeccompFilter.AUDIT_ARCH_X86_64, new long[] {0, 4096, 3, 0x01, high | 3, 0}));
        assertEquals(SeccompFilter.RET_TRACE, run(bytes, 9, SeccompFilter.AUDIT_ARCH_X86_64, new long[] {0, 4096, 3, 0x02, 3, 0}));
        assertEquals(SeccompFilter.RET_ALLOW, run(bytes, -1, SeccompFilter.AUDIT_ARCH_X86_64));
        assertEquals(SeccompFilter.RET_TRACE, run(bytes, 9, AUDIT_ARCH_I386, new long[] {0, 4096, 1, 0x12, high | 3, 0}));
    }

    @Test
    void emptySetStopsOnlyUnusualCalls() {
        check(new BitSet());
    }

    @Test
    void fullSetStopsEverything() {
        BitSet all = new BitSet();
        all.set(0, LIMIT);
        check(all);
        // the complement is empty, so the program is the prologue and one return
        assertEquals(7, SeccompFilter.program(SeccompFilter.AUDIT_ARCH_X86_64, all, LIMIT).size());
    }

    @Test
    void singleCallsAtTheEdges() {
        check(of(0));
        check(of(1));
        check(of(257));
        check(of(LIMIT - 1));
        check(of(0, LIMIT - 1));
    }

    @Test
    void everythingButOne() {
        for (int excluded : new int[]{0, 39, 110, LIMIT - 1}) {
            BitSet b = new BitSet();
            b.set(0, LIMIT);
            b.clear(excluded);
            check(b);
        }
    }

    @Test
    void runsOfConsecutiveNumbers() {
        BitSet b = new BitSet();
        b.set(0, 10);
        b.set(20, 21);
        b.set(100, 200);
        b.set(LIMIT - 5, LIMIT);
        check(b);
    }

    @Test
    void alternatingNumbersFitTheJumpLimits() {
        BitSet b = new BitSet();
        for (int nr = 0; nr < LIMIT; nr += 2) b.set(nr);
        check(b);
        BitSet odd = new BitSet();
        for (int nr = 1; nr < LIMIT; nr += 2) odd.set(nr);
        check(odd);
    }

    @Test
    void randomSets() {
        Random random = new Random(5);
        for (int round = 0; round < 200; round++) {
            BitSet b = new BitSet();
            double density = random.nextDouble();
            for (int nr = 0; nr < LIMIT; nr++) if (random.nextDouble() < density) b.set(nr);
            check(b);
        }
    }

    @Test
    void theSmallerSideIsEncoded() {
        BitSet most = new BitSet();
        most.set(0, LIMIT);
        most.clear(39);
        // prologue (6) + one jeq and its return (2) + the default return
        assertEquals(9, SeccompFilter.program(SeccompFilter.AUDIT_ARCH_X86_64, most, LIMIT).size());
        assertEquals(9, SeccompFilter.program(SeccompFilter.AUDIT_ARCH_X86_64, of(39), LIMIT).size());
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> SeccompFilter.program(SeccompFilter.AUDIT_ARCH_X86_64, new BitSet(), 0));
        assertThrows(IllegalArgumentException.class, () -> new SeccompFilter.Instruction(SeccompFilter.JEQ_K, 256, 0, 0));
    }
}
