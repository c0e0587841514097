package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * perf_event_open(2), software events only: a thread's task clock with {@code sigtrap}, so that the
 * thread itself takes a SIGTRAP after a given amount of its own CPU time. The kernel's timer fires on
 * the CPU the thread runs on, so the stop comes tens of microseconds after the budget however loaded
 * the machine is (a timer thread of deja's own needs a CPU to run on first). Needs no hardware
 * counter; needs the right to ptrace the thread, which a tracer has.
 */
public final class PerfEvents {
    private static final long SYS_PERF_EVENT_OPEN = 298;
    private static final int PERF_TYPE_SOFTWARE = 1;
    private static final long PERF_COUNT_SW_TASK_CLOCK = 1;
    /** struct perf_event_attr, PERF_ATTR_SIZE_VER7 (the first with sig_data). */
    private static final int ATTR_SIZE = 128;
    private static final long EXCLUDE_KERNEL = 1L << 5;
    private static final long REMOVE_ON_EXEC = 1L << 36;
    private static final long SIGTRAP = 1L << 37;
    private static final long PERF_FLAG_FD_CLOEXEC = 1L << 3;
    /** siginfo_t: si_code, and si_perf_data (the attr's sig_data) in the _sigfault union. */
    private static final int SI_CODE_OFFSET = 8;
    private static final int SI_PERF_DATA_OFFSET = 24;
    private static final int TRAP_PERF = 6;

    private static final MethodHandle SYSCALL = Native.variadicWithErrno("syscall", FunctionDescriptor.of(
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), 1);
    private static final MethodHandle CLOSE = Native.plain("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private PerfEvents() {
    }

    /**
     * Opens a task-clock event on thread {@code tid} that sends it SIGTRAP (si_code TRAP_PERF, si_perf_data
     * {@code marker}) after {@code cpuNs} of its CPU time in user mode. Returns the descriptor, or -errno.
     */
    public static int trapAfterCpu(int tid, long cpuNs, long marker) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(ValueLayout.JAVA_INT, 0, PERF_TYPE_SOFTWARE);
            attr.set(ValueLayout.JAVA_INT, 4, ATTR_SIZE);
            attr.set(ValueLayout.JAVA_LONG, 8, PERF_COUNT_SW_TASK_CLOCK);
            attr.set(ValueLayout.JAVA_LONG, 16, Math.max(1, cpuNs)); // sample_period
            attr.set(ValueLayout.JAVA_LONG, 40, EXCLUDE_KERNEL | REMOVE_ON_EXEC | SIGTRAP);
            attr.set(ValueLayout.JAVA_LONG, 120, marker); // sig_data
            MemorySegment state = Native.callState(arena);
            long fd = (long) SYSCALL.invokeExact(state, SYS_PERF_EVENT_OPEN, attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
            return fd < 0 ? -Native.errno(state) : (int) fd;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Whether {@code siginfo} (a raw siginfo_t) is the trap of an event opened with {@code marker}. */
    public static boolean isTrap(byte[] siginfo, long marker) {
        MemorySegment s = MemorySegment.ofArray(siginfo);
        return s.get(ValueLayout.JAVA_INT_UNALIGNED, SI_CODE_OFFSET) == TRAP_PERF
                && s.get(ValueLayout.JAVA_LONG_UNALIGNED, SI_PERF_DATA_OFFSET) == marker;
    }
}
