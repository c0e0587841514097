package dev.deja.device.ffm;

import static dev.deja.device.syscall.AtFlags.AT_EMPTY_PATH;
import static dev.deja.device.syscall.AtFlags.AT_FDCWD;
import static dev.deja.device.syscall.AtFlags.AT_STATX_DONT_SYNC;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Calls deja makes in its own process on behalf of a stopped tracee: syscall(2) with the tracee's
 * arguments, its descriptors borrowed with pidfd_getfd(2) from the process pidfd_open(2) names, its
 * output in a scratch buffer that process_vm_writev(2) then copies into the tracee. x86_64 numbers.
 * One instance per tracing thread: its arena is confined.
 */
public final class ProxyCalls implements AutoCloseable {
    /** The largest output a call may have here: a read asking for more runs in the tracee instead. */
    public static final int MAX_OUT = 1 << 20;
    /** PATH_MAX, the kernel's limit on a path argument. */
    public static final int MAX_PATH = 4096;

    private static final long SYS_FSTAT = 5;
    private static final long SYS_PIDFD_OPEN = 434;
    private static final long SYS_PIDFD_GETFD = 438;
    private static final long SYS_OPENAT = 257;
    private static final long SYS_CLOSE = 3;
    private static final long SYS_OPENAT2 = 437;
    private static final long SYS_STATX = 332;
    private static final long SYS_POLL = 7;
    private static final long SYS_READ = 0;
    private static final long RESOLVE_NO_XDEV = 0x01;
    private static final int STATX_MNT_ID = 0x1000;
    private static final short POLLPRI = 0x002;
    private static final int O_NOFOLLOW = 0400000;
    private static final long RESOLVE_NO_MAGICLINKS = 0x02;
    private static final int O_PATH = 010000000;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_CLOEXEC = 02000000;
    private static final int S_IFMT = 0170000;
    private static final int ENAMETOOLONG = 36;

