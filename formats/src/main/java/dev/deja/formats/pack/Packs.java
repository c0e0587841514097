package dev.deja.formats.pack;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.ScratchDirs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.List;
import java.util.UUID;

/** Unpacking a pack into a recording directory, all or nothing. */
public final class Packs {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Packs() {
    }

    /**
     * Unpacks {@code pack} into {@code dir}, which must not exist or be an empty directory, through a
     * hidden private directory next to it renamed at the end: on any failure, and when deja is stopped by
     * SIGINT or SIGTERM meanwhile, nothing is left behind; what a SIGKILL left there is removed by the next
     * unpack into the same directory.
     *
     * @return the manifest of the pack
     */
    public static PackManifest unpack(Path pack, Path dir) throws RecordingException {
        boolean existed = Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
        if (existed && !isEmptyDirectory(dir)) {
            throw new RecordingException("cannot unpack into " + dir + ": it exists and is not an empty directory");
        }
        Path parent = dir.toAbsolutePath().normalize().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new RecordingException("cannot unpack into " + dir + ": " + parent + " is not a directory");
        }
        ScratchDirs.sweep(parent, UnpackScratch.HIDDEN_NAME);
        try (PackReader reader = PackReader.open(pack)) {
            Path tmp = parent.resolve("." + dir.toAbsolutePath().normalize().getFileName() + ".unpack-"
                    + ScratchDirs.owner() + UUID.randomUUID());
            UnpackScratch scratch;
            try {
                scratch = UnpackScratch.create(tmp);
            } catch (IOException e) {
                throw new RecordingException("cannot unpack " + pack + " into " + dir + ": " + e, e);
            }
            try (scratch) {
                reader.extractInto(scratch);
                Recording.open(tmp).close();   // the metadata checks: a recording, of a version this deja reads
                if (existed) Files.delete(dir);
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                Recording.deleteTree(tmp);
                throw new RecordingException("cannot unpack " + pack + " into " + dir + ": " + e, e);
            } catch (RecordingException | RuntimeException e) {
                Recording.deleteTree(tmp);
                throw e;
            }
            return reader.manifest();
        }
    }

    /**
     * Unpacks {@code pack} into a new private directory (mode 0700) under the temp directory, for one
     * command to read; the caller deletes it ({@link Recording#openOwned(Path)}). Until deja exits, a
     * shutdown hook deletes it too (SIGINT, SIGTERM); what a SIGKILL left is removed by the next unpack
     * into the temp directory.
     */
    public static Path unpackToTemp(Path pack) throws RecordingException {
        Path tmpRoot = Path.of(System.getProperty("java.io.tmpdir"));
        ScratchDirs.sweep(tmpRoot, UnpackScratch.TEMP_NAME);
        try (PackReader reader = PackReader.open(pack)) {
            Path tmp;
            UnpackScratch scratch;
            try {
                tmp = tmpRoot.resolve(UnpackScratch.TEMP_PREFIX + ScratchDirs.owner()
                        + Long.toUnsignedString(RANDOM.nextLong()));
                scratch = UnpackScratch.create(tmp);
            } catch (IOException e) {
                throw new RecordingException("cannot create a directory to unpack " + pack + " into: " + e, e);
            }
            try {
                reader.extractInto(scratch);
                // the hook stays registered: it deletes the directory at exit if its owner has not
                return tmp;
            } catch (RecordingException | RuntimeException e) {
                scratch.close();
                Recording.deleteTree(tmp);
                throw e;
            }
        }
    }

    /**
     * Holds the manifest's summary against the recording unpacked from it, the events of an incomplete
     * recording counted from its journal (the cheaper checks of the metadata ran when it was unpacked).
     */
    public static void requireSummaryMatches(PackManifest manifest, Path pack, Recording rec) throws RecordingException {
        long events;
        if (rec.summary().isPresent()) {
            events = rec.summary().get().eventCount();
        } else {
            events = 0;
            try (EventReader r = rec.events()) {
                while (r.next() != null) events++;
            }
        }
        PackSummary actual = PackSummaries.of(rec.header(), rec.status(), rec.summary().orElse(null), events,
                manifest.recording().bytes());
        List<String> differences = PackSummaries.differences(manifest.recording(), actual);
        if (!differences.isEmpty()) {
            throw new CorruptRecordingException(pack, -1, -1, "the manifest's summary of the recording does not match"
                    + " the recording it carries: " + String.join("; ", differences) + " (a damaged or forged manifest)");
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws RecordingException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return false;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            throw new RecordingException("cannot list " + dir + ": " + e, e);
        }
    }
}
