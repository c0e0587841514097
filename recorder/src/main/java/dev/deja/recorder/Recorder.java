package dev.deja.recorder;

import dev.deja.device.LaunchSpec;
import dev.deja.device.TraceResult;
import dev.deja.device.TraceRun;
import dev.deja.device.Tracer;
import dev.deja.device.ffm.Signals;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import dev.deja.formats.SharedBlobs;
import dev.deja.recorder.chaos.ChaosTracer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code deja record}: runs a program under the trace device and writes every event into a
 * recording. The tracing runs on its own platform thread (ptrace belongs to one thread); Ctrl-C or
 * SIGTERM to deja kill the traced tree, and the recording is closed as interrupted, every event
 * written before kept.
 */
public final class Recorder {
    private Recorder() {
    }

    /**
     * What a recording session produced.
     *
     * @param timedOut the run lasted longer than {@link Settings#timeout()} and deja killed it
     */
    public record Outcome(Path recording, TraceResult result, boolean timedOut) {
    }

    /**
     * How to run the program besides recording it.
     *
     * @param timeout   kill the whole tree (SIGKILL) once the run lasted this long; empty: no limit
     * @param chaos     perturb scheduling with this seed ({@link ChaosTracer}); empty: no chaos
     * @param chaosCpus the CPUs chaos may pin the program to (deja's own allowed CPUs)
     * @param sharedBlobs the user's store to hard-link copied files from ({@link SharedBlobs}); empty: copy each
     */
    public record Settings(Optional<Duration> timeout, OptionalLong chaos, List<Integer> chaosCpus,
                           Optional<SharedBlobs> sharedBlobs) {
        public static final Settings PLAIN = new Settings(Optional.empty(), OptionalLong.empty(), List.of(), Optional.empty());

        public Settings {
            chaosCpus = List.copyOf(chaosCpus);
            if (timeout.isPresent() && (timeout.get().isNegative() || timeout.get().isZero())) {
                throw new IllegalArgumentException("a timeout must be positive, got " + timeout.get());
            }
            if (chaos.isPresent() && chaosCpus.isEmpty()) throw new IllegalArgumentException("chaos needs a CPU");
        }
    }

    public static Outcome record(LaunchSpec spec, RecordingHeader header, Path dir) throws RecordingException {
        return record(spec, header, dir, Settings.PLAIN);
    }

    public static Outcome record(LaunchSpec spec, RecordingHeader header, Path dir, Settings settings)
            throws RecordingException {
        // The journal opens before tracing starts, never beside it: Chronicle's start-up runs a child
        // process (JNA's ldconfig), and the tracing thread's waitpid(-1) would take that child from the JDK.
        try (RecordingWriter writer = RecordingWriter.create(dir, header, settings.sharedBlobs().orElse(null))) {
            Tracer tracer = new RecordingTracer(writer);
            TimeLimitTracer limit = null;
            if (settings.timeout().isPresent()) {
                limit = new TimeLimitTracer(tracer, settings.timeout().get());
                tracer = limit;
            }
            if (settings.chaos().isPresent()) {
                tracer = new ChaosTracer(tracer, settings.chaos().getAsLong(), settings.chaosCpus());
            }
            TraceResult r;
            try {
                if (limit != null) limit.start();
                r = TraceRun.run(spec, tracer, (TraceResult done) -> {
                    if (done == null) return; // the session failed: the recording stays incomplete, readable
                    RecordingStatus status = done.interrupted() ? RecordingStatus.INTERRUPTED : RecordingStatus.COMPLETE;
                    writer.finish(new RecordingSummary(status, epochNanos(), done.shellStatus(), done.events(),
                            done.processes()));
                });
            } catch (RecordingTracer.RecorderFailure f) {
                throw f.recordingException();
            } finally {
                if (limit != null) limit.close();
            }
            // A run that ended on its own just as the limit passed was not killed for it.
            boolean timedOut = limit != null && limit.expired() && r.termSignal() == Signals.SIGKILL;
            return new Outcome(dir, r, timedOut);
        }
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
