package dev.deja.device.tracer;

import dev.deja.device.LaunchSpec;
import dev.deja.device.TraceResult;
import dev.deja.device.TraceSession;
import dev.deja.device.Tracer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a {@link TraceSession} for a command-line tool: on its own platform thread (ptrace belongs
 * to it), with a shutdown hook so that Ctrl-C or SIGTERM kills the traced tree and the run still
 * returns (marked interrupted) and {@code after} (printing a summary, closing files) still runs.
 */
public final class TraceRun {
    private TraceRun() {
    }

    public static TraceResult run(LaunchSpec spec, Tracer tracer, Runnable after) {
        AtomicReference<TraceResult> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        TraceSession session = new TraceSession(spec, tracer);
        Thread tracing = Thread.ofPlatform().name("deja-tracer").unstarted(() -> {
            try {
                result.set(session.run());
            } catch (RuntimeException | Error e) {
                failure.set(e);
            }
        });
        Thread hook = Thread.ofPlatform().name("deja-interrupt").unstarted(() -> {
            session.requestStop();
            try {
                done.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
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
            after.run();
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running and waits for us
            }
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        return result.get();
    }
}
