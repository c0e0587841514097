package dev.deja.formats;

/**
 * What the recorder knows when the run ends, written into the metadata by {@link RecordingWriter#finish}.
 *
 * @param status      {@link RecordingStatus#COMPLETE} or {@link RecordingStatus#INTERRUPTED}
 * @param endTimeNs   wall-clock end time, ns since the epoch
 * @param exitStatus  the traced program's exit status as a shell reports it (128+N when killed by signal N)
 * @param eventCount  number of events recorded
 * @param processCount number of processes seen
 */
public record RecordingSummary(RecordingStatus status, long endTimeNs, int exitStatus, long eventCount,
                               int processCount) {

    public RecordingSummary {
        java.util.Objects.requireNonNull(status, "status");
    }
}
