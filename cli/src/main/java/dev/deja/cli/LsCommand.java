package dev.deja.cli;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.Recordings;
import dev.deja.formats.SharedBlobs;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "ls", mixinStandardHelpOptions = true, versionProvider = Version.class, description = {"List the recordings in deja's home (${DEJA_HOME:-~/.local/share/deja}): name, command, when,"
        + " status and size."})
final class LsCommand implements Callable<Integer> {
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneId.systemDefault());

    @Override
    public Integer call() {
        Path home;
        try {
            home = Recordings.usableHome();
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
        List<Path> all = Recordings.list(home);
        if (all.isEmpty()) {
            System.out.println("no recordings in " + home);
            storeLine(home);
            return ExitCodes.OK;
        }
        System.out.printf("%-24s %-19s %-11s %9s  %s%n", "NAME", "WHEN", "STATUS", "SIZE", "COMMAND");
        for (Path p : all) {
            try (Recording rec = Recording.open(p)) {
                System.out.printf("%-24s %-19s %-11s %9s  %s%n", p.getFileName(),
                        WHEN.format(Instant.ofEpochSecond(0, rec.header().startTimeNs())),
                        rec.status().name().toLowerCase(), Sizes.human(rec.sizeBytes()),
                        Quote.command(rec.header().command()));
            } catch (RecordingException e) {
                System.out.printf("%-24s %-19s %-11s %9s  %s%n", p.getFileName(), "-", "unreadable", "-", e.getMessage());
            }
        }
        storeLine(home);
        return ExitCodes.OK;
    }

    /** What the shared blob store holds: each SIZE above counts the files its recording links from it. */
    private static void storeLine(Path home) {
        SharedBlobs store = SharedBlobs.inHome(home);
        SharedBlobs.Sweep s;
        try {
            s = store.gc(true);
        } catch (RecordingException e) {
            System.out.println("blob store: " + e.getMessage());
            return;
        }
        if (s.blobsKept() + s.blobsRemoved() == 0) return;
        List<String> parts = new java.util.ArrayList<>();
        if (s.blobsKept() > 0) parts.add(Sizes.human(s.bytesKept()) + " shared by recordings (each SIZE counts the files it uses)");
        if (s.blobsRemoved() > 0) parts.add(Sizes.human(s.bytesRemoved()) + " no recording uses (deja gc removes it)");
        System.out.println("blob store " + store.dir() + ": " + String.join("; ", parts));
    }
}
