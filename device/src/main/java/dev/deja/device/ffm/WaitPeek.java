package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * waitid(2) with WNOWAIT | WNOHANG: whether some child (or traced thread) has a state change to
 * report, without taking it; the next waitpid(2) still gets it. Only meaningful on the tracing
 * thread, which is the only thread whose tracees it sees.
 */
public final class WaitPeek {
    private static final int P_ALL = 0;
    private static final int WNOHANG = 1;
    private static final int WSTOPPED = 2;
    private static final int WEXITED = 4;
    private static final int WNOWAIT = 0x01000000;
    private static final int WALL = 0x40000000;
    private static final int ECHILD = 10;
    private static final int EINTR = 4;
    private static final int SIGINFO_SIZE = 128;
    /** si_pid's offset in siginfo_t on Linux (after si_signo, si_errno, si_code and padding). */
    private static final long SI_PID = 16;

    private static final MethodHandle WAITID = Native.withErrno("waitid",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT));

    private WaitPeek() {
    }

    /** True when a waitpid(-1, __WALL) would return at once with a stop or an exit. */
    public static boolean pending() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.callState(arena);
            MemorySegment info = arena.allocate(SIGINFO_SIZE);
            while (true) {
                int r = (int) WAITID.invokeExact(state, P_ALL, 0, info, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | WALL);
                if (r == 0) return info.get(ValueLayout.JAVA_INT, SI_PID) != 0;
                int errno = Native.errno(state);
                if (errno == EINTR) continue;
                if (errno == ECHILD) return false;
                throw new NativeCallException("waitid", errno, "P_ALL, WNOWAIT | WNOHANG");
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
