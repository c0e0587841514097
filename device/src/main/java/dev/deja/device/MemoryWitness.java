package dev.deja.device;

import dev.deja.device.syscall.TraceeMemory;
import dev.deja.device.x86.CpuidLeaf1;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A witness of the memory a thread's registers point at, part of a preemption point since format
 * version 5. An interpreter's loop whose count lives in the heap (python's {@code while n[0] < 20:
 * x += 1} keeps {@code x} in a dict, its value in an int object) passes the same instruction with
 * the same registers and the same stack once per turn: registers and stack hashes cannot tell its
 * turns apart, and replay stopped it at the first turn instead of the recorded one. The objects the
 * registers point at, and those they point at in turn, usually can.
 *
 * <p>Two levels, each hashed on its own:
 * <ol>
 *   <li>Each general register (r15 to rdi in user_regs_struct order; not rsp, whose stack the stack
 *       hashes cover) whose value points into private writable memory that is neither the thread's
 *       stack nor code (heap, a library's data, an anonymous mapping) contributes a window of
 *       {@link #BEFORE} bytes before its value (rounded down to 8) and {@link #AFTER} from it,
 *       clipped to the value's page: replay reads the same window knowing only the registers.
 *       {@code mask} has bit i set for each register i that did.</li>
 *   <li>Each word of those windows that points into such memory in turn contributes the
 *       {@link #POINTEE} bytes from where it points (clipped to its page), up to {@link #MAX_POINTERS}
 *       of them; their addresses are part of the witness. Replay reads them only when the first
 *       level matched: the words are then the recorded pointers.</li>
 * </ol>
 * Each level's hash is FNV-1a over its windows' 8-byte words in order, xor the words hashed; never 0
 * (which stands for none). Since format version 6 each word is hashed {@link CpuidLeaf1#withoutApicIds
 * without the APIC IDs} cpuid leaf 1 leaves in memory: a program keeps that leaf's EBX (HotSpot's VM_Version,
 * glibc's cpu_features), whose top byte is the ID of the CPU the instruction ran on, and on these
 * virtual machines even the host's (one vCPU answered 3 values in 2 s): deja cannot trap cpuid, so
 * replay's copy differs from the recording's, and a point whose registers point near it was never found.
 * Since 2026-12-06 the recorder leaves out a window near a dump of cpuid's leaves ({@link #nearCpuidDump}):
 * the topology leaves kept after leaf 1 differ in all their bits; replay needs no change for it.
 *
 * <p>Pure: the recorder takes the mappings from /proc/PID/maps; replay reads the windows once the
 * registers and the stack match (in the thread, in the guard stub, when it can).
 *
 * @param mask     the registers whose windows were hashed (0: none, and the rest is empty)
 * @param pointers the addresses of the second level's windows, in the order hashed
 * @param hash     the first level's hash
 * @param deepHash the second level's hash (0 when {@code pointers} is empty)
 * @param apicIdsLeftOut whether the hashes leave the APIC IDs out ({@link CpuidLeaf1}): recorded by
 *                 format version 6 and later; the point's stack hashes follow it ({@link RunTarget#apicIdsLeftOut})
 */
public record MemoryWitness(int mask, long[] pointers, long hash, long deepHash, boolean apicIdsLeftOut) {
    /** Runs of white space, as /proc's files separate their fields (compiled once: String.split would at every call). */
    private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile("\\s+");
    /** Bytes hashed before a register's value (an object's header, the values below an interpreter's stack pointer). */
    static final int BEFORE = 64;
    /** Bytes hashed from a register's value (an object's fields, a frame's locals). */
    static final int AFTER = 192;
    /** Bytes hashed from a pointer found in a register's window (an int object's value, a dict's version). */
    static final int POINTEE = 64;
    /** The second level's windows, at most. */
    static final int MAX_POINTERS = 64;
    private static final long PAGE = 4096;
    /** The registers that may contribute (user_regs_struct indices 0..14: r15 to rdi). */
    private static final int REGISTERS = X86Regs.RDI + 1;
    static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    /** DEJA_NO_WITNESS=1: replay ignores the witnesses (to tell whether one is why a point is not found; docs/replay.md). */
    static final boolean CHECKED = System.getenv("DEJA_NO_WITNESS") == null;

    /**
     * No witness: a point whose registers point at no such memory, in this deja's format (an older recording's
     * point is given one in its own format, which its stack hashes follow).
     */
    public static final MemoryWitness NONE = new MemoryWitness(0, new long[0], 0, 0, true);

    public MemoryWitness {
        pointers = pointers.clone();
    }

    @Override
    public long[] pointers() {
        return pointers.clone();
    }

    /** A mapping of the process: [start, end) and whether the witness may read it. */
    public record Range(long start, long end, boolean eligible) {
    }

    /**
     * The witness of a thread with registers {@code regs}; {@code ranges} are its process's mappings
     * sorted by start ({@link #ranges}).
     */
    public static MemoryWitness of(long[] regs, List<Range> ranges, TraceeMemory memory) {
        Range stack = find(ranges, regs[X86Regs.RSP]);
        int mask = 0;
        long h = FNV_OFFSET;
        long words = 0;
        List<Long> pointers = new ArrayList<>();
        byte[] window = new byte[BEFORE + AFTER];
        for (int i = 0; i < REGISTERS; i++) {
            if (!eligible(ranges, stack, regs[i])) continue;
            long from = windowStart(regs[i]);
            int length = (int) (windowEnd(regs[i]) - from);
            if (memory.read(from, window, 0, length) != length) continue; // unmapped since the maps were read
            if (nearCpuidDump(memory, find(ranges, regs[i]), from, from + length)) continue;
            mask |= 1 << i;
            h = mix(h, window, length, true);
            words += length / 8;
            for (int w = 0; w + 8 <= length && pointers.size() < MAX_POINTERS; w += 8) {
                long p = word(window, w);
                if (eligible(ranges, stack, p) && !nearCpuidDump(memory, find(ranges, p), pointeeStart(p), pointeeEnd(p))) {
                    pointers.add(p);
                }
            }
        }
        if (mask == 0) return NONE;
        long[] deep = pointers.stream().mapToLong(Long::longValue).toArray();
        long deepHash = deep.length == 0 ? 0 : hashWindows(pointerWindows(deep), memory, true);
        if (deep.length > 0 && deepHash == UNREADABLE) return NONE;
        return new MemoryWitness(mask, deep, nonZero(h ^ words), deepHash, true);
    }

    /** Bytes before a window also searched for cpuid's answers: HotSpot (JDK 25) keeps leaf 0xB's last x2APIC ID 92 bytes after leaf 1's EBX. */
    static final int CPUID_LOOK_BACK = 256;

    /**
     * Whether [from, to), or the {@link #CPUID_LOOK_BACK} bytes before it in its mapping, hold a dump of
     * cpuid's answers: a 32-bit half shaped as leaf 1's EBX ({@link CpuidLeaf1}) 16 bytes after 12 bytes of
     * printable ASCII (leaf 0's vendor name, then leaf 1's EAX), as HotSpot's VM_Version::_cpuid_info
     * starts. Such a window is left out of the witness whole, the recorder's choice alone (replay hashes
     * the windows the witness names): the topology leaves a dump keeps after leaf 1 (0xB, 0x1F: EDX is the
     * x2APIC ID of the CPU the instruction ran on) differ between a recording and its replay as leaf 1's
     * top byte does, in all 32 bits, with no shape to tell them by. A flaky-cache fork's C2 compiler thread,
     * preempted in {@code CallStaticJavaDirectNode::emit} with rax on {@code VM_Version::_features}, was
     * never found on a replay that ran on the other CPU. Leaf 1 alone (glibc's cpu_features, a program's own
     * samples beside its loop's count) keeps its window: its APIC IDs are hashed out.
     */
    static boolean nearCpuidDump(TraceeMemory memory, Range mapping, long from, long to) {
        long start = Math.max(from - CPUID_LOOK_BACK, mapping.start()) & -4L;
        byte[] data = new byte[(int) (to - start)];
        int n = memory.read(start, data, 0, data.length);
        for (int at = 16; at + 4 <= n; at += 4) {
            long half = (data[at] & 0xff) | (data[at + 1] & 0xff) << 8 | (long) (data[at + 2] & 0xff) << 16
                    | (long) (data[at + 3] & 0xff) << 24;
            if (CpuidLeaf1.lowHalfMayHoldApicId(half) && printable(data, at - 16, at - 4)) return true;
        }
        return false;
    }

    private static boolean printable(byte[] data, int from, int to) {
        for (int i = from; i < to; i++) if (data[i] < 0x20 || data[i] > 0x7e) return false;
        return true;
    }

    private static boolean eligible(List<Range> ranges, Range stack, long address) {
        Range r = find(ranges, address);
        return r != null && r.eligible() && r != stack;
    }

    /** What the hashes answer when a window cannot be read whole (never a hash). */
    static final long UNREADABLE = 0;

    /** The first level's windows, [start, end) for each register in {@code mask}, in register order. */
    public static long[][] registerWindows(long[] regs, int mask) {
        long[][] out = new long[Integer.bitCount(mask & ((1 << REGISTERS) - 1))][];
        int n = 0;
        for (int i = 0; i < REGISTERS; i++) {
            if ((mask & (1 << i)) != 0) out[n++] = new long[] {windowStart(regs[i]), windowEnd(regs[i])};
        }
        return out;
    }

    /** The second level's windows, [start, end) at each of {@code pointers}. */
    public static long[][] pointerWindows(long[] pointers) {
        long[][] out = new long[pointers.length][];
        for (int i = 0; i < pointers.length; i++) out[i] = new long[] {pointeeStart(pointers[i]), pointeeEnd(pointers[i])};
        return out;
    }

    /** The first level's hash: the windows of the registers in {@code mask}. */
    public static long hash(long[] regs, int mask, TraceeMemory memory, boolean apicIdsLeftOut) {
        return hashWindows(registerWindows(regs, mask), memory, apicIdsLeftOut);
    }

    /**
     * FNV-1a over the windows' 8-byte words in order, xor the words hashed, never 0; {@link #UNREADABLE}
     * when one cannot be read whole.
     */
    static long hashWindows(long[][] windows, TraceeMemory memory, boolean apicIdsLeftOut) {
        long h = FNV_OFFSET;
        long words = 0;
        byte[] window = new byte[Math.max(BEFORE + AFTER, POINTEE)];
        for (long[] w : windows) {
            int length = (int) (w[1] - w[0]);
            if (memory.read(w[0], window, 0, length) != length) return UNREADABLE;
            h = mix(h, window, length, apicIdsLeftOut);
            words += length / 8;
        }
        return nonZero(h ^ words);
    }

    /** FNV-1a from {@code h} over the 8-byte words of {@code window[0, length)} (length a multiple of 8). */
    static long mix(long h, byte[] window, int length, boolean apicIdsLeftOut) {
        for (int w = 0; w < length; w += 8) {
            long word = word(window, w);
            h = (h ^ (apicIdsLeftOut ? CpuidLeaf1.withoutApicIds(word) : word)) * FNV_PRIME;
        }
        return h;
    }

    /** Whether a thread with registers {@code regs} (the point's) has the memory this witness saw. */
    public boolean matches(long[] regs, TraceeMemory memory) {
        if (mask == 0 || !CHECKED) return true;
        if (hash(regs, mask, memory, apicIdsLeftOut) != hash) return false;
        return pointers.length == 0 || hashWindows(pointerWindows(pointers), memory, apicIdsLeftOut) == deepHash;
    }

    private static long nonZero(long h) {
        return h == UNREADABLE ? 1 : h;
    }

    private static long word(byte[] b, int at) {
        long v = 0;
        for (int k = 7; k >= 0; k--) v = (v << 8) | (b[at + k] & 0xff);
        return v;
    }

    /** Where a register's window starts: {@link #BEFORE} bytes before its value rounded down to 8, not before its page. */
    static long windowStart(long value) {
        long aligned = value & -8L;
        return Math.max(aligned - BEFORE, aligned & -PAGE); // user addresses are below 2^47: no wrap
    }

    /** Where a register's window ends: {@link #AFTER} bytes from its value rounded down to 8, not past its page. */
    static long windowEnd(long value) {
        long aligned = value & -8L;
        return Math.min(aligned + AFTER, (aligned & -PAGE) + PAGE);
    }

    static long pointeeStart(long pointer) {
        return pointer & -8L;
    }

    static long pointeeEnd(long pointer) {
        long aligned = pointer & -8L;
        return Math.min(aligned + POINTEE, (aligned & -PAGE) + PAGE);
    }

    private static Range find(List<Range> ranges, long address) {
        int lo = 0;
        int hi = ranges.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Range r = ranges.get(mid);
            if (Long.compareUnsigned(address, r.start()) < 0) hi = mid - 1;
            else if (Long.compareUnsigned(address, r.end()) >= 0) lo = mid + 1;
            else return r;
        }
        return null;
    }

    /**
     * The ranges of /proc/PID/maps text: eligible when private, writable and not executable, and not
     * a kernel-provided area ([vvar], [vdso], [vsyscall]); shared memory another process may change
     * is left out, as is code (replay plants breakpoints in it).
     */
    public static List<Range> ranges(String maps) {
        List<Range> out = new ArrayList<>();
        for (String line : maps.split("\n")) {
            String[] f = SPACES.split(line.trim(), 6);
            if (f.length < 5) continue;
            int dash = f[0].indexOf('-');
            if (dash < 0 || f[1].length() != 4) continue;
            String perms = f[1];
            String path = f.length == 6 ? f[5] : "";
            boolean eligible = perms.charAt(0) == 'r' && perms.charAt(1) == 'w' && perms.charAt(2) != 'x'
                    && perms.charAt(3) == 'p' && !path.startsWith("[v");
            out.add(new Range(Long.parseUnsignedLong(f[0].substring(0, dash), 16),
                    Long.parseUnsignedLong(f[0].substring(dash + 1), 16), eligible));
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MemoryWitness w && w.mask == mask && Arrays.equals(w.pointers, pointers) && w.hash == hash
                && w.deepHash == deepHash && w.apicIdsLeftOut == apicIdsLeftOut;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hash) * 31 + mask;
    }
}
