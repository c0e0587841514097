package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * sched_setscheduler(2) with SCHED_FIFO for the calling thread, and gettid(2). deja's timer thread
 * asks for it so that it wakes within microseconds even when every CPU is busy (a free-running
 * tracee must be stopped on time); without the privilege it stays an ordinary thread.
 */
public final class RealtimePriority {
    private static final int SCHED_FIFO = 1;

    private static final MethodHandle SETSCHEDULER = Native.withErrno("sched_setscheduler",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle GETTID = Native.plain("gettid", FunctionDescriptor.of(ValueLayout.JAVA_INT));

    private RealtimePriority() {
    }

    /** Makes the calling thread SCHED_FIFO at the lowest real-time priority; false when not permitted. */
    public static boolean forCallingThread() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.callState(arena);
            MemorySegment param = arena.allocate(ValueLayout.JAVA_INT);
            param.set(ValueLayout.JAVA_INT, 0, 1);
            int tid = (int) GETTID.invokeExact();
            return (int) SETSCHEDULER.invokeExact(state, tid, SCHED_FIFO, param) == 0;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
