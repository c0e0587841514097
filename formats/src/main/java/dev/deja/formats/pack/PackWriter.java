package dev.deja.formats.pack;

import dev.deja.formats.EventReader;
import dev.deja.formats.NotARecordingException;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.internal.BlobStore;
import dev.deja.formats.internal.FileOps;
import dev.deja.formats.internal.Metadata;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Packs a recording directory into one file. Two streaming passes over the files (constant memory):
 * the first measures and hashes every entry for the manifest, the second writes the chunks and
 * checks that each file still hashes the same (a recording that changes meanwhile is refused).
 */
public final class PackWriter {

    /** The same compressor everywhere (pure Java), so that a pack's bytes do not depend on the machine. */
    private static final LZ4Compressor COMPRESSOR = LZ4Factory.fastestJavaInstance().fastCompressor();
    static final byte[] ZEROS = new byte[PackFormat.CHUNK_SIZE];

    private PackWriter() {
    }

    /**
     * Packs the recording in {@code dir} into {@code target}, through a temp file in the target's
     * directory renamed at the end: a failed pack leaves nothing behind.
     *
     * @param replace whether an existing {@code target} may be replaced
     * @return the manifest written
     */
    public static PackManifest pack(Path dir, Path target, boolean replace) throws RecordingException {
        if (!replace && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new RecordingException(target + " already exists (remove it, choose another name, or use --force)");
        }
        Path parent = target.toAbsolutePath().getParent();
        if (!Files.isDirectory(parent)) throw new RecordingException("cannot write " + target + ": " + parent + " is not a directory");
        PackSummary summary = summarize(dir);
        List<String> names = entryNames(dir);
        List<PackEntry> entries = new ArrayList<>(names.size());
        long bytes = 0;
        for (String name : names) {
            PackEntry e = scan(dir, name);
            entries.add(e);
            bytes += e.stored();
        }
        summary = withBytes(summary, bytes);
        PackManifest manifest = new PackManifest(PackFormat.CURRENT_VERSION, summary, entries);
        Path tmp = parent.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            // Private (0600): a pack holds the environment and every input of the run; its owner decides where it goes.
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(
                    FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                            FileOps.PRIVATE_FILE)), 1 << 16))) {
                writeHeader(out, manifest);
                for (PackEntry e : entries) writeEntry(out, dir, e);
            }
            requireReadable(manifest, Files.size(tmp), target);
            FileOps.syncFile(tmp);
            publish(tmp, target, replace);
            FileOps.syncDirectory(parent);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new RecordingException("cannot write " + target + ": " + e.getMessage(), e);
        } catch (RecordingException | RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        return manifest;
    }

    /** A reader refuses a pack whose files are mostly holes beyond its allowance: never write one. */
    private static void requireReadable(PackManifest manifest, long packLength, Path target) throws RecordingException {
        long holes = 0;
        for (PackEntry e : manifest.entries()) holes += e.size() - e.stored();
        if (holes > PackFormat.holeAllowance(packLength)) {
            throw new RecordingException("cannot pack into " + target + ": the recording's files hold " + holes
                    + " bytes of holes (all-zero chunks), more than a pack of " + packLength + " bytes may carry ("
                    + PackFormat.holeAllowance(packLength) + "); copy the directory instead");
        }
    }

    private static void publish(Path tmp, Path target, boolean replace) throws IOException, RecordingException {
        if (replace) {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        // A hard link fails when the target exists, where a rename would replace it.
        try {
            Files.createLink(target, tmp);
        } catch (FileAlreadyExistsException e) {
            throw new RecordingException(target + " appeared while packing (remove it, choose another name, or use --force)");
        }
        Files.delete(tmp);
    }

    private static PackSummary summarize(Path dir) throws RecordingException {
        try (Recording rec = Recording.open(dir)) {
            // Refuse to pack damage: every journal entry and blob is checked now, not on the other machine.
            rec.verify();
            RecordingHeader h = rec.header();
            RecordingSummary s = rec.summary().orElse(null);
            long events;
            if (s != null) {
                events = s.eventCount();
            } else {
                events = 0;
                try (EventReader r = rec.events()) {
                    while (r.next() != null) events++;
                }
            }
            return PackSummaries.of(h, rec.status(), s, events, 0);
        }
    }

    private static PackSummary withBytes(PackSummary s, long bytes) {
        return new PackSummary(s.id(), s.formatVersion(), s.dejaVersion(), s.status(), s.command(), s.cwd(),
                s.hostname(), s.user(), s.uid(), s.gid(), s.kernel(), s.arch(), s.startTimeNs(), s.endTimeNs(),
                s.exitStatus(), s.events(), s.processes(), bytes);
    }

    /**
     * The files to pack: meta.json first, then every other regular file in name order. Hidden files
     * and the blob store's temp directory are not part of a recording and are left out.
     */
    static List<String> entryNames(Path dir) throws RecordingException {
        List<String> names = new ArrayList<>();
        Path tmpDir = dir.resolve(BlobStore.DIR_NAME).resolve(BlobStore.TMP_NAME);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(dir) || p.startsWith(tmpDir)) continue;
                String name = dir.relativize(p).toString();
                if (name.startsWith(".") || name.contains("/.")) continue;
                if (Files.isSymbolicLink(p)) {
                    throw new RecordingException("cannot pack " + p + ": a recording holds no symbolic links");
                }
                if (!Files.isRegularFile(p)) continue;
                if (!PackFormat.ENTRY_NAME.matcher(name).matches()) {
                    throw new RecordingException("cannot pack " + p + ": not a file name a recording holds");
                }
                if (!name.equals(Metadata.FILE_NAME)) names.add(name);
            }
        } catch (IOException e) {
            throw new RecordingException("cannot list " + dir + ": " + e, e);
        }
        if (!Files.isRegularFile(dir.resolve(Metadata.FILE_NAME))) throw new NotARecordingException(dir, "no " + Metadata.FILE_NAME);
        names.sort(null);
        names.addFirst(Metadata.FILE_NAME);
        return names;
    }

    /** First pass over one file: its size, its non-zero bytes and its hash. */
    private static PackEntry scan(Path dir, String name) throws RecordingException {
        Path file = dir.resolve(name);
        MessageDigest sha = sha256();
        byte[] buf = new byte[PackFormat.CHUNK_SIZE];
        long stored = 0;
        long size;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            for (long pos = 0; pos < size; pos += PackFormat.CHUNK_SIZE) {
                int n = readChunk(ch, file, pos, size, buf);
                sha.update(buf, 0, n);
                if (!isZero(buf, n)) stored += n;
            }
        } catch (IOException e) {
            throw new RecordingException("cannot read " + file + ": " + e, e);
        }
        return new PackEntry(name, size, stored, HexFormat.of().formatHex(sha.digest()));
    }

    private static int readChunk(FileChannel ch, Path file, long pos, long size, byte[] buf) throws IOException {
        int want = (int) Math.min(PackFormat.CHUNK_SIZE, size - pos);
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, want);
        while (bb.hasRemaining()) {
            if (ch.read(bb, pos + bb.position()) < 0) {
                throw new IOException(file + " shrank while packing (it ended at " + (pos + bb.position()) + ")");
            }
        }
        return want;
    }

    static boolean isZero(byte[] buf, int n) {
        return Arrays.mismatch(buf, 0, n, ZEROS, 0, n) < 0;
    }

    static void writeHeader(DataOutputStream out, PackManifest manifest) throws IOException {
        byte[] json = manifest.toJson().getBytes(StandardCharsets.UTF_8);
        out.write(PackFormat.MAGIC);
        out.writeInt(manifest.version());
        out.writeInt(json.length);
        out.write(json);
        CRC32C crc = new CRC32C();
        crc.update(json);
        out.writeInt((int) crc.getValue());
    }

    /** Second pass over one file: its non-zero chunks, compressed where that helps. */
    private static void writeEntry(DataOutputStream out, Path dir, PackEntry entry) throws IOException, RecordingException {
        Path file = dir.resolve(entry.name());
        MessageDigest sha = sha256();
        byte[] buf = new byte[PackFormat.CHUNK_SIZE];
        byte[] packed = new byte[COMPRESSOR.maxCompressedLength(PackFormat.CHUNK_SIZE)];
        CRC32C crc = new CRC32C();
        long stored = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() != entry.size()) throw changed(file);
            for (long pos = 0; pos < entry.size(); pos += PackFormat.CHUNK_SIZE) {
                int n = readChunk(ch, file, pos, entry.size(), buf);
                sha.update(buf, 0, n);
                if (isZero(buf, n)) continue;
                crc.reset();
                crc.update(buf, 0, n);
                int c = COMPRESSOR.compress(buf, 0, n, packed, 0, packed.length);
                boolean compress = c < n;
                out.writeLong(pos);
                out.writeInt(n);
                out.writeInt(compress ? c : n);
                out.writeInt((int) crc.getValue());
                out.write(compress ? packed : buf, 0, compress ? c : n);
                stored += n;
            }
        }
        if (stored != entry.stored() || !HexFormat.of().formatHex(sha.digest()).equals(entry.sha256())) throw changed(file);
    }

    private static RecordingException changed(Path file) {
        return new RecordingException(file + " changed while it was being packed (is the recording still being written?)");
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            System.getLogger(PackWriter.class.getName()).log(System.Logger.Level.WARNING, "cannot delete " + p + ": " + e);
        }
    }
}
