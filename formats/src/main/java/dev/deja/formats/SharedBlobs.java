package dev.deja.formats;

import dev.deja.formats.internal.BlobStore;
import dev.deja.formats.internal.FileOps;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * One content-addressed store of copied files per user ({@code $DEJA_HOME/blobs}), which recordings
 * on the same file system hard-link their executables and mapped files from: a JVM's 128 MB
 * {@code lib/modules} is on the disk once, however many recordings map it, and deleting one recording
 * never breaks another (a hard link is a file of its own). A stat cache,
 * {@code stat/<dev>-<ino>-<size>-<mtime ns>-<ctime ns>} symlinks naming a hash, lets an unchanged file
 * be linked without being read again.
 *
 * <p>A blob whose link count is 1 is used by no recording: {@link #gc} removes those, {@link
 * #dropUnreferenced} the ones a removed recording held. Every operation tolerates another deja doing
 * the same at once (a blob that vanishes between lookup and link makes the recorder copy the file as
 * it did before the store existed).
 */
public final class SharedBlobs {
    public static final String DIR_NAME = "blobs";
    static final String STAT_NAME = "stat";
    static final String TMP_NAME = "tmp";
    /**
     * A file whose ctime is this recent may still change within the same timestamp (ext4 stamps with the
     * kernel's coarse clock): it is stored and linked, but not remembered by its stat (git's "racy" rule).
     */
    static final long RACY_NS = TimeUnit.SECONDS.toNanos(2);
    /** The mtime of every blob in the store: a write in place changes it. */
    static final FileTime SEALED = FileTime.fromMillis(0);
    /** A temp copy older than this was left by a recorder that died: gc removes it. */
    static final long STALE_TMP_MS = TimeUnit.HOURS.toMillis(1);

    private final Path dir;

    public SharedBlobs(Path dir) {
        this.dir = dir;
    }

    /** The store of deja's home. */
    public static SharedBlobs inHome(Path home) {
        return new SharedBlobs(home.resolve(DIR_NAME));
    }

    public Path dir() {
        return dir;
    }

    public Path pathOf(String hash) {
        return dir.resolve(hash.substring(0, 2)).resolve(hash.substring(2));
    }

    /** What the stat cache knows a file by; the file is followed if it is a link ({@code /proc/PID/map_files/...}). */
    public record Stamp(long dev, long ino, long size, long mtimeNs, long ctimeNs, int nlink) {
        String key() {
            return dev + "-" + ino + "-" + size + "-" + mtimeNs + "-" + ctimeNs;
        }

        boolean sameFile(Stamp o) {
            return o != null && key().equals(o.key());
        }
    }

    /** The file's stamp; null when it is not a regular file, or has no name left (a memfd, a deleted file: per run). */
    public static Stamp stamp(Path file) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:dev,ino,size,lastModifiedTime,ctime,nlink,mode");
        int mode = (Integer) a.get("mode");
        int nlink = (Integer) a.get("nlink");
        if ((mode & 0170000) != 0100000 || nlink == 0) return null;
        return new Stamp((Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("size"),
                nanos((FileTime) a.get("lastModifiedTime")), nanos((FileTime) a.get("ctime")), nlink);
    }

    private static long nanos(FileTime t) {
        return t.to(TimeUnit.NANOSECONDS);
    }

    /** The device the store is on (creating the store, private, if needed). */
    public long device() throws IOException {
        FileOps.createPrivateDirectories(dir);
        return (Long) Files.getAttribute(dir, "unix:dev");
    }

    /** The hash the stat cache remembers for this stamp, when its blob is still in the store; else null. */
    public String lookup(Stamp stamp) {
        Path link = dir.resolve(STAT_NAME).resolve(stamp.key());
        String hash;
        try {
            hash = Files.readSymbolicLink(link).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null; // not remembered (or not a link: gc removes it)
        }
        if (!BlobStore.isHash(hash) || !intact(pathOf(hash), stamp.size())) return null;
        return hash;
    }

    /**
     * Whether a stored blob still has the length and the sealed mtime it was published with. Every recording
     * linked to it is the same file, so a write in place (a test truncating a blob, an editor) would reach each
     * of them; such a file is not linked again: its name in the store is replaced by a fresh copy.
     */
    private static boolean intact(Path blob, long size) {
        try {
            Map<String, Object> a = Files.readAttributes(blob, "unix:size,lastModifiedTime,mode", LinkOption.NOFOLLOW_LINKS);
            return ((Integer) a.get("mode") & 0170000) == 0100000 && (Long) a.get("size") == size
                    && SEALED.equals(a.get("lastModifiedTime"));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Copies {@code file} into the store while hashing it (zeros as holes), and remembers it by its stamp
     * when it did not change during the copy and is not racy. Returns the hash.
     */
    public String add(Path file, Stamp before) throws IOException {
        Path tmpDir = dir.resolve(TMP_NAME);
        FileOps.createPrivateDirectories(tmpDir);
        Path tmp = tmpDir.resolve(UUID.randomUUID() + ".part");
        long startNs = System.currentTimeMillis() * 1_000_000L;
        String hash;
        try {
            MessageDigest md = sha256();
            try (InputStream in = Files.newInputStream(file);
                 FileChannel out = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                         FileOps.PRIVATE_FILE)) {
                SparseFiles.copy(in, out, md);
                out.force(true);
            }
            hash = HexFormat.of().formatHex(md.digest());
            // Read-only and sealed (see intact): every recording linked to it is the same file
            Files.setLastModifiedTime(tmp, SEALED);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r--------"));
            Path target = pathOf(hash);
            FileOps.createPrivateDirectories(target.getParent());
            if (intact(target, Files.size(tmp))) {
                Files.delete(tmp);
            } else {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Stamp after = stamp(file);
        if (before.sameFile(after) && before.ctimeNs() < startNs - RACY_NS) remember(before, hash);
        return hash;
    }

    /**
     * Whether the stat cache says the file with this stamp hashed to {@code hash}: a file whose ctime has not
     * moved since was not written since (a blob checked at one replay need not be read at the next).
     */
    public boolean hashed(Stamp stamp, String hash) {
        try {
            return hash.equals(Files.readSymbolicLink(dir.resolve(STAT_NAME).resolve(stamp.key())).toString());
        } catch (IOException | UnsupportedOperationException e) {
            return false; // not remembered
        }
    }

    /**
     * Remembers that {@code file}, stamped {@code before} when its reading began at {@code startNs}, hashed to
     * {@code hash}, when it did not change meanwhile and is not racy (as {@link #add}). A store that cannot be
     * written only costs the next check a read.
     */
    public void rememberHashed(Path file, Stamp before, String hash, long startNs) {
        try {
            Stamp after = stamp(file);
            if (before.sameFile(after) && before.ctimeNs() < startNs - RACY_NS) remember(before, hash);
        } catch (IOException e) {
            System.getLogger(SharedBlobs.class.getName()).log(System.Logger.Level.DEBUG,
                    "cannot remember the hash of " + file + " in " + dir + ": " + e);
        }
    }

    private void remember(Stamp stamp, String hash) throws IOException {
        Path statDir = dir.resolve(STAT_NAME);
        FileOps.createPrivateDirectories(statDir);
        try {
            Files.createSymbolicLink(statDir.resolve(stamp.key()), Path.of(hash));
        } catch (FileAlreadyExistsException e) {
            // another deja remembered it first: same stamp, same content
        }
    }

    /**
     * A stat entry for the stored blob itself (a replay's check remembered it) whose ctime has moved since:
     * each recording linking the blob moves it, and the entry can never match again.
     */
    private boolean outdated(String key, String hash) throws IOException {
        String[] f = key.split("-");
        if (f.length != 5) return false;
        Stamp blob;
        try {
            blob = stamp(pathOf(hash));
        } catch (NoSuchFileException gone) {
            return false;
        }
        return blob != null && f[0].equals(Long.toString(blob.dev())) && f[1].equals(Long.toString(blob.ino()))
                && !key.equals(blob.key());
    }

    /** How many links the blob has (1: the store's own only), or 0 when it is not in the store. */
    public int links(String hash) throws IOException {
        try {
            return (Integer) Files.getAttribute(pathOf(hash), "unix:nlink", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    /** What a clean-up removed, or would remove. */
    public record Sweep(int blobsRemoved, long bytesRemoved, int blobsKept, long bytesKept, int staleEntries) {
    }

    /**
     * Removes every blob no recording links to any more, the stat entries naming a removed blob, and temp
     * copies a dead recorder left. {@code dryRun}: only counts.
     */
    public Sweep gc(boolean dryRun) throws RecordingException {
        int removed = 0, kept = 0, stale = 0;
        long removedBytes = 0, keptBytes = 0;
        try {
            for (String hash : hashes()) {
                Path p = pathOf(hash);
                Map<String, Object> a;
                try {
                    a = Files.readAttributes(p, "unix:nlink,size", LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException gone) {
                    continue;
                }
                long size = (Long) a.get("size");
                if ((Integer) a.get("nlink") <= 1) {
                    if (!dryRun) Files.deleteIfExists(p);
                    removed++;
                    removedBytes += size;
                } else {
                    kept++;
                    keptBytes += size;
                }
            }
            Path statDir = dir.resolve(STAT_NAME);
            if (Files.isDirectory(statDir, LinkOption.NOFOLLOW_LINKS)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(statDir)) {
                    for (Path e : ds) {
                        String hash = Files.isSymbolicLink(e) ? Files.readSymbolicLink(e).toString() : "";
                        boolean gone = !BlobStore.isHash(hash) || !Files.exists(pathOf(hash), LinkOption.NOFOLLOW_LINKS)
                                || (dryRun && links(hash) <= 1) || outdated(e.getFileName().toString(), hash);
                        if (gone) {
                            if (!dryRun) Files.deleteIfExists(e);
                            stale++;
                        }
                    }
                }
            }
            Path tmpDir = dir.resolve(TMP_NAME);
            if (!dryRun && Files.isDirectory(tmpDir, LinkOption.NOFOLLOW_LINKS)) {
                long before = System.currentTimeMillis() - STALE_TMP_MS;
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmpDir)) {
                    for (Path t : ds) {
                        try {
                            if (Files.getLastModifiedTime(t, LinkOption.NOFOLLOW_LINKS).toMillis() < before) Files.deleteIfExists(t);
                        } catch (NoSuchFileException gone) {
                            // its recorder finished it meanwhile
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new RecordingException("cannot clean the blob store " + dir + ": " + FileOps.describe(e), e);
        }
        return new Sweep(removed, removedBytes, kept, keptBytes, stale);
    }

    /**
     * Removes those of {@code hashes} that no recording links to any more (after a recording that held
     * them was deleted). Returns how many and their bytes, as a {@link Sweep} with nothing kept.
     */
    public Sweep dropUnreferenced(Collection<String> hashes) throws RecordingException {
        int removed = 0;
        long bytes = 0;
        for (String hash : hashes) {
            if (!BlobStore.isHash(hash)) continue;
            Path p = pathOf(hash);
            try {
                Map<String, Object> a = Files.readAttributes(p, "unix:nlink,size", LinkOption.NOFOLLOW_LINKS);
                if ((Integer) a.get("nlink") <= 1) {
                    Files.deleteIfExists(p);
                    removed++;
                    bytes += (Long) a.get("size");
                }
            } catch (NoSuchFileException gone) {
                // not shared, or removed meanwhile
            } catch (IOException e) {
                throw new RecordingException("cannot remove blob " + hash + " from " + dir + ": " + FileOps.describe(e), e);
            }
        }
        return new Sweep(removed, bytes, 0, 0, 0);
    }

    /** Every blob in the store, by hash. */
    List<String> hashes() throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return out;
        try (DirectoryStream<Path> top = Files.newDirectoryStream(dir)) {
            for (Path sub : top) {
                String prefix = sub.getFileName().toString();
                if (prefix.length() != 2 || !Files.isDirectory(sub, LinkOption.NOFOLLOW_LINKS)) continue;
                try (DirectoryStream<Path> files = Files.newDirectoryStream(sub)) {
                    for (Path f : files) {
                        String h = prefix + f.getFileName();
                        if (BlobStore.isHash(h)) out.add(h);
                    }
                }
            }
        }
        return out;
    }

    /** The blobs a recording directory holds (to drop from the store once it is deleted). */
    public static List<String> blobsOf(Path recording) throws RecordingException {
        return new BlobStore(recording.resolve(BlobStore.DIR_NAME)).list();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
