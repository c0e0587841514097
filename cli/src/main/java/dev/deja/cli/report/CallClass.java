package dev.deja.cli.report;

import dev.deja.device.syscall.SyscallTable;
import dev.deja.device.tracer.SyscallClasses;
import java.util.Set;

/**
 * The classes a report colours calls by. They come from strace's classes as deja keeps them
 * ({@link SyscallClasses}, the same data {@code deja trace -e trace=%file} uses); only {@link #WAIT},
 * which strace has no class for, is listed here.
 */
public enum CallClass {
    FILE("file"), NETWORK("network"), PROCESS("process"), TIME("time"), MEMORY("memory"), SIGNALS("signals"),
    WAIT("wait"), OTHER("other");

    /** Calls that block until something happens elsewhere: a report shows them as waiting, whatever else they are. */
    static final Set<String> WAITS = Set.of("futex", "futex_waitv", "wait4", "waitid", "poll", "ppoll", "select",
            "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2", "nanosleep", "clock_nanosleep", "pause",
            "rt_sigsuspend", "rt_sigtimedwait", "sched_yield", "io_getevents", "io_pgetevents");

    private final String word;

    CallClass(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }

    /**
     * The class of every syscall number of {@code table}: waiting first (a wait4 is a wait before it is
     * process control), then the narrower strace classes before the broad file and descriptor ones.
     */
    public static CallClass[] of(SyscallTable table) {
        CallClass[] byNr = new CallClass[table.size()];
        for (int nr = 0; nr < byNr.length; nr++) byNr[nr] = classify(table.name(nr));
        return byNr;
    }

    static CallClass classify(String name) {
        if (WAITS.contains(name)) return WAIT;
        if (in("network", name)) return NETWORK;
        if (in("process", name)) return PROCESS;
        if (in("signal", name)) return SIGNALS;
        if (in("clock", name)) return TIME;
        if (in("memory", name)) return MEMORY;
        if (in("file", name) || in("desc", name)) return FILE;
        return OTHER;
    }

    private static boolean in(String strace, String name) {
        return SyscallClasses.members(strace).orElseThrow().contains(name);
    }
}
