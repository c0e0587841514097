package dev.deja.recorder;

import dev.deja.device.LaunchSpec;
import dev.deja.device.TraceResult;
import dev.deja.device.TraceRun;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import java.nio.file.Path;
import java.time.Instant;

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
        // The journal opens before tracing starts, never beside it: Chronicle's start-up runs a child
        // process (JNA's ldconfig), and the tracing thread's waitpid(-1) would take that child from the JDK.
        try (RecordingWriter writer = RecordingWriter.create(dir, header)) {
            TraceResult r;
            try {
                r = TraceRun.run(spec, new RecordingTracer(writer), (TraceResult done) -> {
                    if (done == null) return; // the session failed: the recording stays incomplete, readable
                    RecordingStatus status = done.interrupted() ? RecordingStatus.INTERRUPTED : RecordingStatus.COMPLETE;
                    writer.finish(new RecordingSummary(status, epochNanos(), done.shellStatus(), done.events(),
                            done.processes()));
                });
            } catch (RecordingTracer.RecorderFailure f) {
                throw f.recordingException();
            }
            return new Outcome(dir, r);
        }
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
