package dev.deja.formats.pack;

import dev.deja.formats.RecordingStatus;

import java.util.List;
import java.util.Objects;

/**
 * What the manifest says about the packed recording, so that {@code deja info} can describe a pack
 * without unpacking it.
 *
 * @param user        the recording user's name from its environment (USER or LOGNAME), or "" when unset
 * @param endTimeNs   wall-clock end, or -1 when the recording is incomplete
 * @param exitStatus  the program's exit status, or -1 when the recording is incomplete
 * @param events      events in the journal (for an incomplete recording: those kept before it stopped)
 * @param processes   processes seen, or -1 when the recording is incomplete
 * @param bytes       bytes of the recording's files, holes left out
 */
public record PackSummary(String id, int formatVersion, String dejaVersion, RecordingStatus status,
                          List<String> command, String cwd, String hostname, String user, int uid, int gid,
                          String kernel, String arch, long startTimeNs, long endTimeNs, int exitStatus, long events,
                          int processes, long bytes) {
    public PackSummary {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(dejaVersion, "dejaVersion");
        Objects.requireNonNull(status, "status");
        command = List.copyOf(command);
        Objects.requireNonNull(cwd, "cwd");
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(arch, "arch");
    }
}
