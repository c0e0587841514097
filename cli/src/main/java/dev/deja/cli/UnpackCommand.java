package dev.deja.cli;

import dev.deja.formats.RecordingException;
import dev.deja.formats.pack.PackManifest;
import dev.deja.formats.pack.Packs;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "unpack", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Restore a recording directory from a packed recording, checking every checksum.",
                "DIR must not exist or must be empty; on any error nothing is left."},
        footer = {"", "Example:", "  deja unpack bug1.deja -o /tmp/bug1 && deja replay /tmp/bug1"})
final class UnpackCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE", description = "The packed recording (.deja file).")
    Path pack;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "The recording directory to create.")
    Path output;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing when it succeeds.")
    boolean quiet;

    @Override
    public Integer call() {
        try {
            PackManifest m = Packs.unpack(pack, output);
            if (!quiet) {
                System.err.println("deja: unpacked " + pack + " into " + output + " (" + m.recording().events()
                        + " events, " + m.entries().size() + " files)");
            }
        } catch (RecordingException e) {
            throw new UserError("cannot unpack: " + e.getMessage());
        }
        return ExitCodes.OK;
    }
}
