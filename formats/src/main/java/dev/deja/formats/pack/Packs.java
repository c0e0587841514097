package dev.deja.formats.pack;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/** Unpacking a pack into a recording directory, all or nothing. */
public final class Packs {

    private Packs() {
    }

    /**
     * Unpacks {@code pack} into {@code dir}, which must not exist or be an empty directory, through a
     * hidden directory next to it renamed at the end: on any failure nothing is left behind.
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
        try (PackReader reader = PackReader.open(pack)) {
            Path tmp = parent.resolve("." + dir.toAbsolutePath().normalize().getFileName() + ".unpack-" + UUID.randomUUID());
            try {
                Files.createDirectory(tmp);
                reader.extractInto(tmp);
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
     * Unpacks {@code pack} into a new private directory (mode 0700) under the temp directory, for
     * one command to read; the caller deletes it with {@link #Recording.deleteTree(Path)}.
     */
    public static Path unpackToTemp(Path pack) throws RecordingException {
        try (PackReader reader = PackReader.open(pack)) {
            Path tmp;
            try {
                tmp = Files.createTempDirectory("deja-unpacked-");
            } catch (IOException e) {
                throw new RecordingException("cannot create a directory to unpack " + pack + " into: " + e, e);
            }
            try {
                reader.extractInto(tmp);
                return tmp;
            } catch (RecordingException | RuntimeException e) {
                Recording.deleteTree(tmp);
                throw e;
            }
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
