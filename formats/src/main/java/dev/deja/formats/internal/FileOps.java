package dev.deja.formats.internal;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.NotARecordingException;
import dev.deja.formats.RecordingException;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Durable file writes: temp file + fsync + rename + fsync of the directory. */
public final class FileOps {

    /** Recordings hold the environment and every input of a run: directories are created 0700 ... */
    public static final FileAttribute<Set<PosixFilePermission>> PRIVATE_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    /** ... and files 0600, whatever the umask. */
    public static final FileAttribute<Set<PosixFilePermission>> PRIVATE_FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private FileOps() {
    }

    /** Creates {@code dir} and any missing parents, each new one private (0700). */
    public static void createPrivateDirectories(Path dir) throws IOException {
        Files.createDirectories(dir, PRIVATE_DIR);
    }

    /** Sets the regular files directly in {@code dir} to 0600 (files a library created with the umask's mode). */
    public static void makePrivate(Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
                }
            }
        }
    }

    /** Creates {@code dir} private (0700); its parent must exist. */
    public static void createPrivateDirectory(Path dir) throws IOException {
        Files.createDirectory(dir, PRIVATE_DIR);
    }

    /** Replaces {@code target} atomically with {@code content}: readers see the old file or the new one, never a mix. */
    public static void writeAtomically(Path target, byte[] content) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);   // a leftover of a writer that died: created anew, private
        try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PRIVATE_FILE)) {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(target.toAbsolutePath().getParent());
    }

    /**
     * Throws unless {@code path} exists and can be looked at: a missing path is "not a recording", one behind a
     * directory this user may not search is "permission denied" (Files.exists says false for both).
     */
    public static void requireReachable(Path path) throws RecordingException {
        try {
            Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new NotARecordingException(path, "no such file or directory");
        } catch (AccessDeniedException e) {
            throw new RecordingException("cannot read " + path + ": permission denied", e);
        } catch (IOException e) {
            throw new RecordingException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Throws when {@code file} exists but is not a regular file: reading a named pipe or a device would block
     * or never end, so a recording's files are refused unless they are plain files.
     */
    public static void requireRegularIfPresent(Path file) throws CorruptRecordingException {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new CorruptRecordingException(file, -1, -1, "not a regular file (a named pipe, a device or a directory"
                    + " where a recording holds a file)");
        }
    }

    /** An I/O failure as a person would say it: "permission denied: PATH" rather than the exception's class. */
    public static String describe(IOException e) {
        return switch (e) {
            case AccessDeniedException a -> "permission denied: " + a.getFile();
            case NoSuchFileException n -> "no such file or directory: " + n.getFile();
            case java.nio.file.FileSystemException f when f.getReason() != null ->
                    f.getReason().toLowerCase(java.util.Locale.ROOT) + ": " + f.getFile();
            default -> e.getMessage() == null ? e.toString() : e.getMessage();
        };
    }

    /** True when looking at {@code path} fails for want of permission (not for its absence). */
    public static boolean denied(Path path) {
        try {
            Files.readAttributes(path, BasicFileAttributes.class);
            return false;
        } catch (AccessDeniedException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** fsync of a directory, so that a rename in it survives a crash. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** fsync of a file (on Linux this also writes back pages dirtied through a shared mapping). */
    public static void syncFile(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
