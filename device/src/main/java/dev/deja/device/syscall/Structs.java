package dev.deja.device.syscall;

import java.util.Map;

/** Sizes of the kernel structs the schemas name, per architecture (64-bit ABIs only). */
final class Structs {

    private Structs() {
    }

    /** name -> {x86_64 size, aarch64 size}. */
    private static final Map<String, int[]> SIZES = Map.ofEntries(
            Map.entry("stat", new int[] {144, 128}),      // aarch64 uses the generic struct stat
            Map.entry("statx", new int[] {256, 256}),
            Map.entry("timespec", new int[] {16, 16}),
            Map.entry("timespec2", new int[] {32, 32}),   // utimensat's times[2]
            Map.entry("timeval", new int[] {16, 16}),
            Map.entry("timezone", new int[] {8, 8}),
            Map.entry("utsname", new int[] {390, 390}),
            Map.entry("sysinfo", new int[] {112, 112}),
            Map.entry("rusage", new int[] {144, 144}),
            Map.entry("rlimit", new int[] {16, 16}),
            Map.entry("sigaction", new int[] {32, 32}),   // kernel layout: handler, flags, restorer, mask
            Map.entry("stack", new int[] {24, 24}),
            Map.entry("siginfo", new int[] {128, 128}),
            Map.entry("itimerval", new int[] {32, 32}),
            Map.entry("itimerspec", new int[] {32, 32}),
            Map.entry("tms", new int[] {32, 32}),
            Map.entry("statfs", new int[] {120, 120}),
            Map.entry("epoll_event", new int[] {12, 16}), // packed on x86_64
            Map.entry("pollfd", new int[] {8, 8}),
            Map.entry("int", new int[] {4, 4}),
            Map.entry("u32", new int[] {4, 4}),
            Map.entry("long", new int[] {8, 8}),
            Map.entry("capheader", new int[] {8, 8}),
            Map.entry("capdata", new int[] {24, 24}),     // _LINUX_CAPABILITY_VERSION_3: two u32 triples
            Map.entry("utimbuf", new int[] {16, 16}),
            Map.entry("schedparam", new int[] {4, 4}),
            Map.entry("sigevent", new int[] {64, 64}),
            Map.entry("sigsetpack", new int[] {16, 16}),  // pselect6's {const sigset_t *ss; size_t ss_len}
            Map.entry("iouringparams", new int[] {120, 120}),
            Map.entry("iovec", new int[] {16, 16}),
            Map.entry("msghdr", new int[] {56, 56}),
            Map.entry("mmsghdr", new int[] {64, 64}),
            Map.entry("winsize", new int[] {8, 8}),
            Map.entry("termios", new int[] {36, 36}),
            Map.entry("termios2", new int[] {44, 44}),
            Map.entry("flock", new int[] {32, 32}),
            Map.entry("timex", new int[] {208, 208}),
            Map.entry("cloneargs", new int[] {88, 88}),   // sized by an argument; this is CLONE_ARGS_SIZE_VER2
            Map.entry("openhow", new int[] {24, 24}),
            Map.entry("filehandle", new int[] {8, 8}));   // header only; f_handle follows

    static boolean known(String name) {
        return SIZES.containsKey(name);
    }

    static int size(String name, Arch arch) {
        int[] s = SIZES.get(name);
        if (s == null) throw new IllegalArgumentException("unknown struct " + name);
        return s[arch.ordinal()];
    }
}
