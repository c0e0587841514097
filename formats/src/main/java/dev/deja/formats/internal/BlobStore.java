package dev.deja.formats.internal;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.RecordingException;
import dev.deja.formats.SharedBlobs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The content-addressed store under {@code blobs/}: a blob's name is the SHA-256 of its content in
 * lower-case hex, stored as {@code blobs/<first 2 hex>/<other 62 hex>}, written through a temp file
 * and a rename. {@code blobs/index} lists {@code <hash> <size>} once per blob, appended after the rename.
 */
public final class BlobStore {

    public static final String DIR_NAME = "blobs";
    public static final String INDEX_NAME = "index";
    public static final String TMP_NAME = "tmp";
    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");

    private final Path dir;
    private final Set<String> known = new HashSet<>();   // writer: stored this session
    private Map<String, Long> index;                      // reader: loaded lazily
    /** Writer: the user's store files are hard-linked from, when on the same file system; else null. */
    private final SharedBlobs shared;
    private Boolean sharedUsable;                         // decided at the first file stored
    private int linkedFromShared;

    public BlobStore(Path dir) {
        this(dir, null);
    }

    public BlobStore(Path dir, SharedBlobs shared) {
        this.dir = dir;
        this.shared = shared;
    }

    /** How many files were hard-linked from the shared store rather than copied. */
    public int linkedFromShared() {
        return linkedFromShared;
    }

    public Path dir() {
        return dir;
    }

    public static boolean isHash(String s) {
        return s != null && HASH.matcher(s).matches();
    }

    public Path pathOf(String hash) {
        return dir.resolve(hash.substring(0, 2)).resolve(hash.substring(2));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    public static String hash(byte[] data, int off, int len) {
        MessageDigest md = sha256();
        md.update(data, off, len);
        return HexFormat.of().formatHex(md.digest());
    }

    // ---- writing

    public String store(Path file) throws RecordingException {
        if (shared != null) {
            String hash = storeShared(file);
            if (hash != null) return hash;
        }
        Path tmp = newTemp();
        long size;
        String hash;
        try {
            MessageDigest md = sha256();
            try (InputStream in = Files.newInputStream(file);
                 FileChannel out = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                         FileOps.PRIVATE_FILE)) {
                size = dev.deja.formats.SparseFiles.copy(in, out, md); // a memfd heap's zeros stay holes
            }
            hash = HexFormat.of().formatHex(md.digest());
            publish(tmp, hash, size);
            return hash;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new RecordingException("cannot copy " + file + " into the blob store " + dir + ": " + e, e);
        }
    }

    /**
     * Stores the file through the shared store: looked up by its stamp there (or copied there), then
     * hard-linked into this recording. Null when that cannot be done (another file system, a memfd or
     * deleted file, a store that cannot be written, a blob removed meanwhile): the caller copies.
     */
    private String storeShared(Path file) {
        try {
            if (sharedUsable == null) {
                sharedUsable = shared.device() == (Long) Files.getAttribute(dir, "unix:dev");
            }
            if (!sharedUsable) return null;
            SharedBlobs.Stamp stamp = SharedBlobs.stamp(file);
            if (stamp == null) return null;
            String hash = shared.lookup(stamp);
            if (hash == null) hash = shared.add(file, stamp);
            if (known.contains(hash)) return hash;
            Path target = pathOf(hash);
            FileOps.createPrivateDirectories(target.getParent());
            try {
                Files.createLink(target, shared.pathOf(hash));
            } catch (FileAlreadyExistsException e) {
                known.add(hash); // stored earlier in this recording, its index line with it
                return hash;
            }
            appendIndex(hash, Files.size(target));
            known.add(hash);
            linkedFromShared++;
            return hash;
        } catch (IOException | UnsupportedOperationException e) {
            System.getLogger(BlobStore.class.getName()).log(System.Logger.Level.DEBUG,
                    "cannot share " + file + " through " + shared.dir() + ", copying it", e);
            return null;
        }
    }

