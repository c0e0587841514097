package dev.deja.device.syscall;

import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Captures the memory a syscall reads (at entry) and writes (at exit), generically over the
 * {@link Schemas}. Per-number plans are precomputed in arrays: a call without memory arguments
 * costs an array load and returns the shared empty list.
 *
 * <p>Bounds: a string stops at its NUL or at {@link #PATH_MAX} bytes; one block holds at most
 * {@link #MAX_BLOCK} bytes (larger buffers are cut there); an iovec or mmsghdr array at most
 * {@link #MAX_IOV} entries; an argv at most {@link #MAX_STRV} strings. Unreadable memory is
 * skipped, a partly readable buffer keeps its readable prefix.
 */
public final class MemoryCapture {

    public static final int PATH_MAX = 4096;
    /** Largest single block captured: 64 MiB. A larger buffer is cut, its tail is not recorded. */
    public static final int MAX_BLOCK = 64 << 20;
    public static final int MAX_IOV = 1024;
    public static final int MAX_STRV = 65536;
    static final int SOCKADDR_MAX = 128;

    private static final Map<Arch, MemoryCapture> CACHE = new EnumMap<>(Arch.class);

    private final Arch arch;
    private final Schemas schemas;
    private final int[][] inArgs;
    private final ArgSpec[][] inSpecs;
    private final int[][] outArgs;
    private final ArgSpec[][] outSpecs;
    private final int[] staticFlags;
    private final int ioctlNr;

    private MemoryCapture(Arch arch) {
        this.arch = arch;
        this.schemas = Schemas.of(arch);
        int n = schemas.table().size();
        inArgs = new int[n][];
        inSpecs = new ArgSpec[n][];
        outArgs = new int[n][];
        outSpecs = new ArgSpec[n][];
        staticFlags = new int[n];
        for (int nr = 0; nr < n; nr++) {
            Schema s = schemas.get(nr);
            if (s == null) {
                // A syscall deja has no schema for may write memory deja cannot size.
                if (schemas.table().knownName(nr) != null) staticFlags[nr] = SyscallEvent.UNKNOWN_WRITES;
                continue;
            }
            if (s.unknownWrites()) staticFlags[nr] = SyscallEvent.UNKNOWN_WRITES;
            List<Integer> ia = new ArrayList<>();
            List<ArgSpec> is = new ArrayList<>();
            List<Integer> oa = new ArrayList<>();
            List<ArgSpec> os = new ArrayList<>();
            for (int i = 0; i < s.argCount(); i++) {
                ArgSpec a = s.arg(i);
                if (hasInput(a.kind())) {
                    ia.add(i);
                    is.add(a);
                }
                if (hasOutput(a.kind())) {
                    oa.add(i);
                    os.add(a);
                }
            }
            if (!ia.isEmpty()) {
                inArgs[nr] = ia.stream().mapToInt(Integer::intValue).toArray();
                inSpecs[nr] = is.toArray(ArgSpec[]::new);
            }
            if (!oa.isEmpty()) {
                outArgs[nr] = oa.stream().mapToInt(Integer::intValue).toArray();
                outSpecs[nr] = os.toArray(ArgSpec[]::new);
            }
        }
        ioctlNr = schemas.table().number("ioctl").orElse(-1);
    }

    public static MemoryCapture of(Arch arch) {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(arch, MemoryCapture::new);
        }
    }

    public Arch arch() {
        return arch;
    }

    private static boolean hasInput(ArgKind k) {
        return switch (k) {
            case PATH, STR, IBUF, IN, INARR, CIN, SAIN, IOVIN, IOVOUT, MSGIN, MSGOUT, MMSGIN, MMSGOUT, STRV, SIGSET,
                 SLEN, IO, IOARR, FDSET, IOCTLARG, FCNTLARG, FUTEXVAL2, PRCTLARG, FILEHANDLE, INODES -> true;
            default -> false;
        };
    }

    private static boolean hasOutput(ArgKind k) {
        return switch (k) {
            case OBUF, OBUFARG, OSTR, OUT, OUTARR, OUTRET, SAOUT, OLEN, SLEN, IOVOUT, MSGOUT, MMSGOUT, FDPAIR,
                 OSIGSET, DENTS, IO, IOARR, FDSET, IOCTLARG, FCNTLARG, PRCTLARG, ARCHPRCTLARG, WSTATUS,
                 FILEHANDLE, OPAGES, ONODES -> true;
            default -> false;
        };
    }

    /** SyscallEvent flags the call deserves (UNKNOWN_WRITES for an ioctl of unknown direction). */
    public int flags(int nr, long[] args) {
        if (nr < 0 || nr >= staticFlags.length) return SyscallEvent.UNKNOWN_WRITES;
        if (nr == ioctlNr) return Ioctls.unknownWrites(args[1]) ? SyscallEvent.UNKNOWN_WRITES : 0;
        return staticFlags[nr];
    }

    /** Input buffers to keep at syscall entry (paths, written data, sockaddrs, iovec contents, structs passed in, argv strings...). */
    public List<MemoryBlock> inputs(int nr, long[] args, TraceeMemory mem) {
        if (nr < 0 || nr >= inArgs.length) return List.of();
        int[] idx = inArgs[nr];
        if (idx == null) return List.of();
        ArgSpec[] specs = inSpecs[nr];
        List<MemoryBlock> out = new ArrayList<>(4);
        for (int j = 0; j < idx.length; j++) {
            int i = idx[j];
            long p = args[i];
            if (p == 0 && specs[j].kind() != ArgKind.IOCTLARG) continue;
            input(specs[j], i, p, args, mem, out);
        }
        return out;
    }

    /** Memory the kernel wrote, at syscall exit, sized by the schema and the result. */
    public List<MemoryBlock> outputs(int nr, long[] args, long result, List<MemoryBlock> inputs, TraceeMemory mem) {
        if (nr < 0 || nr >= outArgs.length) return List.of();
        int[] idx = outArgs[nr];
        if (idx == null || (result < 0 && result >= -4095)) return List.of();
        ArgSpec[] specs = outSpecs[nr];
        List<MemoryBlock> out = new ArrayList<>(4);
        for (int j = 0; j < idx.length; j++) {
            int i = idx[j];
            long p = args[i];
            if (p == 0) continue;
            output(specs[j], i, p, args, result, inputs, mem, out);
        }
        return out;
    }

    // ---------------------------------------------------------------- entry

    private void input(ArgSpec a, int i, long p, long[] args, TraceeMemory mem, List<MemoryBlock> out) {
        switch (a.kind()) {
            case PATH, STR -> addString(out, i, p, mem);
            case IBUF, SIGSET -> add(out, i, p, unsigned(args[a.n()]), mem);
            case IN, IO -> add(out, i, p, a.size(), mem);
            case INARR, IOARR -> add(out, i, p, mul(args[a.n()], a.size()), mem);
            case CIN -> add(out, i, p, Math.min(unsigned(args[a.n()]), PATH_MAX), mem);
            case SAIN -> add(out, i, p, Math.min(unsigned(args[a.n()]), SOCKADDR_MAX), mem);
            case SLEN, FILEHANDLE -> add(out, i, p, a.kind() == SLEN_KIND ? 4 : 8, mem);
            case FDSET -> add(out, i, p, fdsetBytes(args[a.n()]), mem);
            case INODES -> add(out, i, p, nodeMaskBytes(args[a.n()]), mem);
            case IOVIN -> iovecs(out, i, p, args[a.n()], true, mem);
            case IOVOUT -> iovecs(out, i, p, args[a.n()], false, mem);
            case MSGIN -> msghdr(out, i, p, true, mem);
            case MSGOUT -> msghdr(out, i, p, false, mem);
            case MMSGIN, MMSGOUT -> {
                long vlen = Math.min(unsigned(args[a.n()]), MAX_IOV);
                byte[] arr = read(mem, p, vlen * 64);
                if (arr == null) return;
                out.add(new MemoryBlock(i, p, arr));
                for (int k = 0; k + 64 <= arr.length; k += 64) msghdrParts(out, arr, k, a.kind() == ArgKind.MMSGIN, mem);
            }
            case STRV -> strv(out, i, p, mem);
            case FUTEXVAL2 -> {
                if (Decode.futexHasTimeout((int) args[1])) add(out, i, p, 16, mem);
            }
            case FCNTLARG -> {
                int size = Decode.fcntlArgSize((int) args[1]);
                if (size > 0) add(out, i, p, size, mem);
            }
            case PRCTLARG -> {
                if ((int) args[0] == 15) add(out, i, p, 16, mem); // PR_SET_NAME
            }
            case IOCTLARG -> {
                if (p == 0) return;
                int size = Ioctls.inputSize(args[1]);
                if (size > 0) add(out, i, p, size, mem);
            }
            default -> {
            }
        }
    }

    private static final ArgKind SLEN_KIND = ArgKind.SLEN;

    // ---------------------------------------------------------------- exit

    /**
     * One byte per page of a {@code length}-byte range (mincore's vector). 4 KiB pages: those of x86_64, and
     * of the usual aarch64 kernels (a 16 or 64 KiB-page kernel would get a longer capture than it wrote).
     */
    static long pages(long length) {
        long pageSize = 4096;
        long len = unsigned(length);
        return len / pageSize + (len % pageSize == 0 ? 0 : 1);
    }

    private void output(ArgSpec a, int i, long p, long[] args, long result, List<MemoryBlock> inputs,
                        TraceeMemory mem, List<MemoryBlock> out) {
        switch (a.kind()) {
            case OBUF, OSTR, DENTS -> add(out, i, p, Math.min(unsigned(args[a.n()]), result), mem);
            case OBUFARG, OSIGSET -> add(out, i, p, unsigned(args[a.n()]), mem);
            case OPAGES -> add(out, i, p, pages(args[a.n()]), mem);
            case ONODES -> add(out, i, p, nodeMaskBytes(args[a.n()]), mem);
            case OUT, IO -> add(out, i, p, a.size(), mem);
            case OUTARR, IOARR -> add(out, i, p, mul(args[a.n()], a.size()), mem);
            case OUTRET -> add(out, i, p, mul(Math.min(result, unsigned(args[a.n()])), a.size()), mem);
            case FDSET -> add(out, i, p, fdsetBytes(args[a.n()]), mem);
            case SLEN, WSTATUS -> {
                if (a.kind() == ArgKind.WSTATUS && result == 0) return; // WNOHANG, nothing reaped
                add(out, i, p, 4, mem);
            }
            case FDPAIR -> add(out, i, p, 8, mem);
            case SAOUT, OLEN -> {
                long lenPtr = args[a.n()];
                long size = lengthWord(lenPtr, inputs, mem, a.kind() == ArgKind.SAOUT ? SOCKADDR_MAX : MAX_BLOCK);
                if (size > 0) add(out, i, p, size, mem);
            }
            case IOVOUT -> {
                byte[] iov = Bytes.at(inputs, p);
                if (iov != null) fillIovecs(out, iov, 0, iov.length / 16, result, mem);
            }
            case MSGOUT -> {
                byte[] entry = Bytes.find(inputs, p, 56);
                byte[] exit = read(mem, p, 56);
                if (exit == null) return;
                out.add(new MemoryBlock(i, p, exit));
                msgOut(out, entry, 0, exit, 0, result, inputs, mem);
            }
            case MMSGOUT -> {
                if (result <= 0) return;
                long n = Math.min(result, Math.min(unsigned(args[a.n()]), MAX_IOV));
                byte[] entry = Bytes.find(inputs, p, n * 64);
                byte[] exit = read(mem, p, n * 64);
                if (exit == null) return;
                out.add(new MemoryBlock(i, p, exit));
                for (int k = 0; k + 64 <= exit.length; k += 64) {
                    long len = Bytes.u32(exit, k + 56);
                    msgOut(out, entry, k, exit, k, len, inputs, mem);
                }
            }
            case FCNTLARG -> {
                int cmd = (int) args[1];
                if (Decode.fcntlWrites(cmd)) add(out, i, p, Decode.fcntlArgSize(cmd), mem);
            }
            case PRCTLARG -> {
                if ((int) args[0] == 16) add(out, i, p, 16, mem); // PR_GET_NAME
            }
            case ARCHPRCTLARG -> {
                int code = (int) args[0];
                if (code == 0x1003 || code == 0x1004) add(out, i, p, 8, mem); // ARCH_GET_FS, ARCH_GET_GS
            }
            case IOCTLARG -> {
                int size = Ioctls.outputSize(args[1]);
                if (size > 0) add(out, i, p, size, mem);
            }
            case FILEHANDLE -> {
                byte[] head = read(mem, p, 8);
                if (head == null || head.length < 8) return;
                long bytes = Math.min(Bytes.u32(head, 0), 128);
                add(out, i, p, 8 + bytes, mem);
            }
            default -> {
            }
        }
    }

    /** min(the length word at entry, the length word the kernel wrote back). */
    private long lengthWord(long lenPtr, List<MemoryBlock> inputs, TraceeMemory mem, long cap) {
        if (lenPtr == 0) return 0;
        byte[] now = read(mem, lenPtr, 4);
        if (now == null || now.length < 4) return 0;
        long size = Bytes.u32(now, 0);
        byte[] before = Bytes.find(inputs, lenPtr, 4);
        if (before != null) size = Math.min(size, Bytes.u32(before, 0));
        return Math.min(size, cap);
    }

    private void msgOut(List<MemoryBlock> out, byte[] entry, int eoff, byte[] exit, int xoff, long result,
                        List<MemoryBlock> inputs, TraceeMemory mem) {
        byte[] hdr = entry != null ? entry : exit;
        int hoff = entry != null ? eoff : xoff;
        long name = Bytes.i64(hdr, hoff);
        long nameLen = Math.min(Bytes.u32(exit, xoff + 8), Math.min(Bytes.u32(hdr, hoff + 8), SOCKADDR_MAX));
        if (name != 0 && nameLen > 0) add(out, -1, name, nameLen, mem);
        long iovPtr = Bytes.i64(hdr, hoff + 16);
        byte[] iov = Bytes.at(inputs, iovPtr);
        if (iov != null) fillIovecs(out, iov, 0, iov.length / 16, result, mem);
        long ctl = Bytes.i64(hdr, hoff + 32);
        long ctlLen = Math.min(Bytes.i64(exit, xoff + 40), Bytes.i64(hdr, hoff + 40));
        if (ctl != 0 && ctlLen > 0) add(out, -1, ctl, ctlLen, mem);
    }

    /** The iovec buffers the kernel filled in order, up to total bytes. */
    private void fillIovecs(List<MemoryBlock> out, byte[] iov, int off, int count, long total, TraceeMemory mem) {
        long left = total;
        for (int k = 0; k < count && left > 0; k++) {
            long base = Bytes.i64(iov, off + k * 16);
            long len = Math.min(unsigned(Bytes.i64(iov, off + k * 16 + 8)), left);
            if (len > 0 && base != 0) add(out, -1, base, len, mem);
            left -= len;
        }
    }

    // ---------------------------------------------------------------- helpers

    private void iovecs(List<MemoryBlock> out, int arg, long p, long count, boolean withData, TraceeMemory mem) {
        long n = Math.min(unsigned(count), MAX_IOV);
        byte[] iov = read(mem, p, n * 16);
        if (iov == null) return;
        out.add(new MemoryBlock(arg, p, iov));
        if (!withData) return;
        long budget = MAX_BLOCK;
        for (int k = 0; k + 16 <= iov.length && budget > 0; k += 16) {
            long base = Bytes.i64(iov, k);
            long len = Math.min(unsigned(Bytes.i64(iov, k + 8)), budget);
            if (base != 0 && len > 0) {
                add(out, -1, base, len, mem);
                budget -= len;
            }
        }
    }

    private void msghdr(List<MemoryBlock> out, int arg, long p, boolean withData, TraceeMemory mem) {
        byte[] h = read(mem, p, 56);
        if (h == null || h.length < 56) return;
        out.add(new MemoryBlock(arg, p, h));
        msghdrParts(out, h, 0, withData, mem);
    }

    /** The parts of the msghdr at h[off..]: its iovec array, and for a send its data, name and control. */
    private void msghdrParts(List<MemoryBlock> out, byte[] h, int off, boolean withData, TraceeMemory mem) {
        long name = Bytes.i64(h, off);
        long nameLen = Bytes.u32(h, off + 8);
        long iov = Bytes.i64(h, off + 16);
        long iovLen = Bytes.i64(h, off + 24);
        long ctl = Bytes.i64(h, off + 32);
        long ctlLen = Bytes.i64(h, off + 40);
        if (iov != 0 && iovLen > 0) iovecs(out, -1, iov, iovLen, withData, mem);
        if (withData) {
            if (name != 0 && nameLen > 0) add(out, -1, name, Math.min(nameLen, SOCKADDR_MAX), mem);
            if (ctl != 0 && ctlLen > 0) add(out, -1, ctl, ctlLen, mem);
        }
        // for a receive, the kernel fills msg_name, msg_control and the buffers: read at exit
    }

    private void strv(List<MemoryBlock> out, int arg, long p, TraceeMemory memory) {
        // The array and its strings lie together (an exec's argv and environment on the stack): read by pages,
        // not by pointer and by string (an exec of a shell's child read its environment in ~80 reads).
        TraceeMemory mem = new PageCachedMemory(memory);
        byte[] ptrs = new byte[8 * 64];
        int used = 0;
        int count = 0;
        while (count < MAX_STRV) {
            if (used + 8 > ptrs.length) ptrs = java.util.Arrays.copyOf(ptrs, ptrs.length * 2);
            int got = mem.read(p + used, ptrs, used, 8);
            if (got < 8) break;
            used += 8;
            if (Bytes.i64(ptrs, used - 8) == 0) break;
            count++;
        }
        if (used == 0) return;
        out.add(new MemoryBlock(arg, p, java.util.Arrays.copyOf(ptrs, used)));
        for (int k = 0; k + 8 <= used; k += 8) {
            long s = Bytes.i64(ptrs, k);
            if (s != 0) addString(out, -1, s, mem);
        }
    }

    private static void addString(List<MemoryBlock> out, int arg, long p, TraceeMemory mem) {
        byte[] s = readString(mem, p, PATH_MAX);
        if (s != null) out.add(new MemoryBlock(arg, p, s));
    }

    /**
     * A NUL-terminated string, read up to page boundaries so that a string ending just before an
     * unmapped page is still read whole. The NUL is kept when found; a string without one was cut
     * (at max bytes or at a fault).
     */
    static byte[] readString(TraceeMemory mem, long p, int max) {
        byte[] buf = new byte[Math.min(max, 256)];
        int len = 0;
        while (len < max) {
            long addr = p + len;
            int chunk = (int) Math.min(4096 - (addr & 4095), max - len);
            chunk = Math.min(chunk, 256);
            if (len + chunk > buf.length) buf = java.util.Arrays.copyOf(buf, Math.min(max, Math.max(buf.length * 2, len + chunk)));
            int got = mem.read(addr, buf, len, chunk);
            if (got <= 0) break;
            for (int k = len; k < len + got; k++) {
                if (buf[k] == 0) return java.util.Arrays.copyOf(buf, k + 1);
            }
            len += got;
            if (got < chunk) break;
        }
        return len == 0 ? null : java.util.Arrays.copyOf(buf, len);
    }

    private static void add(List<MemoryBlock> out, int arg, long p, long len, TraceeMemory mem) {
        byte[] b = read(mem, p, len);
        if (b != null) out.add(new MemoryBlock(arg, p, b));
    }

    /** Up to len bytes at p (cut at MAX_BLOCK), the readable prefix, or null when none is. */
    static byte[] read(TraceeMemory mem, long p, long len) {
        if (p == 0 || len <= 0) return null;
        int n = (int) Math.min(len, MAX_BLOCK);
        byte[] b = new byte[n];
        int got = mem.read(p, b, 0, n);
        if (got <= 0) return null;
        return got == n ? b : java.util.Arrays.copyOf(b, Math.min(got, n));
    }

    private static long unsigned(long v) {
        return v < 0 ? Long.MAX_VALUE : v;
    }

    private static long mul(long count, int size) {
        long c = unsigned(count);
        return c > MAX_BLOCK / Math.max(size, 1) ? MAX_BLOCK : c * size;
    }

    /**
     * The bytes of a NUMA node mask of {@code maxnode} bits as the kernel reads or writes them
     * (get_nodes/copy_nodes_to_user: whole longs for maxnode - 1 bits; get_mempolicy clears the
     * words past the machine's nodes too). The kernel refuses a mask of more than a page.
     */
    static long nodeMaskBytes(long maxnode) {
        long bits = Math.min(unsigned(maxnode), 4096L * 8 + 1) - 1;
        return bits <= 0 ? 0 : (bits + 63) / 64 * 8;
    }

    private static long fdsetBytes(long nfds) {
        long n = Math.min(Math.max(nfds, 0), 1 << 20);
        return (n + 63) / 64 * 8;
    }
}
