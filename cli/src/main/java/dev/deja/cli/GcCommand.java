package dev.deja.cli;

import dev.deja.formats.RecordingException;
import dev.deja.formats.Recordings;
import dev.deja.formats.SharedBlobs;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "gc", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Remove the files in deja's blob store (${DEJA_HOME:-~/.local/share/deja}/blobs) that no"
                + " recording uses any more: recordings deleted with rm(1), or by --until-fail.",
                "Recordings hard-link their executables and libraries from the store; a file there with no other"
                        + " link is unused."})
final class GcCommand implements Callable<Integer> {

    @Option(names = {"-n", "--dry-run"}, description = "Say what would be removed; remove nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        SharedBlobs store = SharedBlobs.inHome(Recordings.home());
        SharedBlobs.Sweep s;
        try {
            s = store.gc(dryRun);
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
        System.out.println((dryRun ? "would remove " : "removed ") + s.blobsRemoved() + " unused file"
                + (s.blobsRemoved() == 1 ? "" : "s") + " (" + Sizes.human(s.bytesRemoved()) + ") from " + store.dir()
                + "; " + s.blobsKept() + " (" + Sizes.human(s.bytesKept()) + ") are in use by recordings");
        return ExitCodes.OK;
    }
}
