package dev.deja.cli;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.Recordings;
import dev.deja.formats.SharedBlobs;
import dev.deja.formats.internal.Metadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Delete recordings, and the files in deja's blob store that no other recording uses.",
                "RECORDING is a name under deja's home, a path, or 'latest'. A packed recording (.deja file) is an"
                        + " ordinary file: delete it with rm(1)."},
        footer = {"", "Examples:", "  deja rm ls-3 ls-4", "  deja rm latest"})
final class RmCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "RECORDING", description = "The recordings to delete.")
    List<String> names;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing when it succeeds.")
    boolean quiet;

    @Override
    public Integer call() {
        Path home = Recordings.home();
        List<Path> dirs = new ArrayList<>();
        for (String name : names) dirs.add(recordingDir(name));
        Set<String> hashes = new LinkedHashSet<>();
        int failed = 0;
        for (Path dir : dirs) {
            try {
                hashes.addAll(SharedBlobs.blobsOf(dir));
            } catch (RecordingException e) {
                // a damaged blob store: the recording goes all the same; gc finds what it leaves in the shared one
                System.err.println("deja: " + dir + ": " + e.getMessage() + " (deleting it anyway)");
            }
            Recording.deleteTree(dir);
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                System.err.println("deja: cannot delete all of " + dir + " (see the files left in it)");
                failed++;
                continue;
            }
            dropLatestIfItWas(home, dir);
            if (!quiet) System.err.println("deja: removed " + dir);
        }
        try {
            SharedBlobs.Sweep freed = SharedBlobs.inHome(home).dropUnreferenced(hashes);
            if (!quiet && freed.blobsRemoved() > 0) {
                System.err.println("deja: freed " + Sizes.human(freed.bytesRemoved()) + " in the blob store ("
                        + freed.blobsRemoved() + " file" + (freed.blobsRemoved() == 1 ? "" : "s") + " no other recording uses)");
            }
        } catch (RecordingException e) {
            System.err.println("deja: " + e.getMessage() + "; `deja gc` removes what is left");
            failed++;
        }
        return failed == 0 ? ExitCodes.OK : ExitCodes.DEJA_FAILURE;
    }

    /** The recording directory a name resolves to; refused when it is not one (a pack, any other directory). */
    private static Path recordingDir(String name) {
        Path p;
        try {
            p = Recordings.resolve(name);
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
        if (Files.isRegularFile(p)) {
            throw new UserError(p + " is a file, not a recording directory: a packed recording is deleted with rm(1)");
        }
        if (!Files.isRegularFile(p.resolve(Metadata.FILE_NAME), LinkOption.NOFOLLOW_LINKS)) {
            throw new UserError("refusing to delete " + p + ": it has no " + Metadata.FILE_NAME + ", so it is not a recording");
        }
        try {
            return p.toRealPath();
        } catch (IOException e) {
            throw new UserError("cannot follow " + p + ": " + e.getMessage());
        }
    }

    /** The {@code latest} link goes with the recording it named (a dangling one would only mislead). */
    private static void dropLatestIfItWas(Path home, Path removed) {
        Path link = home.resolve(Recordings.LATEST);
        try {
            if (!Files.isSymbolicLink(link)) return;
            Path target = Files.readSymbolicLink(link);
            Path abs = (target.isAbsolute() ? target : home.resolve(target)).toAbsolutePath().normalize();
            if (abs.equals(removed) || !Files.exists(link)) Files.deleteIfExists(link);
        } catch (IOException e) {
            System.err.println("deja: cannot update " + link + ": " + e.getMessage());
        }
    }
}
