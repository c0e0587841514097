package dev.deja.device;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a {@link TraceSession} for a command (record, replay, trace, run): on its own platform
 * thread (ptrace belongs to it), with a shutdown hook so that Ctrl-C or SIGTERM kills the traced
 * tree and the run still returns (marked interrupted) and {@code after} (closing the recording,
 * printing a summary) still runs before the JVM exits. A failure of the session is rethrown.
 */
public final class TraceRun {
    private TraceRun() {
    }

    /** What runs once the traced tree is gone, before an interrupted JVM may exit. */
    @FunctionalInterface
    public interface After<E extends Exception> {
        void run(TraceResult result) throws E;
    }

    public static TraceResult run(LaunchSpec spec, Tracer tracer, Runnable after) {
        return run(spec, tracer, (TraceResult r) -> after.run());
    }

    /**
     * As {@link #run(LaunchSpec, Tracer, Runnable)}; {@code after} gets the result (null when the
     * session failed) and may throw its own checked exception, which is rethrown.
     */
    public static <E extends Exception> TraceResult run(LaunchSpec spec, Tracer tracer, After<E> after) throws E {
        return run(new TraceSession(spec, tracer), after);
    }

    /**
     * As {@link #run(LaunchSpec, Tracer, After)} for any session, e.g. one that attaches to a
     * running process ({@link TraceSession#attach}): Ctrl-C or SIGTERM then detaches from it.
     */
    public static <E extends Exception> TraceResult run(TraceSession session, After<E> after) throws E {
        AtomicReference<TraceResult> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread tracing = Thread.ofPlatform().name("deja-tracer").unstarted(() -> {
            try {
                result.set(session.run());
            } catch (RuntimeException | Error e) {
                failure.set(e);
            }
        });
        Thread hook = stopOnShutdown(session, done);
        try {
            tracing.start();
            boolean interrupted = false;
            while (true) {
                try {
                    tracing.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            after.run(failure.get() == null ? result.get() : null);
        } finally {
            release(hook, done);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        return result.get();
    }

    /**
     * As {@link #run(TraceSession, After)}, on the calling thread, which stays the tracer of what
     * outlives the session (stopped process copies, see {@link ProcessCopies}): for one thread that
     * runs several sessions in turn. A session that fails leaves no zombie of its tree behind.
     */
    public static TraceResult runHere(TraceSession session) {
        session.keepsThread = true;
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = stopOnShutdown(session, done);
        try {
            return session.run();
        } finally {
            release(hook, done);
        }
    }

    /** A shutdown hook (Ctrl-C, SIGTERM) that stops the session's tree and waits (10 s at most) for {@code done}. */
    private static Thread stopOnShutdown(TraceSession session, CountDownLatch done) {
        Thread hook = Thread.ofPlatform().name("deja-interrupt").unstarted(() -> {
            session.requestStop();
            try {
                done.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    private static void release(Thread hook, CountDownLatch done) {
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running and waits for us
        }
    }
}
