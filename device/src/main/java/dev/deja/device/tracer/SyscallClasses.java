package dev.deja.device.tracer;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * strace's syscall classes ({@code -e trace=%file} and the others), as data. The lists follow
 * strace 6.1's x86_64 syscall table flags (TF, TD, TN, TP, TS, TI, TM, TC, TCL, TST, TSF, TPU);
 * a name this kernel's table does not know is simply never matched.
 */
public final class SyscallClasses {
    private SyscallClasses() {
    }

    private static final Map<String, Set<String>> CLASSES = Map.ofEntries(
            Map.entry("file", Set.of("access", "acct", "chdir", "chmod", "chown", "chroot", "creat", "execve",
                    "execveat", "faccessat", "faccessat2", "fanotify_mark", "fchmodat", "fchownat", "fspick",
                    "futimesat", "getcwd", "getxattr", "inotify_add_watch", "lchown", "lgetxattr", "link", "linkat",
                    "listxattr", "llistxattr", "lremovexattr", "lsetxattr", "lstat", "mkdir", "mkdirat", "mknod",
                    "mknodat", "mount", "mount_setattr", "move_mount", "name_to_handle_at", "newfstatat", "open",
                    "openat", "openat2", "open_tree", "pivot_root", "quotactl", "readlink", "readlinkat",
                    "removexattr", "rename", "renameat", "renameat2", "rmdir", "setxattr", "stat", "statfs", "statx",
                    "swapoff", "swapon", "symlink", "symlinkat", "truncate", "umount2", "unlink", "unlinkat", "uselib",
                    "utime", "utimensat", "utimes")),
            Map.entry("desc", Set.of("read", "write", "open", "close", "fstat", "poll", "lseek", "mmap", "ioctl",
                    "pread64", "pwrite64", "readv", "writev", "pipe", "select", "dup", "dup2", "sendfile", "fcntl",
                    "flock", "fsync", "fdatasync", "ftruncate", "getdents", "fchdir", "creat", "fchmod", "fchown",
                    "fstatfs", "readahead", "fsetxattr", "fgetxattr", "flistxattr", "fremovexattr", "epoll_create",
                    "getdents64", "fadvise64", "epoll_wait", "epoll_ctl", "inotify_init", "inotify_add_watch",
                    "inotify_rm_watch", "openat", "mkdirat", "mknodat", "fchownat", "futimesat", "newfstatat",
                    "unlinkat", "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat", "faccessat", "pselect6",
                    "ppoll", "splice", "tee", "sync_file_range", "vmsplice", "utimensat", "epoll_pwait", "signalfd",
                    "timerfd_create", "eventfd", "fallocate", "timerfd_settime", "timerfd_gettime", "signalfd4",
                    "eventfd2", "epoll_create1", "dup3", "pipe2", "inotify_init1", "preadv", "pwritev",
                    "perf_event_open", "fanotify_init", "fanotify_mark", "name_to_handle_at", "open_by_handle_at",
                    "syncfs", "setns", "finit_module", "renameat2", "memfd_create", "kexec_file_load", "bpf",
                    "execveat", "userfaultfd", "copy_file_range", "preadv2", "pwritev2", "statx", "io_uring_setup",
                    "io_uring_enter", "io_uring_register", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount",
                    "fspick", "pidfd_open", "openat2", "pidfd_getfd", "faccessat2", "epoll_pwait2", "mount_setattr",
                    "process_madvise", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
                    "close_range", "process_mrelease", "memfd_secret", "pidfd_send_signal")),
            Map.entry("network", Set.of("socket", "connect", "accept", "sendto", "recvfrom", "sendmsg", "recvmsg",
                    "shutdown", "bind", "listen", "getsockname", "getpeername", "socketpair", "setsockopt",
                    "getsockopt", "accept4", "recvmmsg", "sendmmsg")),
            Map.entry("process", Set.of("clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group",
                    "wait4", "waitid", "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
                    "pidfd_send_signal", "unshare")),
            Map.entry("signal", Set.of("pause", "rt_sigaction", "rt_sigprocmask", "rt_sigpending", "rt_sigtimedwait",
                    "rt_sigqueueinfo", "rt_sigsuspend", "rt_sigreturn", "sigaltstack", "kill", "tkill", "tgkill",
                    "rt_tgsigqueueinfo", "signalfd", "signalfd4", "pidfd_send_signal")),
            Map.entry("ipc", Set.of("shmget", "shmat", "shmctl", "semget", "semop", "semctl", "shmdt", "msgget",
                    "msgsnd", "msgrcv", "msgctl", "semtimedop")),
            Map.entry("memory", Set.of("brk", "mmap", "mprotect", "munmap", "mremap", "msync", "mincore", "madvise",
                    "shmat", "shmdt", "mlock", "munlock", "mlockall", "munlockall", "remap_file_pages", "mbind",
                    "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages", "io_setup", "io_destroy", "mlock2",
                    "pkey_mprotect", "memfd_secret", "process_madvise", "set_mempolicy_home_node")),
            Map.entry("creds", Set.of("getuid", "getgid", "setuid", "setgid", "geteuid", "getegid", "setreuid",
                    "setregid", "getgroups", "setgroups", "setresuid", "getresuid", "setresgid", "getresgid",
                    "setfsuid", "setfsgid", "capget", "capset")),
            Map.entry("clock", Set.of("time", "gettimeofday", "settimeofday", "adjtimex", "clock_settime",
                    "clock_gettime", "clock_getres", "clock_adjtime", "clock_nanosleep")),
            Map.entry("stat", Set.of("stat")),
            Map.entry("lstat", Set.of("lstat")),
            Map.entry("fstat", Set.of("fstat", "newfstatat")),
            Map.entry("%stat", Set.of("stat", "lstat", "fstat", "newfstatat", "statx")),
            Map.entry("statfs", Set.of("statfs")),
            Map.entry("fstatfs", Set.of("fstatfs")),
            Map.entry("%statfs", Set.of("statfs", "fstatfs")),
            Map.entry("pure", Set.of("getpid", "getppid", "getuid", "getgid", "geteuid", "getegid", "gettid",
                    "getpgrp", "setsid", "sched_yield", "sync", "vhangup", "munlockall", "inotify_init")));

    private static final Map<String, String> ALIASES = Map.of("net", "network");

    /** The syscall names of class {@code name} ("file", "%file", "net"...), or empty when there is no such class. */
    public static Optional<Set<String>> members(String name) {
        String n = name.startsWith("%") && !name.startsWith("%%") ? name.substring(1) : name;
        if (name.equals("%%stat")) n = "%stat";
        if (name.equals("%%statfs")) n = "%statfs";
        n = ALIASES.getOrDefault(n, n);
        return Optional.ofNullable(CLASSES.get(n));
    }

    /** The class names, without their '%'. */
    public static List<String> names() {
        return CLASSES.keySet().stream().sorted().toList();
    }
}
