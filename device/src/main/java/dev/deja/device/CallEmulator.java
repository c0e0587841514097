package dev.deja.device;

import static dev.deja.device.syscall.AtFlags.AT_EACCESS;
import static dev.deja.device.syscall.AtFlags.AT_EMPTY_PATH;
import static dev.deja.device.syscall.AtFlags.AT_FDCWD;
import static dev.deja.device.syscall.AtFlags.AT_NO_AUTOMOUNT;
import static dev.deja.device.syscall.AtFlags.AT_SYMLINK_NOFOLLOW;

import dev.deja.device.ffm.ProxyCalls;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.device.syscall.TraceeMemory;
import dev.deja.formats.event.MemoryBlock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Recording: calls deja performs itself, in its own process, for a thread stopped at their seccomp stop,
 * so that the thread goes on from that one stop (the kernel skips the call in it: no exit stop, about
 * half a recorded call's cost). Only calls whose effect and answer are the same wherever they run:
 * reads of regular files and directories through a copy of the thread's descriptor (pidfd_getfd: the
 * same open file, so the same offset moves), the stat family, readlink and access on paths resolved as
 * the thread would resolve them, the clocks, random bytes, and the thread's own ids. The recording is
 * the same as when the kernel runs them (its outputs are the bytes written into the thread, see
 * {@link #afterPerformed}). Anything unusual runs in the kernel as before: a descriptor of another kind,
 * a path through /proc or /dev/fd (those name the process that resolves them), a process whose
 * credentials, root, namespaces or security label differ from deja's, a file on a FUSE or network file
 * system (its server may be a traced process), an output that cannot be written.
 */
final class CallEmulator {
    /** The thread's call was not performed here: it runs in the kernel. */
    static final long NOT_EMULATED = Long.MIN_VALUE;
    /** Offsets in struct statx (x86_64 and every other arch alike). */
    private static final long STATX_DEV_MAJOR = 136;
    private static final long STATX_DEV_MINOR = 140;

    /** What a call's descriptor argument must be. */
    enum FileNeed { ANY, REGULAR, DIRECTORY, SEEKABLE }

    /** How a call's output is sized: none, the length argument, or a fixed struct. */
    record Form(String name, int fdArg, FileNeed need, int dirArg, int pathArg, int outArg, int outLengthArg,
                int outFixed) {
        static Form fd(String name, FileNeed need, int outArg, int outLengthArg, int outFixed) {
            return new Form(name, 0, need, -1, -1, outArg, outLengthArg, outFixed);
        }

        static Form path(String name, int dirArg, int pathArg, int outArg, int outLengthArg, int outFixed) {
            return new Form(name, -1, FileNeed.ANY, dirArg, pathArg, outArg, outLengthArg, outFixed);
        }

        static Form plain(String name, int outArg, int outLengthArg, int outFixed) {
            return new Form(name, -1, FileNeed.ANY, -1, -1, outArg, outLengthArg, outFixed);
        }

        /** The output's length for {@code args}: the length argument's, or the struct's. */
        long outLength(long[] args) {
            return outLengthArg >= 0 ? args[outLengthArg] : outFixed;
        }

        /** How many bytes the call wrote for {@code result}: the result for the length-sized, else the struct. */
        long written(long result, long[] args) {
            if (result < 0 || outArg < 0 || args[outArg] == 0) return 0;
            return outLengthArg >= 0 ? result : outFixed;
        }
    }

    private static final int STAT_SIZE = 144;
    private static final int STATX_SIZE = 256;
    /** The calls performed here (x86_64 argument layouts), with their descriptor, path and output. */
    static final List<Form> FORMS = List.of(
            Form.fd("read", FileNeed.REGULAR, 1, 2, 0),
            Form.fd("pread64", FileNeed.REGULAR, 1, 2, 0),
            Form.fd("getdents64", FileNeed.DIRECTORY, 1, 2, 0),
            Form.fd("lseek", FileNeed.SEEKABLE, -1, -1, 0),
            Form.fd("fstat", FileNeed.ANY, 1, -1, STAT_SIZE),
            Form.fd("fcntl", FileNeed.ANY, -1, -1, 0),
            Form.path("newfstatat", 0, 1, 2, -1, STAT_SIZE),
            Form.path("statx", 0, 1, 4, -1, STATX_SIZE),
            Form.path("readlink", -1, 0, 1, 2, 0),
            Form.path("readlinkat", 0, 1, 2, 3, 0),
            Form.path("access", -1, 0, -1, -1, 0),
            Form.path("faccessat", 0, 1, -1, -1, 0),
            Form.path("faccessat2", 0, 1, -1, -1, 0),
            Form.plain("clock_gettime", 1, -1, 16),
            Form.plain("gettimeofday", 0, -1, 16),
            Form.plain("getrandom", 0, 1, 0),
            Form.plain("getpid", -1, -1, 0),
            Form.plain("gettid", -1, -1, 0),
            Form.plain("getppid", -1, -1, 0));

    /**
     * File systems whose calls may wait on a server: FUSE (its server may be a traced process, stopped until
     * deja, then blocked in the call, goes on: a deadlock), network ones, automount points. deja performs
     * nothing on them; while one is mounted, a path is resolved here only within the mount it starts on.
     */
    static final Set<String> SERVED_FILE_SYSTEMS = Set.of("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "afs",
            "glusterfs", "lustre", "autofs", "ncpfs", "coda", "davfs", "orangefs", "gfs2", "ocfs2");

    /** Calls after which a process's paths may resolve otherwise than deja's (credentials, root, namespaces). */
    static final List<String> WORLD_CHANGING = List.of("setuid", "setgid", "setreuid", "setregid", "setresuid",
            "setresgid", "setfsuid", "setfsgid", "setgroups", "capset", "chroot", "pivot_root", "unshare", "setns",
            "mount", "umount2", "move_mount", "fsmount", "open_tree");

    private static final int ENOENT = 2;
    private static final int EACCES = 13;
    private static final int ENOTDIR = 20;
    private static final int EINVAL = 22;
    private static final int F_GETFL = 3;
    private static final int O_DIRECT = 040000;
    /** The alignment O_DIRECT asks of a read's buffer and length (a logical block, 512 bytes at least). */
    private static final int DIRECT_ALIGNMENT = 512;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int SEEK_SET = 0;
    private static final int SEEK_CUR = 1;
    /** The clocks every process reads alike (not the CPU-time clocks, which are the caller's). */
    private static final long CLOCKS_ALIKE = 1L << 0 | 1L << 1 | 1L << 4 | 1L << 5 | 1L << 6 | 1L << 7 | 1L << 11;

    /**
     * Calls that may take a descriptor out of a table (close it, replace it, an exec's close-on-exec, an
     * io_uring close): at their entry, every descriptor borrowed from any process is given back, so that
     * a borrowed copy never names another file than the process's and never keeps a file open (a pipe's
     * write end, whose reader waits for its end).
     */
    static final List<String> DESCRIPTOR_CLOSING = List.of("close", "close_range", "dup2", "dup3", "execve",
            "execveat", "io_uring_enter");

    private final Form[] byNumber = new Form[1024];
    private final boolean[] worldChanging = new boolean[1024];
    private final boolean[] descriptorClosing = new boolean[1024];
    private final int nrLseek;
    private final int nrGetdents64;
    private final int nrRead;
    private final int nrPread64;
    private final int nrFcntl;
    private final int nrClockGettime;
    private final int nrGettimeofday;
    private final int nrGetpid;
    private final int nrGettid;
    private final int nrGetppid;
    private final int nrChdir;
    private final int nrFchdir;
    private final int nrNewfstatat;
    private final int nrStatx;
    private final int nrReadlink;
    private final int nrReadlinkat;
    private final int nrFaccessat2;
    private final ProxyCalls proxy;
    /** deja's own credentials, root and namespaces, as /proc shows them: a process whose match may resolve paths here. */
    private final String ownWorld;
    private final String ownPidNamespace;
    /** The procfs device, as stat reports it: a stat that lands there is the caller's own (/proc/self). */
    private final long procDev;
    /** deja's /proc/self/mountinfo, watched for changes (-2: not opened yet; below: unusable). */
    private int mountTable = -2;
    /** The IDs of the mounts deja may perform calls on (none of {@link #SERVED_FILE_SYSTEMS}, no FUSE). */
    private final Set<Long> safeMounts = new HashSet<>();
    /** The IDs of every mount in the table. */
    private final Set<Long> listedMounts = new HashSet<>();
    /** The mount of deja's root, where an absolute path starts (-1: unknown). */
    private long rootMount = -1;
    private final Map<Integer, Proc> procs = new HashMap<>();
    /** DEJA_DEBUG_EMULATION=1: the counts and time of {@link #summary}, printed at the run's end. */
    static final boolean DEBUG = System.getenv("DEJA_DEBUG_EMULATION") != null;
    private long spentNs;
    /** The output the last performed call wrote into its thread (outTid; -1: none), as {@link #afterPerformed} reads it. */
    private int outTid = -1;
    private long outAddress;
    private long outLength;
    private final long[] performedBy = new long[1024];
    private final long[] refusedBy = new long[1024];

    /** What is known of one process. */
    private static final class Proc {
        int pidfd = -2;
        /** Its cwd as an O_PATH descriptor of deja's (-2: not opened yet). */
        int cwd = -2;
        /** Its paths resolve as deja's: null until checked. */
        Boolean sameWorld;
        Boolean samePidNamespace;
        int ppid = -1;
        /** The process's descriptors borrowed so far (its number to deja's), kept until one may be closed. */
        final Map<Integer, Integer> borrowed = new HashMap<>();
    }

    CallEmulator(SyscallTable table, ProxyCalls proxy) {
        this.proxy = proxy;
        for (Form f : FORMS) table.number(f.name()).ifPresent(nr -> byNumber[nr] = f);
        for (String name : WORLD_CHANGING) table.number(name).ifPresent(nr -> worldChanging[nr] = true);
        for (String name : DESCRIPTOR_CLOSING) table.number(name).ifPresent(nr -> descriptorClosing[nr] = true);
        this.nrLseek = table.number("lseek").orElse(-1);
        this.nrGetdents64 = table.number("getdents64").orElse(-1);
        this.nrRead = table.number("read").orElse(-1);
        this.nrPread64 = table.number("pread64").orElse(-1);
        this.nrFcntl = table.number("fcntl").orElse(-1);
        this.nrClockGettime = table.number("clock_gettime").orElse(-1);
        this.nrGettimeofday = table.number("gettimeofday").orElse(-1);
        this.nrGetpid = table.number("getpid").orElse(-1);
        this.nrGettid = table.number("gettid").orElse(-1);
        this.nrGetppid = table.number("getppid").orElse(-1);
        this.nrChdir = table.number("chdir").orElse(-1);
        this.nrFchdir = table.number("fchdir").orElse(-1);
        this.nrNewfstatat = table.number("newfstatat").orElse(-1);
        this.nrStatx = table.number("statx").orElse(-1);
        this.nrReadlink = table.number("readlink").orElse(-1);
        this.nrReadlinkat = table.number("readlinkat").orElse(-1);
        this.nrFaccessat2 = table.number("faccessat2").orElse(-1);
        int self = (int) ProcessHandle.current().pid();
        this.ownWorld = world(self);
        String pidNs = ProcFs.link(ProcFs.proc(self).resolve("ns/pid"));
        this.ownPidNamespace = pidNs.isEmpty() ? null : pidNs;
        long dev = -1;
        try {
            dev = (long) Files.getAttribute(Path.of("/proc"), "unix:dev");
        } catch (java.io.IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // no unix view: path calls then never run here (procDev -1, see onPath)
        }
        this.procDev = dev;
    }

    /** Whether {@code nr} is one this emulator may perform (before its arguments are looked at). */
    boolean candidate(int nr) {
        return nr >= 0 && nr < byNumber.length && byNumber[nr] != null;
    }

    /** A call is entering in process {@code pid}: one that changes its world stops path calls here for good. */
    void entering(int pid, int nr) {
        if (nr < 0 || nr >= worldChanging.length) return;
        if (descriptorClosing[nr]) giveBack();
        if (!worldChanging[nr] && nr != nrChdir && nr != nrFchdir) return;
        Proc p = procs.get(pid);
        if (p == null) return;
        if (worldChanging[nr]) {
            p.sameWorld = false;
            for (Proc q : procs.values()) dropCwd(q); // a cwd held here would keep a file system busy (umount)
        }
        if (nr == nrChdir || nr == nrFchdir) dropCwd(p);
    }

    /** Process {@code pid} exec'd: its credentials may have changed (a set-user-ID program). */
    void execed(int pid) {
        Proc p = procs.get(pid);
        if (p != null) p.sameWorld = null;
    }

    /** Process {@code pid} ended: its descriptors here are closed; any process's parent may have changed. */
    void ended(int pid) {
        Proc p = procs.remove(pid);
        if (p != null) {
            if (p.pidfd >= 0) proxy.close(p.pidfd);
            for (int fd : p.borrowed.values()) proxy.close(fd);
            dropCwd(p);
        }
        for (Proc q : procs.values()) q.ppid = -1;
    }

    /**
     * Whether descriptor {@code fd} of process {@code pid} is a regular file or a directory on a mount no
     * process serves: a read or a close of it never waits for anyone, so the program may make them in a
     * buffer stub ({@link CallBuffer}).
     */
    boolean nonBlocking(int pid, int fd) {
        int mine = borrow(pid, fd);
        if (mine < 0) return false;
        int type = proxy.fileType(mine);
        return type == S_IFREG || type == S_IFDIR;
    }

    /** Closes every borrowed descriptor. */
    private void giveBack() {
        for (Proc p : procs.values()) {
            if (p.borrowed.isEmpty()) continue;
            for (int fd : p.borrowed.values()) proxy.close(fd);
            p.borrowed.clear();
        }
    }

    private void dropCwd(Proc p) {
        if (p.cwd >= 0) proxy.close(p.cwd);
        p.cwd = -2;
    }

    /**
     * Performs call {@code nr(args)} of thread {@code tid} of {@code pid} here, its outputs written into the
     * thread's memory, and returns its result; {@link #NOT_EMULATED} when the kernel must run it in the thread
     * (nothing then changed). {@code inputs}: the call's input blocks (its path).
     */
    long perform(int pid, int tid, int nr, long[] args, List<MemoryBlock> inputs) {
        Form f = candidate(nr) ? byNumber[nr] : null;
        outTid = -1;
        outLength = 0;
        if (f == null) return NOT_EMULATED;
        long t0 = DEBUG ? System.nanoTime() : 0;
        long r = performForm(f, pid, tid, nr, args, inputs);
        if (r != NOT_EMULATED && outLength > 0) outTid = tid;
        if (DEBUG) {
            spentNs += System.nanoTime() - t0;
            if (r != NOT_EMULATED) performedBy[nr]++;
            else refusedBy[nr]++;
        }
        return r;
    }

    /**
     * The memory of thread {@code tid} as the call just performed for it left it: the output it wrote there
     * is read from deja's own copy (one process_vm_readv fewer per call, and the bytes are the call's even if
     * another thread wrote over them since). Any other read, or once another call was performed, goes to
     * {@code thread}.
     */
    TraceeMemory afterPerformed(int tid, TraceeMemory thread) {
        if (tid != outTid) return thread;
        long from = outAddress;
        long length = outLength;
        return (address, dst, off, len) -> {
            if (address >= from && len <= length && address - from <= length - len) {
                proxy.copyOut(address - from, dst, off, len);
                return len;
            }
            return thread.read(address, dst, off, len);
        };
    }

    /** Per call name: performed here and run in the kernel instead (DEJA_DEBUG_EMULATION's figures). */
    String summary() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(java.util.Locale.ROOT, "%.1f ms in the calls performed or tried%n", spentNs / 1e6));
        for (int nr = 0; nr < byNumber.length; nr++) {
            if (byNumber[nr] == null || performedBy[nr] + refusedBy[nr] == 0) continue;
            b.append(String.format(java.util.Locale.ROOT, "%s %d performed, %d in the kernel%n", byNumber[nr].name(),
                    performedBy[nr], refusedBy[nr]));
        }
        return b.toString();
    }

    private long performForm(Form f, int pid, int tid, int nr, long[] args, List<MemoryBlock> inputs) {
        if (nr == nrGetpid || nr == nrGettid || nr == nrGetppid) return ids(pid, tid, nr);
        if (nr == nrClockGettime && !clockAlike((int) args[0])) return NOT_EMULATED;
        if (nr == nrGettimeofday && args[1] != 0) return NOT_EMULATED; // the obsolete timezone: rare, left to the kernel
        if (nr == nrFcntl && args[1] != F_GETFL) return NOT_EMULATED; // F_GETFD is the descriptor's, not the open file's
        long outLength = f.outArg >= 0 && args[f.outArg] != 0 ? f.outLength(args) : 0;
        if (outLength < 0 || outLength > ProxyCalls.MAX_OUT) return NOT_EMULATED;
        int outIndex = outLength > 0 ? f.outArg : -1;
        if (f.fdArg >= 0) return onDescriptor(f, pid, nr, args, f.fdArg, outIndex, outLength, -1, null);
        if (f.pathArg >= 0) return onPath(f, pid, tid, nr, args, inputs, outIndex, outLength);
        long r = proxy.run(nr, args, outIndex, outLength, -1, null);
        return written(f, pid, args, r) ? r : NOT_EMULATED;
    }

    /** Whether every process reads clock {@code id} alike (not a CPU-time clock, which is the caller's). */
    static boolean clockAlike(int id) {
        return id >= 0 && id < 64 && (CLOCKS_ALIKE & 1L << id) != 0;
    }

    private long ids(int pid, int tid, int nr) {
        Proc p = proc(pid);
        if (p.samePidNamespace == null) {
            p.samePidNamespace = ownPidNamespace != null
                    && ownPidNamespace.equals(ProcFs.link(ProcFs.proc(pid).resolve("ns/pid")));
        }
        if (!p.samePidNamespace) return NOT_EMULATED;
        if (nr == nrGetpid) return pid;
        if (nr == nrGettid) return tid;
        if (p.ppid < 0) p.ppid = ProcFs.parent(pid);
        return p.ppid < 0 ? NOT_EMULATED : p.ppid;
    }

    /**
     * The call on a copy of the thread's descriptor argument {@code fdArg} ({@code pathArg}: an empty path
     * argument, -1 for none).
     */
    private long onDescriptor(Form f, int pid, int nr, long[] args, int fdArg, int outIndex, long outLength,
                              int pathArg, byte[] path) {
        int fd = borrow(pid, (int) args[fdArg]);
        if (fd < 0) return NOT_EMULATED;
        if ((nr == nrRead || nr == nrPread64) && ((args[1] | args[2]) & DIRECT_ALIGNMENT - 1) != 0) {
            // O_DIRECT wants an aligned buffer and length: deja's buffer is aligned where the thread's is not
            long flags = proxy.run(nrFcntl, new long[] {fd, F_GETFL, 0, 0, 0, 0}, -1, 0, -1, null);
            if (flags < 0 || (flags & O_DIRECT) != 0) return NOT_EMULATED;
        }
        if (f.need != FileNeed.ANY) {
            int type = proxy.fileType(fd);
            boolean fits = switch (f.need) {
                case REGULAR -> type == S_IFREG;
                case DIRECTORY -> type == S_IFDIR;
                case SEEKABLE -> type == S_IFREG || type == S_IFDIR;
                case ANY -> true;
            };
            if (!fits) return NOT_EMULATED;
        }
        long[] a = args.clone();
        a[fdArg] = fd;
        // A read or getdents moves the open file's offset: put back if the output cannot be written.
        long before = nr == nrGetdents64 ? proxy.run(nrLseek, new long[] {fd, 0, SEEK_CUR, 0, 0, 0}, -1, 0, -1, null) : 0;
        if (before < 0) return NOT_EMULATED;
        long r = proxy.run(nr, a, outIndex, outLength, pathArg, path);
        if (written(f, pid, args, r)) return r;
        if (nr == nrRead && r > 0) proxy.run(nrLseek, new long[] {fd, -r, SEEK_CUR, 0, 0, 0}, -1, 0, -1, null);
        if (nr == nrGetdents64) proxy.run(nrLseek, new long[] {fd, before, SEEK_SET, 0, 0, 0}, -1, 0, -1, null);
        return NOT_EMULATED;
    }

    private long onPath(Form f, int pid, int tid, int nr, long[] args, List<MemoryBlock> inputs, int outIndex,
                        long outLength) {
        byte[] path = pathOf(inputs, f.pathArg, args[f.pathArg]);
        if (path == null) return NOT_EMULATED;
        int dirfd = f.dirArg >= 0 ? (int) args[f.dirArg] : AT_FDCWD;
        boolean ofDescriptor = path.length == 0 && f.dirArg >= 0 && dirfd != AT_FDCWD
                && (nr == nrNewfstatat && (args[3] & AT_EMPTY_PATH) != 0 || nr == nrStatx && (args[2] & AT_EMPTY_PATH) != 0);
        // A stat of the thread's own descriptor: no path to resolve.
        if (ofDescriptor) return onDescriptor(f, pid, nr, args, f.dirArg, outIndex, outLength, f.pathArg, path);
        if (procDev == -1 || !pathAllowed(path) || !sameWorld(pid)) return NOT_EMULATED;
        int base;
        if (path.length > 0 && path[0] == '/') {
            base = AT_FDCWD; // an absolute path ignores the directory, and deja's root is the process's
        } else if (dirfd == AT_FDCWD) {
            base = cwd(pid, tid);
        } else {
            base = borrow(pid, dirfd);
        }
        if (base < 0 && base != AT_FDCWD) return NOT_EMULATED;
        // While a served file system is mounted, the walk must not enter one: it stays on the mount it starts
        // on (RESOLVE_NO_XDEV), which must be safe (a cwd or directory descriptor is checked as it is taken).
        refreshMounts();
        boolean sameMount = servedMounted();
        if (sameMount && base == AT_FDCWD && !safeMounts.contains(rootMount)) return NOT_EMULATED;
        // Resolved here once, with no magic link on the way (a /proc/PID/exe, cwd or fd/N is the resolving
        // process's), and refused when it ends in procfs (a /proc/self reached through a symlink is deja's).
        int object = proxy.openPath(base, path, noFollow(nr, args), sameMount);
        if (object < 0) return object == -ENOENT || object == -ENOTDIR || object == -EACCES ? object : NOT_EMULATED;
        try {
            // A stat's answer names its file's device: no fstat of the object first.
            boolean statsDevice = (nr == nrNewfstatat || nr == nrStatx) && outIndex >= 0;
            if (!statsDevice && proxy.fileDevice(object) == procDev) return NOT_EMULATED;
            long r = onObject(nr, args, object, outIndex, outLength, f);
            if (statsDevice && (r < 0 ? proxy.fileDevice(object) : statDevice(nr)) == procDev) return NOT_EMULATED;
            return written(f, pid, args, r) ? r : NOT_EMULATED;
        } finally {
            proxy.close(object);
        }
    }

    /** The device in the answer of the stat just run (struct stat's st_dev, or statx's stx_dev_major/minor), as fstat gives it. */
    private long statDevice(int nr) {
        if (nr == nrNewfstatat) return proxy.outLong(0);
        return encodeDevice(proxy.outUnsignedInt(STATX_DEV_MAJOR), proxy.outUnsignedInt(STATX_DEV_MINOR));
    }

    /** The kernel's dev_t for user space (new_encode_dev, as struct stat's st_dev holds it). */
    static long encodeDevice(long major, long minor) {
        return (minor & 0xff) | (major << 8) | ((minor & ~0xffL) << 12);
    }

    /** Whether the call acts on a trailing symlink itself rather than on what it leads to. */
    private boolean noFollow(int nr, long[] args) {
        if (nr == nrNewfstatat) return (args[3] & AT_SYMLINK_NOFOLLOW) != 0;
        if (nr == nrStatx) return (args[2] & AT_SYMLINK_NOFOLLOW) != 0;
        if (nr == nrFaccessat2) return (args[3] & AT_SYMLINK_NOFOLLOW) != 0;
        return nr == nrReadlink || nr == nrReadlinkat;
    }

    /** The call on the O_PATH descriptor {@code object} of its path: the same call with an empty path. */
    private long onObject(int nr, long[] args, int object, int outIndex, long outLength, Form f) {
        byte[] empty = new byte[0];
        if (nr == nrNewfstatat) {
            return proxy.run(nr, new long[] {object, 0, args[2], AT_EMPTY_PATH | (args[3] & AT_NO_AUTOMOUNT), 0, 0},
                    outIndex, outLength, 1, empty);
        }
        if (nr == nrStatx) {
            long flags = AT_EMPTY_PATH | (args[2] & ~(long) AT_SYMLINK_NOFOLLOW);
            return proxy.run(nr, new long[] {object, 0, flags, args[3], args[4], 0}, outIndex, outLength, 1, empty);
        }
        if (nr == nrReadlink || nr == nrReadlinkat) {
            long buf = args[f.outArg];
            long size = args[f.outLengthArg];
            long r = proxy.run(nrReadlinkat, new long[] {object, 0, buf, size, 0, 0}, outIndex < 0 ? -1 : 2, outLength,
                    1, empty);
            // readlinkat of an empty path names the descriptor's file; not a symlink, it answers ENOENT where
            // readlink of its path answers EINVAL
            return r == -ENOENT ? -EINVAL : r;
        }
        // access, faccessat, faccessat2: faccessat2 on the descriptor
        long mode = f.dirArg >= 0 ? args[2] : args[1];
        long flags = nr == nrFaccessat2 ? args[3] & AT_EACCESS : 0;
        return proxy.run(nrFaccessat2, new long[] {object, 0, mode, AT_EMPTY_PATH | flags, 0, 0}, -1, 0, 1, empty);
    }

    /** Copies the output into the thread; false when it could not be written there (the kernel then runs the call). */
    private boolean written(Form f, int pid, long[] args, long r) {
        long n = f.written(r, args);
        if (n == 0) return true;
        if (!proxy.writeOut(pid, args[f.outArg], n)) return false;
        outAddress = args[f.outArg];
        outLength = n;
        return true;
    }

    /** The path argument from the call's input blocks, without its NUL; null when it was not read whole. */
    static byte[] pathOf(List<MemoryBlock> inputs, int arg, long address) {
        for (MemoryBlock b : inputs) {
            if (b.arg() != arg || b.address() != address) continue;
            int n = b.length();
            if (n == 0 || b.byteAt(n - 1) != 0) return null;
            byte[] path = new byte[n - 1];
            System.arraycopy(b.data(), 0, path, 0, n - 1);
            return path;
        }
        return null;
    }

    /**
     * Whether a path may be resolved by deja for the thread: not through /proc, /dev/fd or the standard
     * streams' links, whose targets depend on the process resolving them. Judged by its components, so
     * a relative path into them is refused too (a symlink elsewhere that leads into /proc/self is not
     * seen here; the stat family's results are checked for procfs after the call).
     */
    static boolean pathAllowed(byte[] path) {
        if (path.length > ProxyCalls.MAX_PATH) return false;
        String s = new String(path, StandardCharsets.ISO_8859_1);
        for (String c : s.split("/")) {
            switch (c) {
                case "proc", "fd", "stdin", "stdout", "stderr", "self", "thread-self", "tty" -> {
                    return false;
                }
                default -> {
                }
            }
        }
        return true;
    }

    /** Whether process {@code pid} resolves paths as deja does: same credentials, root and mount namespace. */
    private boolean sameWorld(int pid) {
        Proc p = proc(pid);
        if (p.sameWorld == null) p.sameWorld = ownWorld != null && ownWorld.equals(world(pid));
        return p.sameWorld;
    }

    /**
     * A process's credentials, capabilities, root, namespaces and security label, as one comparable string;
     * null when unreadable.
     */
    static String world(int pid) {
        Path dir = ProcFs.proc(pid);
        StringBuilder b = new StringBuilder();
        List<String> status = ProcFs.lines(dir.resolve("status"));
        if (status.isEmpty()) return null;
        for (String line : status) {
            if (line.startsWith("Uid:") || line.startsWith("Gid:") || line.startsWith("Groups:")
                    || line.startsWith("CapEff:") || line.startsWith("CapPrm:")) {
                b.append(line).append('\n');
            }
        }
        for (String link : List.of("root", "ns/mnt", "ns/user")) {
            String target = ProcFs.link(dir.resolve(link));
            if (target.isEmpty()) return null;
            b.append(link).append('=').append(target).append('\n');
        }
        // A security module's label (SELinux, AppArmor, Smack: attr/current; none here reads as nothing, alike
        // for every process): a confined program may not stat or read what deja, unconfined, may.
        b.append("label=").append(String.join("\n", ProcFs.lines(dir.resolve("attr/current")))).append('\n');
        return b.toString();
    }

    private Proc proc(int pid) {
        return procs.computeIfAbsent(pid, k -> new Proc());
    }

    /** Process {@code pid}'s descriptor {@code fd} as one of deja's (kept: see {@link #DESCRIPTOR_CLOSING}), or -1. */
    private int borrow(int pid, int fd) {
        if (fd < 0) return -1;
        Proc p = proc(pid);
        Integer known = p.borrowed.get(fd);
        if (known != null) return known;
        if (p.pidfd == -2) p.pidfd = proxy.pidfdOpen(pid);
        if (p.pidfd < 0) return -1;
        // Checked before it is borrowed: even closing deja's copy of a FUSE file asks the server (FLUSH).
        if (!onSafeMount(pid, fd)) {
            p.borrowed.put(fd, -1); // refused until the process may close it
            return -1;
        }
        int mine = proxy.borrow(p.pidfd, fd);
        if (mine >= 0) p.borrowed.put(fd, mine);
        return mine;
    }

    /**
     * Whether descriptor {@code fd} of process {@code pid} names a file on a mount deja may perform calls on
     * (its /proc/PID/fdinfo's mnt_id, read without touching the file): a listed one not served, or none
     * listed for a pipe, socket or anonymous inode (a lazily unmounted file system, or another namespace's,
     * is not listed either: refused).
     */
    private boolean onSafeMount(int pid, int fd) {
        refreshMounts();
        long id = proxy.descriptorMountId(pid, fd);
        if (id < 0) return false;
        if (safeMounts.contains(id)) return true;
        if (listedMounts.contains(id)) return false;
        String name = ProcFs.link(ProcFs.proc(pid).resolve("fd/" + fd));
        return name.startsWith("pipe:[") || name.startsWith("socket:[") || name.startsWith("anon_inode:");
    }

    /** Whether deja's descriptor {@code fd} (an O_PATH one: closing it asks no file system) is on a safe mount. */
    private boolean onSafeMount(int fd) {
        refreshMounts();
        return safeMounts.contains(proxy.mountId(fd));
    }

    /** Reads the mount table again when it changed (once at first). */
    private void refreshMounts() {
        if (mountTable == -2) {
            mountTable = proxy.openMountTable();
        } else if (mountTable < 0 || !proxy.mountsChanged(mountTable)) {
            return;
        }
        safeMounts.clear();
        listedMounts.clear();
        rootMount = -1;
        if (mountTable < 0) return; // no table: no mount is known safe, nothing on a file is performed
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        } catch (IOException e) {
            return;
        }
        for (String line : lines) {
            Mount m = Mount.parse(line);
            if (m == null) continue;
            listedMounts.add(m.id());
            if (!m.served()) safeMounts.add(m.id());
        }
        int root = proxy.openPath(AT_FDCWD, new byte[] {'/'}, false, false);
        if (root >= 0) {
            rootMount = proxy.mountId(root);
            proxy.close(root);
        }
    }

    /** Whether a file system a process serves (FUSE, a network one...) is mounted now (or the table is unknown). */
    boolean anyServed() {
        refreshMounts();
        return servedMounted();
    }

    /** Whether a served file system is mounted (or the table is unknown): paths then resolve only within their start's mount. */
    private boolean servedMounted() {
        return listedMounts.isEmpty() || safeMounts.size() < listedMounts.size();
    }

    /** A line of mountinfo: the mount's ID and whether its file system is a served one. */
    record Mount(long id, String type) {
        static Mount parse(String line) {
            int space = line.indexOf(' ');
            int dash = line.indexOf(" - ");
            if (space <= 0 || dash < 0) return null;
            int typeEnd = line.indexOf(' ', dash + 3);
            try {
                return new Mount(Long.parseLong(line.substring(0, space)),
                        line.substring(dash + 3, typeEnd < 0 ? line.length() : typeEnd));
            } catch (NumberFormatException e) {
                return null;
            }
        }

        boolean served() {
            return type.startsWith("fuse") || SERVED_FILE_SYSTEMS.contains(type);
        }
    }

    /** The thread's cwd as a descriptor of deja's, opened once per process (again after a chdir); -1 when unusable. */
    private int cwd(int pid, int tid) {
        Proc p = proc(pid);
        if (p.cwd == -2) {
            p.cwd = proxy.openDirectoryPath("/proc/" + tid + "/cwd");
            // a cwd inside /proc: relative paths there name the resolving process; on a served mount: see borrow
            if (p.cwd >= 0 && (!onSafeMount(p.cwd) || proxy.fileDevice(p.cwd) == procDev)) {
                proxy.close(p.cwd);
                p.cwd = -1;
            }
        }
        return p.cwd;
    }

    /** Closes every descriptor this emulator holds. */
    void closeAll() {
        giveBack();
        for (Proc p : procs.values()) {
            if (p.pidfd >= 0) proxy.close(p.pidfd);
            dropCwd(p);
        }
        procs.clear();
        if (mountTable >= 0) proxy.close(mountTable);
        mountTable = -2;
    }
}
