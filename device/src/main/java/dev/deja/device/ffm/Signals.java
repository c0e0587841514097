package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** kill(2) and tgkill(2). Safe from any thread: each call owns its call state. */
public final class Signals {
    public static final int SIGKILL = 9;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;
    public static final int SIGTRAP = 5;
    /** The signals a fault raises (SIGILL SIGTRAP SIGBUS SIGFPE SIGSEGV SIGSYS). */
    private static final java.util.Set<Integer> FAULTS = java.util.Set.of(4, 5, 7, 8, 11, 31);

    /**
     * Whether a signal came from the thread's own fault (an instruction the kernel trapped: a positive
     * si_code for one of the fault signals) rather than from a sender or a timer: replay does not send
     * those, the program makes them again.
     */
    public static boolean raisedByFault(int signo, int code) {
        return code > 0 && FAULTS.contains(signo);
    }

    /**
     * Whether a kill between recorded processes sends {@code signo} for real on replay rather than from
     * the recording: SIGKILL only, which has no delivery the recording could place. Stops and SIGCONT
     * come from the recording too (replay carries out no stop: sent for real, a SIGSTOP stopped its
     * receiver before calls the recording shows it making before the stop, and the replay then waited
     * for them while it held back the SIGCONT).
     */
    public static boolean sentForRealOnReplay(int signo) {
        return signo == SIGKILL;
    }

    /** Whether {@code signo} stops its receiver by default: SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU (signal(7)). */
    public static boolean isStopSignal(int signo) {
        return signo == SIGSTOP || signo == 20 || signo == 21 || signo == 22;
    }
    private static final int ESRCH = 3;

    private static final MethodHandle KILL = Native.withErrno("kill",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle TGKILL = Native.withErrno("tgkill",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private Signals() {
    }

    /** Sends {@code signal} to process {@code pid}; false when it no longer exists. */
    public static boolean kill(int pid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.callState(arena);
            int r = (int) KILL.invokeExact(state, pid, signal);
            return result(r, state, "kill", "pid " + pid + ", signal " + signal);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Sends {@code signal} to thread {@code tid} of {@code pid}; false when it no longer exists. */
    public static boolean tgkill(int pid, int tid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.callState(arena);
            int r = (int) TGKILL.invokeExact(state, pid, tid, signal);
            return result(r, state, "tgkill", "pid " + pid + ", tid " + tid + ", signal " + signal);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** kill(2) as a program makes it: 0, or the negated errno (ESRCH, EPERM, EINVAL). */
    public static int killAsCalled(int pid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.callState(arena);
            int r = (int) KILL.invokeExact(state, pid, signal);
            return r == 0 ? 0 : -Native.errno(state);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static boolean result(int r, MemorySegment state, String call, String context) {
        if (r == 0) return true;
        int errno = Native.errno(state);
        if (errno == ESRCH) return false;
        throw new NativeCallException(call, errno, context);
    }
}
