package dev.deja.cli;

import dev.deja.formats.RecordingException;
import dev.deja.formats.Recordings;
import dev.deja.formats.pack.PackFormat;
import dev.deja.formats.pack.PackManifest;
import dev.deja.formats.pack.PackWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pack", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Pack a recording into one compressed file for a bug report or a CI artifact.",
                "The file holds the metadata, journal, blobs and checksums. replay, info, dump and debug read it"
                        + " directly; deja unpack restores the directory. Packing the same recording twice gives the"
                        + " same bytes."},
        footer = {"", "Examples:", "  deja pack bug1 -o bug1.deja", "  deja pack            # the latest recording, into ./<name>.deja"})
final class PackCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "RECORDING", description = "A recording directory or name (default: the latest).")
    String recording;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "The file to write (default: ./<recording name>.deja).")
    Path output;

    @Option(names = {"-f", "--force"}, description = "Replace FILE if it exists.")
    boolean force;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing when it succeeds.")
    boolean quiet;

    @Override
    public Integer call() {
        try {
            Path dir = Recordings.resolve(recording);
            if (Files.isRegularFile(dir) && dir.getFileName().toString().equals("meta.json")) {
                dir = dir.toAbsolutePath().getParent();
            }
            if (RecordingArg.isPackedFile(dir)) {
                throw new UserError(dir + " is a file, not a recording directory (packed already? deja info " + dir + ")");
            }
            Path target = output != null ? output
                    : Path.of(dir.toAbsolutePath().normalize().getFileName() + PackFormat.SUFFIX);
            PackManifest m = PackWriter.pack(dir, target, force);
            if (!quiet) {
                System.err.println("deja: packed " + dir + " into " + target + " (" + m.recording().events() + " events, "
                        + m.entries().size() + " files, " + Sizes.human(m.recording().bytes()) + " -> " + Sizes.human(sizeOf(target))
                        + (m.recording().status().word().equals("complete") ? "" : ", " + m.recording().status().word()) + ")");
            }
        } catch (RecordingException e) {
            throw new UserError("cannot pack: " + e.getMessage());
        }
        return ExitCodes.OK;
    }

    private static long sizeOf(Path packed) {
        try {
            return Files.size(packed);
        } catch (java.io.IOException e) {
            throw new UserError("cannot measure " + packed + ": " + e.getMessage());
        }
    }
}
