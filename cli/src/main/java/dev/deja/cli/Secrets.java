package dev.deja.cli;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.formats.internal.Metadata;
import dev.deja.recorder.HomeFileOpens;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What a recording holds that may be secret, for {@code deja info}: the names (never the values) of
 * environment variables that look like credentials, and the files under the recorded user's home
 * directory the program opened successfully (their contents are in the recording). A reminder to
 * review before attaching, not a scanner: anything the program read may be sensitive.
 */
record Secrets(List<String> variables, List<String> homeFiles, long homeFileCount) {
    private static final Pattern SECRET_NAME = Pattern.compile(
            "(?i).*(TOKEN|SECRET|PASSW|PASSPHRASE|API_?KEY|PRIVATE|CREDENTIAL|AUTH|COOKIE|SESSION|_KEY$|^KEY$).*");
    private static final int MAX_FILES = 20;

    /** The variable names of {@code env} that look like credentials, sorted. */
    static List<String> secretLooking(Map<String, String> env) {
        List<String> out = new ArrayList<>();
        for (String name : new TreeSet<>(env.keySet())) if (SECRET_NAME.matcher(name).matches()) out.add(name);
        return out;
    }

    /**
     * The names, and the files under HOME the program opened: as meta.json lists them, else (an older or
     * unfinished recording) read from the journal.
     */
    static Secrets of(Recording rec) throws RecordingException {
        Map<String, String> env = rec.header().environment();
        Optional<Metadata.HomeFiles> listed = rec.homeFilesRead();
        if (listed.isPresent()) return new Secrets(secretLooking(env), listed.get().first(), listed.get().total());
        HomeFileOpens opens = new HomeFileOpens(SyscallTable.of(Arch.parse(rec.header().arch())), env, rec.header().cwd());
        Set<String> files = new TreeSet<>();
        if (!env.getOrDefault("HOME", "").isEmpty()) {
            try (EventReader events = rec.events()) {
                for (Event e; (e = events.next()) != null; ) {
                    String path = e instanceof SyscallEvent s ? opens.opened(s) : null;
                    if (path != null) files.add(path);
                }
            }
        }
        return new Secrets(secretLooking(env), List.copyOf(files), files.size());
    }

    /** The lines info prints: one for the variables, one per home file (at most 20, then a count). */
    List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add("may be secret: " + (variables.isEmpty() ? "no environment variable with a secret-looking name"
                : "environment variables " + String.join(", ", variables)) + " (every variable's value is in the recording)");
        if (!homeFiles.isEmpty()) {
            out.add("  files read under the home directory (their contents are in the recording):");
            for (int i = 0; i < homeFiles.size() && i < MAX_FILES; i++) out.add("    " + homeFiles.get(i));
            if (homeFileCount > MAX_FILES) out.add("    ... and " + (homeFileCount - MAX_FILES) + " more");
        }
        return out;
    }
}
