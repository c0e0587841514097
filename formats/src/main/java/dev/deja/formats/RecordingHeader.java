package dev.deja.formats;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * What is known when a recording starts: written into the metadata at creation and kept at close.
 *
 * @param formatVersion the recording format version ({@link RecordingFormat#CURRENT_VERSION} when written by this deja)
 * @param dejaVersion   the version of deja that wrote it
 * @param id            a random UUID naming this recording
 * @param command       the traced program's argv
 * @param environment   its environment, in the order given
 * @param startTimeNs   wall-clock start, ns since the epoch
 * @param launchSignals the signal state the program started with; empty in recordings made before
 *                      deja kept it
 */
public record RecordingHeader(int formatVersion, String dejaVersion, String id, List<String> command,
                              Map<String, String> environment, String cwd, int uid, int gid, String kernel,
                              String arch, String hostname, long startTimeNs, Optional<LaunchSignals> launchSignals) {

    /** A header that does not know the program's starting signal state. */
    public RecordingHeader(int formatVersion, String dejaVersion, String id, List<String> command,
                           Map<String, String> environment, String cwd, int uid, int gid, String kernel, String arch,
                           String hostname, long startTimeNs) {
        this(formatVersion, dejaVersion, id, command, environment, cwd, uid, gid, kernel, arch, hostname, startTimeNs,
                Optional.empty());
    }

    public RecordingHeader {
        Objects.requireNonNull(dejaVersion, "dejaVersion");
        Objects.requireNonNull(id, "id");
        command = List.copyOf(command);
        environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        Objects.requireNonNull(cwd, "cwd");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(arch, "arch");
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(launchSignals, "launchSignals");
    }

    /** A header for a new recording by this deja: current format version, deja version and a fresh UUID. */
    public static RecordingHeader forCommand(List<String> command, Map<String, String> env, String cwd, int uid,
                                             int gid, String kernel, String arch, String hostname,
                                             long startTimeNs) {
        return forCommand(command, env, cwd, uid, gid, kernel, arch, hostname, startTimeNs, Optional.empty());
    }

    /** As above, with the signal state the program starts with. */
    public static RecordingHeader forCommand(List<String> command, Map<String, String> env, String cwd, int uid,
                                             int gid, String kernel, String arch, String hostname,
                                             long startTimeNs, Optional<LaunchSignals> launchSignals) {
        return new RecordingHeader(RecordingFormat.CURRENT_VERSION, RecordingFormat.DEJA_VERSION,
                UUID.randomUUID().toString(), command, env, cwd, uid, gid, kernel, arch, hostname, startTimeNs,
                launchSignals);
    }
}