    private static final MethodHandle SYSCALL = Native.variadicWithErrno("syscall", FunctionDescriptor.of(
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), 1);
    private static final MethodHandle WRITEV = Native.withErrno("process_vm_writev", FunctionDescriptor.of(
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = Native.callState(arena);
    private final MemorySegment out = arena.allocate(MAX_OUT, 4096); // page-aligned, as O_DIRECT may need
    private final MemorySegment path = arena.allocate(MAX_PATH + 1, 16);
    private final MemorySegment stat = arena.allocate(144, 16);
    private final MemorySegment statx = arena.allocate(256, 16);
    private final MemorySegment pollFd = arena.allocate(8, 4);
    private final MemorySegment info = arena.allocate(4096, 8);
    private final MemorySegment openHow = arena.allocate(24, 8);
    private final MemorySegment localIov = arena.allocate(16, 8);
    private final MemorySegment remoteIov = arena.allocate(16, 8);

    /** A raw syscall: its result, or -errno. */
    private long syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        try {
            long r = (long) SYSCALL.invokeExact(callState, nr, a0, a1, a2, a3, a4, a5);
            return r == -1 ? -Native.errno(callState) : r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** pidfd_open(2): a descriptor naming process {@code pid}, or -errno. */
    public int pidfdOpen(int pid) {
        return (int) syscall(SYS_PIDFD_OPEN, pid, 0, 0, 0, 0, 0);
    }

    /** pidfd_getfd(2): a copy in deja (close-on-exec) of descriptor {@code fd} of the process {@code pidfd} names, or -errno. */
    public int borrow(int pidfd, int fd) {
        return (int) syscall(SYS_PIDFD_GETFD, pidfd, fd, 0, 0, 0, 0);
    }

    /** An O_PATH descriptor of the directory {@code procPath} (a /proc/PID/cwd link) leads to, or -errno. */
    public int openDirectoryPath(String procPath) {
        byte[] bytes = procPath.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (bytes.length > MAX_PATH) return -ENAMETOOLONG;
        putPath(bytes);
        return (int) syscall(SYS_OPENAT, AT_FDCWD, path.address(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0, 0);
    }

    /** {@code bytes} and a NUL into the path buffer (at most {@link #MAX_PATH}). */
    private void putPath(byte[] bytes) {
        MemorySegment.copy(bytes, 0, path, ValueLayout.JAVA_BYTE, 0, bytes.length);
        path.set(ValueLayout.JAVA_BYTE, bytes.length, (byte) 0);
    }

    /**
     * openat2(2) of {@code pathBytes} from directory {@code dirfd} (AT_FDCWD: deja's cwd) as an O_PATH
     * descriptor (of a trailing symlink itself with {@code noFollow}), refusing magic links (RESOLVE_NO_MAGICLINKS:
     * /proc/PID/exe, cwd, fd/N, whose targets are the resolving process's), and with {@code sameMount} any
     * path that leaves the mount it starts on (RESOLVE_NO_XDEV: -EXDEV); the descriptor or -errno.
     */
    public int openPath(int dirfd, byte[] pathBytes, boolean noFollow, boolean sameMount) {
        if (pathBytes.length > MAX_PATH) return -ENAMETOOLONG;
        putPath(pathBytes);
        openHow.set(ValueLayout.JAVA_LONG, 0, O_PATH | O_CLOEXEC | (noFollow ? O_NOFOLLOW : 0));
        openHow.set(ValueLayout.JAVA_LONG, 8, 0);
        openHow.set(ValueLayout.JAVA_LONG, 16, RESOLVE_NO_MAGICLINKS | (sameMount ? RESOLVE_NO_XDEV : 0));
        return (int) syscall(SYS_OPENAT2, dirfd, path.address(), openHow.address(), 24, 0, 0);
    }

    /**
     * The mount ID (as /proc/PID/mountinfo's first field) of the file deja's descriptor {@code fd} names, or
     * -errno: statx(2) STATX_MNT_ID with AT_STATX_DONT_SYNC, which a FUSE or network file system answers
     * from what it has, without asking its server.
     */
    public long mountId(int fd) {
        path.set(ValueLayout.JAVA_BYTE, 0, (byte) 0);
        long r = syscall(SYS_STATX, fd, path.address(), AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID,
                statx.address(), 0);
        if (r < 0) return r;
        if ((statx.get(ValueLayout.JAVA_INT, 0) & STATX_MNT_ID) == 0) return -1; // stx_mask: not given
        return statx.get(ValueLayout.JAVA_LONG, 144); // stx_mnt_id
    }

    /**
     * The mount ID of descriptor {@code fd} of process {@code pid}, from /proc/PID/fdinfo/FD ("mnt_id:"),
     * read without touching the file; -1 when it cannot be read.
     */
    public long descriptorMountId(int pid, int fd) {
        putPath(("/proc/" + pid + "/fdinfo/" + fd).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        int file = (int) syscall(SYS_OPENAT, AT_FDCWD, path.address(), O_CLOEXEC, 0, 0, 0);
        if (file < 0) return -1;
        long n;
        try {
            n = syscall(SYS_READ, file, info.address(), info.byteSize(), 0, 0, 0);
        } finally {
            close(file);
        }
        return n <= 0 ? -1 : field(info.asSlice(0, n), "mnt_id:");
    }

    /** The decimal number after {@code key} at the start of a line of {@code text}, or -1. */
    static long field(MemorySegment text, String key) {
        long size = text.byteSize();
        for (long line = 0; line < size; ) {
            boolean match = line + key.length() <= size;
            for (int i = 0; match && i < key.length(); i++) {
                match = text.get(ValueLayout.JAVA_BYTE, line + i) == key.charAt(i);
            }
            if (match) {
                long at = line + key.length();
                while (at < size && (text.get(ValueLayout.JAVA_BYTE, at) == ' ' || text.get(ValueLayout.JAVA_BYTE, at) == '\t')) at++;
                long value = -1;
                for (byte b; at < size && (b = text.get(ValueLayout.JAVA_BYTE, at)) >= '0' && b <= '9'; at++) {
                    value = (value < 0 ? 0 : value * 10) + (b - '0');
                }
                return value;
            }
            while (line < size && text.get(ValueLayout.JAVA_BYTE, line) != '\n') line++;
            line++;
        }
        return -1;
    }

    /** An open descriptor of deja's /proc/self/mountinfo, to watch with {@link #mountsChanged}; or -errno. */
    public int openMountTable() {
        putPath("/proc/self/mountinfo".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return (int) syscall(SYS_OPENAT, AT_FDCWD, path.address(), O_CLOEXEC, 0, 0, 0);
    }

    /**
     * Whether the mount table changed since the last ask (poll(2) of a mountinfo descriptor: POLLPRI; each
     * change is told once). A descriptor that cannot be polled answers true.
     */
    public boolean mountsChanged(int mountTable) {
        pollFd.set(ValueLayout.JAVA_INT, 0, mountTable);
        pollFd.set(ValueLayout.JAVA_SHORT, 4, POLLPRI);
        pollFd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
        long r = syscall(SYS_POLL, pollFd.address(), 1, 0, 0, 0, 0);
        return r != 0;
    }

    /** The device (st_dev, fstat(2)) of the file deja's descriptor {@code fd} names, or -errno. */
    public long fileDevice(int fd) {
        long r = fstat(fd);
        return r < 0 ? r : stat.get(ValueLayout.JAVA_LONG, 0); // st_dev
    }

    public void close(int fd) {
        if (fd >= 0) syscall(SYS_CLOSE, fd, 0, 0, 0, 0, 0);
    }

    /** The file type bits (st_mode &amp; S_IFMT, fstat(2)) of deja's descriptor {@code fd}, or -errno. */
    public int fileType(int fd) {
        long r = fstat(fd);
        return r < 0 ? (int) r : stat.get(ValueLayout.JAVA_INT, 24) & S_IFMT; // struct stat's st_mode, x86_64
    }

    private long fstat(int fd) {
        return syscall(SYS_FSTAT, fd, stat.address(), 0, 0, 0, 0);
    }

    /**
     * Runs call {@code nr} here with {@code args}, except that argument {@code outIndex} (-1: none) points to
     * the scratch buffer ({@code outLength} bytes at most {@link #MAX_OUT}) and argument {@code pathIndex}
     * (-1: none) to a NUL-terminated copy of {@code pathBytes} (at most {@link #MAX_PATH}). Its result or -errno.
     */
    public long run(int nr, long[] args, int outIndex, long outLength, int pathIndex, byte[] pathBytes) {
        long[] a = args.clone();
        if (outIndex >= 0) {
            if (outLength < 0 || outLength > MAX_OUT) throw new IllegalArgumentException("output of " + outLength + " bytes");
            a[outIndex] = out.address();
        }
        if (pathIndex >= 0) {
            if (pathBytes.length > MAX_PATH) throw new IllegalArgumentException("path of " + pathBytes.length + " bytes");
            putPath(pathBytes);
            a[pathIndex] = path.address();
        }
        return syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }

    /** The 8 bytes at {@code offset} of the last call's output. */
    public long outLong(long offset) {
        return out.get(ValueLayout.JAVA_LONG, offset);
    }

    /** The 4 bytes at {@code offset} of the last call's output, unsigned. */
    public long outUnsignedInt(long offset) {
        return Integer.toUnsignedLong(out.get(ValueLayout.JAVA_INT, offset));
    }

    /** Copies {@code len} bytes of the last call's output, from {@code offset} in it, into {@code dst[off..]}. */
    public void copyOut(long offset, byte[] dst, int off, int len) {
        MemorySegment.copy(out, ValueLayout.JAVA_BYTE, offset, dst, off, len);
    }

    /**
     * Copies the scratch buffer's first {@code length} bytes into process {@code pid} at {@code address}
     * (process_vm_writev(2)): true when every byte was written (a page that is not writable stops it).
     */
    public boolean writeOut(int pid, long address, long length) {
        if (length == 0) return true;
        localIov.set(ValueLayout.JAVA_LONG, 0, out.address());
        localIov.set(ValueLayout.JAVA_LONG, 8, length);
        remoteIov.set(ValueLayout.JAVA_LONG, 0, address);
        remoteIov.set(ValueLayout.JAVA_LONG, 8, length);
        try {
            long done = (long) WRITEV.invokeExact(callState, pid, localIov, 1L, remoteIov, 1L, 0L);
            return done == length;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
