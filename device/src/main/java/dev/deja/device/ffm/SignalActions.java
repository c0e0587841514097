package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * sigaction(2) on deja's own process, for one purpose: a child inherits an ignored signal across
 * posix_spawn and exec, and nothing else makes a spawned program start with a signal ignored
 * (posix_spawn can only reset signals to their default action). So, while a program is launched,
 * deja ignores the signals the program must start ignored, and puts its own actions back after.
 * Only signals that end, stop or nudge a process are touched: never those the JVM lives on
 * (SIGSEGV, SIGBUS, SIGCHLD, SIGUSR2...).
 */
public final class SignalActions implements AutoCloseable {

    /** SIGHUP SIGINT SIGQUIT SIGPIPE SIGALRM SIGTERM SIGTSTP SIGTTIN SIGTTOU (bit N-1 for signal N). */
    public static final long SETTABLE = bit(1) | bit(2) | bit(3) | bit(13) | bit(14) | bit(15) | bit(20) | bit(21) | bit(22);

    /** glibc's struct sigaction on x86_64 and aarch64: handler, 128-byte mask, flags, restorer (152 bytes). */
    private static final long SIGACTION_SIZE = 152;
    private static final long SIG_IGN = 1;

    private static final MethodHandle SIGACTION = Native.withErrno("sigaction",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));

    private final Arena arena = Arena.ofShared();
    /** The actions replaced, by signal, to put back. */
    private final Map<Integer, MemorySegment> saved = new LinkedHashMap<>();
    private boolean restored;

    private SignalActions() {
    }

    private static long bit(int signo) {
        return 1L << (signo - 1);
    }

    /**
     * Ignores, in this process, every signal of {@code mask} that {@link #SETTABLE} holds; {@link #close}
     * puts the former actions back. Throws NativeCallException when sigaction fails (the actions
     * changed so far are put back first).
     */
    public static SignalActions ignore(long mask) {
        SignalActions s = new SignalActions();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment state = Native.callState(call);
            MemorySegment ignore = call.allocate(SIGACTION_SIZE, 8);
            ignore.set(ValueLayout.JAVA_LONG, 0, SIG_IGN);
            for (int signo = 1; signo <= 64; signo++) {
                if ((mask & SETTABLE & bit(signo)) == 0) continue;
                MemorySegment old = s.arena.allocate(SIGACTION_SIZE, 8);
                int r = (int) SIGACTION.invokeExact(state, signo, ignore, old);
                if (r != 0) {
                    s.close();
                    throw new NativeCallException("sigaction", Native.errno(state), "signal " + signo + ", SIG_IGN");
                }
                s.saved.put(signo, old);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return s;
    }

    /** Puts back the actions {@link #ignore} replaced; from any thread, once. */
    @Override
    public synchronized void close() {
        if (restored) return;
        restored = true;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment state = Native.callState(call);
            for (Map.Entry<Integer, MemorySegment> e : saved.entrySet()) {
                int r = (int) SIGACTION.invokeExact(state, (int) e.getKey(), e.getValue(), MemorySegment.NULL);
                if (r != 0) {
                    throw new NativeCallException("sigaction", Native.errno(state), "signal " + e.getKey() + ", restoring");
                }
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            arena.close();
        }
    }
}
