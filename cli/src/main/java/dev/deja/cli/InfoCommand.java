package dev.deja.cli;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.Recordings;
import dev.deja.formats.UnsupportedFormatException;
import dev.deja.formats.event.Event;
import dev.deja.formats.pack.PackManifest;
import dev.deja.formats.pack.PackReader;
import dev.deja.formats.pack.PackSummary;
import dev.deja.formats.pack.Packs;
import dev.deja.replayer.ReplayException;
import dev.deja.replayer.Replayer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Describe a recording or a packed recording, and whether this machine can replay it.",
                "Program, arguments, where and when it was recorded, how long, processes, events, size, what it holds"
                        + " that may be secret, and whether this machine can replay it (checked, then tried with a test"
                        + " trace of /bin/true). For a recording whose recorder died, counts the events that were kept."},
        footer = {"", "Examples:", "  deja info bug1", "  deja info --check bug1.deja"})
final class InfoCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "RECORDING",
            description = "A recording directory or name, or a packed recording (.deja file); default: the latest.")
    String recording;

    @Option(names = "--check", description = "Also check every checksum: each journal entry and blob of a recording, each chunk and file of a pack.")
    boolean check;

    @Override
    public Integer call() {
        Path p;
        try {
            p = Recordings.resolve(recording);
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
        if (RecordingArg.isPackedFile(p)) {
            describePack(p);
        } else {
            describeDirectory();
        }
        return ExitCodes.OK;
    }

    private void describeDirectory() {
        try (Recording rec = RecordingArg.open(recording)) {
            RecordingHeader h = rec.header();
            // Before the journal is opened: the test trace must not run alongside Chronicle's own child.
            String replayable = Replayability.line(Replayability.obstacles(h.arch(), h.formatVersion()));
            Optional<RecordingSummary> summary = rec.summary();
            System.out.println("recording: " + rec.path());
            common(h.id(), rec.status(), h.command(), h.cwd(), h.startTimeNs(), h.hostname(),
                    h.environment().getOrDefault("USER", h.environment().getOrDefault("LOGNAME", "")), h.uid(), h.gid(),
                    h.kernel(), h.arch(), h.formatVersion(), h.dejaVersion());
            if (summary.isPresent()) {
                RecordingSummary s = summary.get();
                System.out.println("duration:  " + human(Duration.ofNanos(s.endTimeNs() - h.startTimeNs())));
                System.out.println("exit status: " + s.exitStatus());
                System.out.println("processes: " + s.processCount());
                System.out.println("events:    " + s.eventCount());
            } else {
                // No summary: the recorder did not close it; count what the journal kept.
                long count = 0;
                Set<Integer> pids = new HashSet<>();
                long last = h.startTimeNs();
                try (EventReader events = rec.events()) {
                    for (Event e; (e = events.next()) != null; ) {
                        count++;
                        pids.add(e.pid());
                        last = Math.max(last, e.timeNs());
                    }
                }
                System.out.println("duration:  at least " + human(Duration.ofNanos(last - h.startTimeNs())));
                System.out.println("processes: " + pids.size());
                System.out.println("events:    " + count + " (kept before the recording stopped)");
            }
            System.out.println("size:      " + Sizes.human(rec.sizeBytes()) + " (" + rec.sizeBytes() + " bytes)");
            for (String line : Secrets.of(rec).lines()) System.out.println(line);
            if (check) {
                verify(rec);
                System.out.println(checksumLine(rec));
            } else {
                int blobs = rec.checkBlobSizes();
                System.out.println("checksums: not checked; the " + blobs + " blob" + (blobs == 1 ? "" : "s")
                        + " have the sizes the index gives (deja info --check verifies the contents)");
            }
            System.out.println("replayable here: " + replayable);
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** Every checksum, and the metadata against what the journal recorded of the run. */
    private static void verify(Recording rec) throws RecordingException {
        rec.verify();
        try {
            Replayer.checkMetadata(rec);
        } catch (ReplayException e) {
            throw new UserError(e.getMessage());
        }
    }

    private static String checksumLine(Recording rec) {
        return rec.metadataChecksummed() ? "checksums: all verified"
                : "checksums: all verified; meta.json has none (written by an older deja): its command, environment"
                + " and exit status were checked against the journal";
    }

    private void describePack(Path file) {
        try (PackReader reader = PackReader.open(file)) {
            PackManifest m = reader.manifest();
            PackSummary r = m.recording();
            requireSummaryMatchesMetadata(reader, file);
            System.out.println("recording: " + file + " (packed, pack format version " + m.version() + ")");
            common(r.id(), r.status(), r.command(), r.cwd(), r.startTimeNs(), r.hostname(), r.user(), r.uid(), r.gid(),
                    r.kernel(), r.arch(), r.formatVersion(), r.dejaVersion());
            if (r.status() != RecordingStatus.INCOMPLETE) {
                System.out.println("duration:  " + human(Duration.ofNanos(r.endTimeNs() - r.startTimeNs())));
                System.out.println("exit status: " + r.exitStatus());
                System.out.println("processes: " + r.processes());
                System.out.println("events:    " + r.events());
            } else {
                System.out.println("events:    " + r.events() + " (kept before the recording stopped)");
            }
            System.out.println("size:      " + Sizes.human(r.bytes()) + " (" + r.bytes() + " bytes in " + m.entries().size()
                    + " files); packed: " + Sizes.human(reader.length()) + " (" + reader.length() + " bytes)");
            if (check) {
                // Everything, as replay would read it: every chunk and file hash while unpacking, then the
                // recording's own checksums and the summary against the journal (events of an incomplete one).
                try (Recording rec = Recording.openOwned(Packs.unpackToTemp(file))) {
                    verify(rec);
                    Packs.requireSummaryMatches(m, file, rec);
                    System.out.println(checksumLine(rec));
                }
            } else {
                try {
                    Map<String, String> env = reader.metadata().header().environment();
                    List<String> names = Secrets.secretLooking(env);
                    System.out.println("may be secret: " + (names.isEmpty() ? "no environment variable with a secret-looking name"
                            : "environment variables " + String.join(", ", names)) + " (every variable's value is in the pack;"
                            + " deja unpack, then deja info, lists the files it read under the home directory)");
                    reader.checkLayout();
                    System.out.println("checksums: not checked; every file's chunks are there as the manifest lists them"
                            + " (deja info --check reads and verifies the whole pack)");
                } catch (UnsupportedFormatException e) {
                    // described from its summary above; this deja cannot read further
                    System.out.println("checksums: not checked (the recording's format is newer than this deja reads)");
                }
            }
            System.out.println("replayable here: " + Replayability.line(Replayability.obstacles(r.arch(), r.formatVersion())));
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
    }

    /**
     * The summary is what info shows of a pack: hold it against the recording's meta.json (the first entry,
     * read at once). A recording of a format this deja does not read is described from the summary, as long
     * as the summary says which version it is.
     */
    private static void requireSummaryMatchesMetadata(PackReader reader, Path file) throws RecordingException {
        try {
            reader.metadata();
        } catch (UnsupportedFormatException e) {
            int claimed = reader.manifest().recording().formatVersion();
            if (claimed != e.found()) {
                throw new CorruptRecordingException(file, -1, -1, "the manifest's summary says the recording is of"
                        + " format version " + claimed + ", its meta.json says " + e.found()
                        + " (a damaged or forged manifest)");
            }
        }
    }

    private static void common(String id, RecordingStatus status, java.util.List<String> command, String cwd,
                               long startTimeNs, String host, String user, int uid, int gid, String kernel, String arch,
                               int formatVersion, String dejaVersion) {
        System.out.println("id:        " + id);
        System.out.println("status:    " + status.word() + (status == RecordingStatus.INCOMPLETE
                ? " (the recorder stopped before finishing it; replay runs up to its last complete event)" : ""));
        System.out.println("program:   " + (command.isEmpty() ? "" : command.getFirst()));
        System.out.println("command:   " + Quote.command(command));
        System.out.println("cwd:       " + cwd);
        System.out.println("started:   " + Instant.ofEpochSecond(0, startTimeNs));
        System.out.println("recorded on: " + host + ", Linux " + kernel + ", " + arch + ", "
                + (user.isEmpty() ? "" : "user " + user + " ") + "uid " + uid + " gid " + gid);
        System.out.println("format:    version " + formatVersion + " (deja " + dejaVersion + ")");
    }

    static String human(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) return ms + " ms";
        return String.format("%.2f s", ms / 1000.0);
    }
}
