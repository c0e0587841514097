package dev.deja.device.syscall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchemasTest {

    static final String REQUIRED = """
            read write pread64 pwrite64 readv writev preadv pwritev open openat close stat fstat lstat newfstatat
            statx access faccessat faccessat2 lseek mmap mprotect munmap brk mremap madvise rt_sigaction
            rt_sigprocmask rt_sigreturn ioctl pipe pipe2 dup dup2 dup3 fcntl getdents64 getcwd chdir fchdir rename
            renameat renameat2 mkdir mkdirat rmdir unlink unlinkat readlink readlinkat symlink link chmod fchmod
            chown fchown umask truncate ftruncate fsync getpid getppid gettid getuid geteuid getgid getegid
            getgroups setuid setgid setresuid getresuid getresgid setpgid getpgid setsid uname sysinfo getrlimit
            setrlimit prlimit64 getrusage times time gettimeofday clock_gettime clock_getres clock_nanosleep
            nanosleep getrandom futex set_tid_address set_robust_list get_robust_list rseq arch_prctl prctl clone
            clone3 fork vfork execve execveat exit exit_group wait4 waitid kill tgkill tkill rt_sigqueueinfo
            sigaltstack rt_sigsuspend pause alarm setitimer getitimer timer_create timer_settime timerfd_create
            timerfd_settime timerfd_gettime eventfd2 signalfd4 poll ppoll select pselect6 epoll_create1 epoll_ctl
            epoll_wait epoll_pwait socket socketpair bind listen accept accept4 connect getsockname getpeername
            sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg shutdown setsockopt getsockopt sched_yield
            sched_getaffinity sched_setaffinity getcpu capget statfs fstatfs fadvise64 fallocate flock sync
            copy_file_range sendfile splice tee memfd_create mlock munlock inotify_init1 inotify_add_watch
            name_to_handle_at getxattr lgetxattr fgetxattr listxattr utimensat close_range pidfd_open io_uring_setup
            """;

    @Test
    void atLeast150SyscallsHaveExplicitSchemasOnX86_64() {
        Schemas s = Schemas.of(Arch.X86_64);
        assertTrue(s.size() >= 150, "only " + s.size());
        List<String> missing = new ArrayList<>();
        for (String name : REQUIRED.trim().split("\\s+")) if (s.schema(name).isEmpty()) missing.add(name);
        assertEquals(List.of(), missing);
    }

    @Test
    void aarch64HasTheSchemasOfItsSyscalls() {
        Schemas s = Schemas.of(Arch.AARCH64);
        assertTrue(s.size() >= 150, "only " + s.size());
        for (String name : REQUIRED.trim().split("\\s+")) {
            if (SyscallTable.of(Arch.AARCH64).number(name).isPresent()) {
                assertTrue(s.schema(name).isPresent(), name);
                assertEquals(SyscallTable.of(Arch.AARCH64).number(name).getAsInt(), s.schema(name).get().nr(), name);
            }
        }
        // arch-specific argument order: clone's tls and child_tid swap on aarch64
        assertEquals("clone pid F:clone ptr ptr x ptr", s.schema("clone").orElseThrow().toString());
        assertEquals("clone pid F:clone ptr ptr ptr x", Schemas.of(Arch.X86_64).schema("clone").orElseThrow().toString());
    }

    @Test
    void structSizesDifferPerArch() {
        assertEquals(144, Structs.size("stat", Arch.X86_64));
        assertEquals(128, Structs.size("stat", Arch.AARCH64));
        assertEquals(12, Structs.size("epoll_event", Arch.X86_64));
        assertEquals(16, Structs.size("epoll_event", Arch.AARCH64));
        ArgSpec fstat = Schemas.of(Arch.AARCH64).schema("fstat").orElseThrow().arg(1);
        assertEquals(128, fstat.size());
    }

    @Test
    void everySchemaHasAtMostSixArgumentsAndKnownTables() {
        for (Arch arch : Arch.values()) {
            for (Schema s : Schemas.of(arch).all()) {
                assertTrue(s.argCount() <= 6, s.name());
                for (ArgSpec a : s.args()) {
                    if (a.kind() == ArgKind.FLAGS || a.kind() == ArgKind.ENUM) {
                        assertTrue(Xlat.exists(a.name()), s.name() + ": table " + a.name());
                    }
                    if (a.n() >= 0) assertTrue(a.n() < s.argCount(), s.name() + ": " + a);
                }
            }
        }
    }
}
