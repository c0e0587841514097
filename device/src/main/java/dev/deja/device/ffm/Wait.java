package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** waitpid(2) for the tracing thread, and the W* status macros. */
public final class Wait implements AutoCloseable {
    public static final int WNOHANG = 1;
    public static final int WUNTRACED = 2;
    public static final int WALL = 0x40000000;
    private static final int EINTR = 4;
    private static final int ECHILD = 10;

    private static final MethodHandle WAITPID = Native.withErrno("waitpid",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = Native.callState(arena);
    private final MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
    private int lastStatus;

    /**
     * Waits for a state change; returns the tid (its status in {@link #status()}), 0 with WNOHANG
     * and nothing ready, or -1 when there is no child left (ECHILD). EINTR is retried.
     */
    public int waitpid(int pid, int options) {
        while (true) {
            int r;
            try {
                r = (int) WAITPID.invokeExact(callState, pid, status, options);
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
            if (r >= 0) {
                lastStatus = r > 0 ? status.get(ValueLayout.JAVA_INT, 0) : 0;
                return r;
            }
            int errno = Native.errno(callState);
            if (errno == EINTR) continue;
            if (errno == ECHILD) return -1;
            throw new NativeCallException("waitpid", errno, "pid " + pid);
        }
    }

    public int status() {
        return lastStatus;
    }

    public static boolean exited(int s) {
        return (s & 0x7f) == 0;
    }

    public static int exitCode(int s) {
        return (s >> 8) & 0xff;
    }

    public static boolean signaled(int s) {
        return ((s & 0x7f) + 1) >> 1 > 0 && (s & 0xff) != 0x7f;
    }

    public static int termSignal(int s) {
        return s & 0x7f;
    }

    public static boolean coreDumped(int s) {
        return (s & 0x80) != 0;
    }

    public static boolean stopped(int s) {
        return (s & 0xff) == 0x7f;
    }

    public static int stopSignal(int s) {
        return (s >> 8) & 0xff;
    }

    /** The PTRACE_EVENT_* number of a ptrace event stop, or 0. */
    public static int ptraceEvent(int s) {
        return (s >> 16) & 0xff;
    }

    @Override
    public void close() {
        arena.close();
    }
}
