package dev.deja.recorder;

import dev.deja.device.LaunchSpec;
import dev.deja.device.TraceResult;
import dev.deja.device.TraceSession;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code deja record}: runs a program under the trace device and writes every event into a
 * recording. The tracing runs on its own platform thread (ptrace belongs to one thread); Ctrl-C or
 * SIGTERM to deja kill the traced tree, and the recording is closed as interrupted, every event
 * written before kept.
 */
public final class Recorder {
    private Recorder() {
    }

    /** What a recording session produced. */
    public record Outcome(Path recording, TraceResult result) {
    }

    public static Outcome record(LaunchSpec spec, RecordingHeader header, Path dir) throws RecordingException {
        AtomicReference<TraceResult> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = null;
        // The journal opens before tracing starts, never beside it: Chronicle's start-up runs a child
        // process (JNA's ldconfig), and the tracing thread's waitpid(-1) would take that child from the JDK.
        try (RecordingWriter writer = RecordingWriter.create(dir, header)) {
            TraceSession session = new TraceSession(spec, new RecordingTracer(writer));
            Thread tracing = Thread.ofPlatform().name("deja-tracer").unstarted(() -> {
                try {
                    result.set(session.run());
                } catch (RuntimeException | Error e) {
                    failure.set(e);
                }
            });
            hook = Thread.ofPlatform().name("deja-interrupt").unstarted(() -> {
                session.requestStop();
                awaitQuietly(closed);
            });
            Runtime.getRuntime().addShutdownHook(hook);
            tracing.start();
            join(tracing);
            Throwable t = failure.get();
            if (t instanceof RecordingTracer.RecorderFailure f) throw f.recordingException();
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            TraceResult r = result.get();
            RecordingStatus status = r.interrupted() ? RecordingStatus.INTERRUPTED : RecordingStatus.COMPLETE;
            writer.finish(new RecordingSummary(status, epochNanos(), r.shellStatus(), r.events(), r.processes()));
            return new Outcome(dir, r);
        } finally {
            // The writer is closed (try-with-resources) before an interrupt hook lets the JVM halt.
            closed.countDown();
            if (hook != null) removeHook(hook);
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // The JVM is exiting because of a signal: the hook is running and waits for us.
        }
    }

    private static void join(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