    public String store(byte[] data, int off, int len) throws RecordingException {
        String hash = hash(data, off, len);
        if (known.contains(hash)) return hash;
        Path tmp = newTemp();
        try {
            try (OutputStream out = newPrivateFile(tmp)) {
                out.write(data, off, len);
            }
            publish(tmp, hash, len);
            return hash;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new RecordingException("cannot write blob " + hash + " into " + dir + ": " + e, e);
        }
    }

    private static OutputStream newPrivateFile(Path p) throws IOException {
        return Channels.newOutputStream(FileChannel.open(p, Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), FileOps.PRIVATE_FILE));
    }

    private Path newTemp() throws RecordingException {
        Path tmpDir = dir.resolve(TMP_NAME);
        try {
            FileOps.createPrivateDirectories(tmpDir);
        } catch (IOException e) {
            throw new RecordingException("cannot create " + tmpDir + ": " + e, e);
        }
        return tmpDir.resolve(UUID.randomUUID() + ".part");
    }

    private void publish(Path tmp, String hash, long size) throws IOException {
        Path target = pathOf(hash);
        if (known.contains(hash) || Files.exists(target)) {
            Files.delete(tmp);            // deduplicated: same content already stored
            known.add(hash);
            return;
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        FileOps.createPrivateDirectories(target.getParent());
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.delete(tmp);
        }
        appendIndex(hash, size);
        known.add(hash);
    }

    private void appendIndex(String hash, long size) throws IOException {
        Path index = dir.resolve(INDEX_NAME);
        try (FileChannel ch = FileChannel.open(index, Set.of(StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                FileOps.PRIVATE_FILE)) {
            ByteBuffer line = ByteBuffer.wrap((hash + " " + size + "\n").getBytes(StandardCharsets.US_ASCII));
            while (line.hasRemaining()) ch.write(line);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException suppressed) {
            // best effort: a leftover temp file under blobs/tmp is ignored by readers
            System.getLogger(BlobStore.class.getName()).log(System.Logger.Level.DEBUG,
                    "cannot delete temp blob " + p, suppressed);
        }
    }

    // ---- reading

    private Map<String, Long> index() throws RecordingException {
        if (index != null) return index;
        Map<String, Long> m = new HashMap<>();
        Path file = dir.resolve(INDEX_NAME);
        FileOps.requireRegularIfPresent(file);
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            lines = List.of();
        } catch (IOException e) {
            throw new RecordingException("cannot read blob index " + file + ": " + e, e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int sp = line.indexOf(' ');
            boolean lastLine = i == lines.size() - 1;
            try {
                if (sp != 64 || !isHash(line.substring(0, 64))) throw new NumberFormatException("no hash");
                m.put(line.substring(0, 64), Long.parseLong(line.substring(65)));
            } catch (NumberFormatException e) {
                if (lastLine) break; // a torn last line (the writer died while appending): the hash still checks the blob
                throw new CorruptRecordingException(file, -1, -1, "line " + (i + 1) + ": expected '<sha256> <size>', found '" + line + "'");
            }
        }
        index = m;
        return m;
    }

    /**
     * The cheap check: every blob the index lists is present with the size the index gives, nothing read
     * or hashed (a truncated or missing copy is found without reading gigabytes). Returns how many.
     */
    public int checkSizes() throws RecordingException {
        int n = 0;
        for (Map.Entry<String, Long> e : index().entrySet()) {
            Path p = pathOf(e.getKey());
            FileOps.requireRegularIfPresent(p);
            long size;
            try {
                size = Files.size(p);
            } catch (NoSuchFileException x) {
                throw new CorruptRecordingException(p, -1, -1, "blob " + e.getKey() + " is missing from the blob store");
            } catch (IOException x) {
                throw new RecordingException("cannot read blob " + e.getKey() + " at " + p + ": " + x, x);
            }
            if (size != e.getValue()) {
                throw new CorruptRecordingException(p, -1, -1, "blob " + e.getKey() + " has " + size
                        + " bytes, its index says " + e.getValue() + " (tampered or truncated)");
            }
            n++;
        }
        return n;
    }

    /** Checks that the blob is present, has the size its index line gives and hashes to its name. */
    public Path verify(String hash) throws RecordingException {
        return verify(hash, null);
    }

    /**
     * As {@link #verify(String)}; with {@code hashed} (the user's stat cache), a blob whose stamp (device,
     * inode, size, mtime, ctime) the cache says hashed to its name is not read again, and one that is hashed
     * is remembered there: a replayed JVM's 128 MB {@code lib/modules} is hashed once, not at every replay.
     */
    public Path verify(String hash, SharedBlobs hashed) throws RecordingException {
        if (!isHash(hash)) {
            throw new RecordingException("'" + hash + "' is not a blob hash (64 lower-case hex digits)");
        }
        Path p = pathOf(hash);
        FileOps.requireRegularIfPresent(p);
        long size;
        try {
            size = Files.size(p);
        } catch (NoSuchFileException e) {
            throw new CorruptRecordingException(p, -1, -1, "blob " + hash + " is missing from the blob store");
        } catch (IOException e) {
            throw new RecordingException("cannot read blob " + hash + " at " + p + ": " + e, e);
        }
        Long expected = index().get(hash);
        if (expected != null && expected != size) {
            throw new CorruptRecordingException(p, -1, -1, "blob " + hash + " has " + size + " bytes, its index says "
                    + expected + " (tampered or truncated)");
        }
        SharedBlobs.Stamp stamp = hashed == null ? null : stampOf(p);
        if (stamp != null && hashed.hashed(stamp, hash)) return p;
        long startNs = System.currentTimeMillis() * 1_000_000L;
        String actual;
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = sha256();
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            actual = HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new RecordingException("cannot read blob " + hash + " at " + p + ": " + e, e);
        }
        if (!actual.equals(hash)) {
            throw new CorruptRecordingException(p, -1, -1, "blob " + hash + " does not match its hash: its content hashes to "
                    + actual + " (tampered or damaged)");
        }
        if (stamp != null) hashed.rememberHashed(p, stamp, hash, startNs);
        return p;
    }

    /** The blob's stamp, or null when it cannot be had (the check then reads the blob, as without a cache). */
    private static SharedBlobs.Stamp stampOf(Path p) {
        try {
            return SharedBlobs.stamp(p);
        } catch (IOException e) {
            return null;
        }
    }

    /** Reads a blob and checks its length and hash. */
    public byte[] read(String hash, int expectedLength) throws RecordingException {
        Path p = pathOf(hash);
        FileOps.requireRegularIfPresent(p);
        byte[] data;
        try {
            data = Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new CorruptRecordingException(p, -1, -1, "blob " + hash + " is missing from the blob store");
        } catch (IOException e) {
            throw new RecordingException("cannot read blob " + hash + " at " + p + ": " + e, e);
        }
        if (data.length != expectedLength) {
            throw new CorruptRecordingException(p, -1, -1, "blob " + hash + " has " + data.length + " bytes, expected "
                    + expectedLength);
        }
        String actual = hash(data, 0, data.length);
        if (!actual.equals(hash)) {
            throw new CorruptRecordingException(p, -1, -1, "blob " + hash + " does not match its hash: its content hashes to "
                    + actual + " (tampered or damaged)");
        }
        return data;
    }

    /** Every blob file in the store (not temp files), by hash. */
    public List<String> list() throws RecordingException {
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> top = Files.newDirectoryStream(dir)) {
            for (Path sub : top) {
                String prefix = sub.getFileName().toString();
                if (!Files.isDirectory(sub) || prefix.length() != 2 || prefix.equals(TMP_NAME)) continue;
                try (DirectoryStream<Path> files = Files.newDirectoryStream(sub)) {
                    for (Path f : files) {
                        String h = prefix + f.getFileName();
                        if (!isHash(h)) {
                            throw new CorruptRecordingException(f, -1, -1, "a file in the blob store whose name is not a hash");
                        }
                        out.add(h);
                    }
                }
            }
        } catch (IOException e) {
            throw new RecordingException("cannot list the blob store " + dir + ": " + e, e);
        }
        out.sort(null);
        return out;
    }

    /** Hashes listed in the index (for verify: each must exist). */
    public Set<String> indexed() throws RecordingException {
        return index().keySet();
    }
}
