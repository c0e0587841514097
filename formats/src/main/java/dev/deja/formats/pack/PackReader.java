package dev.deja.formats.pack;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.NotARecordingException;
import dev.deja.formats.RecordingException;
import dev.deja.formats.internal.FileOps;
import dev.deja.formats.internal.Metadata;
import dev.deja.formats.json.Json;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Reads a pack: the header and manifest when opened, the entries (checked chunk by chunk and
 * hashed whole) by {@link #check()} or {@link #extractInto(Path)}. Every error names the pack, the
 * byte offset and, past the manifest, the entry.
 */
public final class PackReader implements AutoCloseable {

    private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestJavaInstance().safeDecompressor();

    private final Path file;
    private final FileChannel ch;
    private final long length;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).flip();
    private long bufStart;            // file offset of buf's position 0
    private final byte[] header = new byte[PackFormat.CHUNK_HEADER_SIZE];
    private final byte[] stored = new byte[PackFormat.CHUNK_SIZE];   // a chunk is compressed only when that makes it shorter
    private final byte[] raw = new byte[PackFormat.CHUNK_SIZE];
    private final CRC32C crc = new CRC32C();
    private PackManifest manifest;
    private long manifestOffset;
    private int nextEntry;            // the entries are read in order, once
    private byte[] metaBytes;
    private Metadata metadata;

    private PackReader(Path file, FileChannel ch, long length) {
        this.file = file;
        this.ch = ch;
        this.length = length;
    }

    /** True when the file starts with the pack magic (an empty, short or unreadable file is not a pack). */
    public static boolean isPack(Path file) {
        if (!Files.isRegularFile(file)) return false;
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(PackFormat.MAGIC.length);
            while (head.hasRemaining() && c.read(head) > 0) {
                // read until full or end of file
            }
            return PackFormat.startsWithMagic(head.array(), head.position());
        } catch (IOException e) {
            return false;
        }
    }

    /** Opens a pack and reads its header and manifest. */
    public static PackReader open(Path file) throws RecordingException {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            // a named pipe would block the read forever, a device never end
            throw new NotARecordingException(file, "neither a recording directory nor a packed recording (not a regular file)");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NotARecordingException(file, "no such file");
        } catch (AccessDeniedException e) {
            throw new RecordingException("cannot read " + file + ": permission denied", e);
        } catch (IOException e) {
            throw new RecordingException("cannot read " + file + ": " + e.getMessage(), e);
        }
        PackReader r;
        try {
            r = new PackReader(file, ch, ch.size());
        } catch (IOException e) {
            close(ch);
            throw new RecordingException("cannot read " + file + ": " + e.getMessage(), e);
        }
        try {
            r.readHeader();
            return r;
        } catch (RecordingException | RuntimeException e) {
            r.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    /** The pack's size in bytes. */
    public long length() {
        return length;
    }

    public PackManifest manifest() {
        return manifest;
    }

    private void readHeader() throws RecordingException {
        if (length == 0) throw new NotARecordingException(file, "the file is empty (0 bytes), not a packed recording");
        byte[] head = new byte[PackFormat.MAGIC.length];
        int got = readUpTo(head, head.length);
        if (!PackFormat.startsWithMagic(head, got)) {
            boolean prefix = got < head.length;
            for (int i = 0; prefix && i < got; i++) prefix = head[i] == PackFormat.MAGIC[i];
            if (prefix) throw truncated(got, "inside the magic");
            throw new NotARecordingException(file, "neither a recording directory nor a packed recording (a pack starts with "
                    + PackFormat.magicText() + "; this file starts with " + HexFormat.ofDelimiter(" ").formatHex(head, 0, got)
                    + describe(head, got) + ")");
        }
        int version = readInt("the pack header (format version)");
        if (version < PackFormat.OLDEST_READABLE_VERSION || version > PackFormat.CURRENT_VERSION) {
            Optional<CorruptRecordingException> damaged = damagedVersion(version);
            if (damaged.isPresent()) throw damaged.get();
            throw new PackVersionException(file, version);
        }
        int manifestLength = readInt("the pack header (manifest length)");
        if (manifestLength < 2 || manifestLength > PackFormat.MAX_MANIFEST_BYTES) {
            throw new CorruptRecordingException(file, -1, PackFormat.PREFIX_SIZE - 4, "the manifest length "
                    + Integer.toUnsignedString(manifestLength) + " is not between 2 and " + PackFormat.MAX_MANIFEST_BYTES + " bytes");
        }
        manifestOffset = position();
        if (length - manifestOffset < (long) manifestLength + 4) {
            throw truncated(length, "inside the manifest (" + manifestLength + " bytes at offset " + manifestOffset
                    + " and its 4-byte checksum)");
        }
        byte[] json = new byte[manifestLength];
        readFully(json, manifestLength, "the manifest");
        int expected = readInt("the manifest checksum");
        CRC32C crc = new CRC32C();
        crc.update(json);
        if ((int) crc.getValue() != expected) {
            throw new CorruptRecordingException(file, -1, manifestOffset, "the manifest (" + manifestLength
                    + " bytes) does not match its CRC32C (damaged)");
        }
        manifest = PackManifest.parse(file, manifestOffset, json, version);
        requirePlausibleClaims();
    }

    /**
     * A header version out of range is a newer pack, unless the manifest that follows is intact (its CRC32C
     * matches) and names a version this deja reads: then the header was damaged, and saying "upgrade deja"
     * would send the user the wrong way.
     */
    private Optional<CorruptRecordingException> damagedVersion(int version) {
        try {
            int manifestLength = readInt("the pack header (manifest length)");
            if (manifestLength < 2 || manifestLength > PackFormat.MAX_MANIFEST_BYTES
                    || length - position() < (long) manifestLength + 4) {
                return Optional.empty();
            }
            byte[] json = new byte[manifestLength];
            readFully(json, manifestLength, "the manifest");
            CRC32C crc = new CRC32C();
            crc.update(json);
            if ((int) crc.getValue() != readInt("the manifest checksum")) return Optional.empty();
            if (Json.parse(new String(json, StandardCharsets.UTF_8)) instanceof Map<?, ?> m
                    && m.get("packFormatVersion") instanceof Long v
                    && v >= PackFormat.OLDEST_READABLE_VERSION && v <= PackFormat.CURRENT_VERSION) {
                return Optional.of(new CorruptRecordingException(file, -1, PackFormat.MAGIC.length, "the pack header says"
                        + " format version " + Integer.toUnsignedString(version) + " but its intact manifest says " + v
                        + ": the header is damaged"));
            }
        } catch (RecordingException | Json.SyntaxException e) {
            // not an intact manifest either: a version this deja does not know
        }
        return Optional.empty();
    }

    /**
     * Holds every size the manifest claims against what this file can hold, before anything is read: the
     * chunks of the stored bytes must fit in the rest of the file, and the holes (hashed as zeros, at about
     * 1 GiB/s) may not exceed {@link PackFormat#holeAllowance}. A manifest that claims more would otherwise
     * keep a CPU busy for hours on a file of a few kilobytes.
     */
    private void requirePlausibleClaims() throws CorruptRecordingException {
        long dataStart = position();
        long available = length - dataStart;
        long needed = 0;
        long holes = 0;
        long stored = 0;
        List<PackEntry> entries = manifest.entries();
        for (int i = 0; i < entries.size(); i++) {
            PackEntry e = entries.get(i);
            long chunks = e.stored() / PackFormat.CHUNK_SIZE + (e.stored() % PackFormat.CHUNK_SIZE == 0 ? 0 : 1);
            needed += chunks * PackFormat.MIN_CHUNK_BYTES;   // at most 2^47 chunks of 21 bytes: no overflow per entry
            if (needed > available) {
                throw truncated(length, "before the rest of entry " + i + " of " + entries.size() + " (" + e.name()
                        + "): the chunks the manifest lists up to it need at least " + needed + " bytes from offset "
                        + dataStart + ", the file has " + available + " (or the manifest claims more than the pack holds)");
            }
            holes += e.size() - e.stored();
            stored += e.stored();
            long allowance = PackFormat.holeAllowance(length);
            if (holes > allowance || holes < 0) {
                throw new CorruptRecordingException(file, -1, manifestOffset, "manifest: entry " + i + " of "
                        + entries.size() + " (" + e.name() + ") claims a " + e.size() + "-byte file of which "
                        + e.stored() + " bytes are stored: with the entries before it, more holes than a pack of "
                        + length + " bytes may claim (" + allowance + " bytes)");
            }
        }
        if (stored != manifest.recording().bytes()) {
            throw new CorruptRecordingException(file, -1, manifestOffset, "manifest: the summary's bytes ("
                    + manifest.recording().bytes() + ") differ from the " + stored + " bytes its entries store");
        }
    }

    private static String describe(byte[] head, int got) {
        if (got >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') return ": an ELF executable";
        for (int i = 0; i < got; i++) {
            int b = head[i] & 0xff;
            if (b < 0x09 || (b > 0x0d && b < 0x20) || b >= 0x7f) return "";
        }
        return ": text";
    }

    /**
     * The recording's {@code meta.json} (the first entry, right after the manifest: reading it costs next to
     * nothing), its chunks and hash checked, its own checksum checked, and held against the manifest's
     * summary: a manifest that describes another recording than the one it carries is refused here.
     * Call it before the other entries are read (check and extract call it themselves).
     */
    public Metadata metadata() throws RecordingException {
        if (metadata != null) return metadata;
        if (nextEntry != 0) throw new IllegalStateException("the entries of " + file + " were read already");
        PackEntry e = manifest.entries().getFirst();
        if (e.size() > Metadata.MAX_BYTES) {
            throw damaged(position(), which(0), "a metadata file of " + e.size() + " bytes (deja's is at most "
                    + Metadata.MAX_BYTES + ")");
        }
        MemorySink sink = new MemorySink((int) e.size());
        readEntry(0, sink);
        metaBytes = sink.bytes;
        metadata = Metadata.parse(metaBytes, metaPath(), file);
        PackSummaries.requireMatches(manifest.recording(), metadata, file, manifestOffset);
        return metadata;
    }

    /** How errors name the pack's meta.json: the pack, then the entry. */
    private Path metaPath() {
        return Path.of(file + ":" + Metadata.FILE_NAME);
    }

    /** Reads every entry and checks its chunks and hash, writing nothing. */
    public void check() throws RecordingException {
        extract(null);
    }

    /**
     * Writes every entry into {@code dir} (an existing empty directory), checking as it goes. On an
     * error what was written stays: the caller unpacks into a directory of its own and removes it.
     */
    public void extractInto(Path dir) throws RecordingException {
        extract(new DirectorySink(dir, UnpackScratch.NONE));
    }

    /** As {@link #extractInto(Path)}, writing only while {@code scratch} (SIGINT, SIGTERM) has not abandoned it. */
    void extractInto(UnpackScratch scratch) throws RecordingException {
        extract(new DirectorySink(scratch.dir(), scratch));
    }

    private void extract(Sink sink) throws RecordingException {
        metadata();
        if (nextEntry != 1) throw new IllegalStateException("the entries of " + file + " were read already");
        Sink out = sink == null ? Sink.NONE : sink;
        int n = manifest.entries().size();
        out.begin(manifest.entries().getFirst());
        out.write(0, metaBytes, metaBytes.length);
        out.end(manifest.entries().getFirst());
        while (nextEntry < n) readEntry(nextEntry, out);
        long end = position();
        if (end != length) {
            throw new CorruptRecordingException(file, -1, end, (length - end) + " unexpected bytes after the last entry");
        }
    }

    private String which(int i) {
        return "entry " + i + " of " + manifest.entries().size() + " (" + manifest.entries().get(i).name() + ")";
    }

    /**
     * The cheap check of {@code deja info} without {@code --check}: walks every chunk header after
     * meta.json, skipping the stored bytes, so that a truncated pack or one whose chunks do not add up to
     * the sizes the manifest claims is refused; no content is decompressed or hashed. The entries are
     * consumed: a reader checked so reads nothing more.
     */
    public void checkLayout() throws RecordingException {
        metadata();
        if (nextEntry != 1) throw new IllegalStateException("the entries of " + file + " were read already");
        int n = manifest.entries().size();
        for (int i = 1; i < n; i++) {
            PackEntry e = manifest.entries().get(i);
            String which = which(i);
            nextEntry = i + 1;
            long done = 0;
            long next = 0;
            while (done < e.stored()) {
                ChunkHeader c = chunkHeader(e, which, done, next);
                long dataAt = position();
                if (dataAt + c.storedLength() > length) {
                    throw truncated(length, "inside a chunk of " + which + " (" + c.storedLength() + " bytes from offset " + dataAt + ")");
                }
                skip(c.storedLength());
                done += c.rawLength();
                next = c.offset() + c.rawLength();
            }
        }
        long end = position();
        if (end != length) {
            throw new CorruptRecordingException(file, -1, end, (length - end) + " unexpected bytes after the last entry");
        }
    }

    /** Moves {@code n} bytes forward without reading them. */
    private void skip(long n) throws RecordingException {
        if (n <= buf.remaining()) {
            buf.position(buf.position() + (int) n);
            return;
        }
        long to = position() + n;
        try {
            ch.position(to);
        } catch (IOException e) {
            throw new RecordingException("cannot read " + file + " at offset " + to + ": " + e.getMessage(), e);
        }
        buf.clear().flip();
        bufStart = to;
    }

    /** A chunk's header: where it starts in the pack, the file offset it holds, its sizes and CRC32C. */
    private record ChunkHeader(long at, long offset, int rawLength, int storedLength, int crc) {
    }

    /**
     * Reads the next chunk header of entry {@code e} ({@code done} raw bytes of it read, the previous
     * chunk ending at file offset {@code next}) and checks it against the manifest.
     */
    private ChunkHeader chunkHeader(PackEntry e, String which, long done, long next) throws RecordingException {
        long at = position();
        int got = readUpTo(header, header.length);
        if (got == 0) throw truncated(at, "before the rest of " + which + ": " + (e.stored() - done) + " of its "
                + e.stored() + " stored bytes are missing");
        if (got < header.length) throw truncated(at + got, "inside a chunk header of " + which);
        ByteBuffer h = ByteBuffer.wrap(header);
        long offset = h.getLong();
        int rawLength = h.getInt();
        int storedLength = h.getInt();
        int crc = h.getInt();
        if (offset < next || offset % PackFormat.CHUNK_SIZE != 0 || offset >= e.size()) {
            throw damaged(at, which, "a chunk for file offset " + offset + " (expected a multiple of "
                    + PackFormat.CHUNK_SIZE + " from " + next + " below the file's size " + e.size() + ")");
        }
        long expectedRaw = Math.min(PackFormat.CHUNK_SIZE, e.size() - offset);
        if (rawLength != expectedRaw || rawLength > e.stored() - done) {
            throw damaged(at, which, "a chunk of " + Integer.toUnsignedString(rawLength) + " bytes at file offset "
                    + offset + " (expected " + expectedRaw + ", " + (e.stored() - done) + " stored bytes left)");
        }
        if (storedLength <= 0 || storedLength > rawLength) {
            throw damaged(at, which, "a chunk of " + rawLength + " bytes stored in "
                    + Integer.toUnsignedString(storedLength) + " bytes");
        }
        return new ChunkHeader(at, offset, rawLength, storedLength, crc);
    }

    /** Reads entry {@code i} (the next one) chunk by chunk into {@code out}, checking each chunk and the whole file's hash. */
    private void readEntry(int i, Sink out) throws RecordingException {
        PackEntry e = manifest.entries().get(i);
        String which = which(i);
        MessageDigest sha = PackWriter.sha256();
        nextEntry = i + 1;
        out.begin(e);
        long done = 0;
        long next = 0;    // the file offset after the previous chunk
        while (done < e.stored()) {
            ChunkHeader c = chunkHeader(e, which, done, next);
            long at = c.at();
            long offset = c.offset();
            int rawLength = c.rawLength();
            int storedLength = c.storedLength();
            int expectedCrc = c.crc();
            long dataAt = position();
            int got = readUpTo(stored, storedLength);
            if (got < storedLength) throw truncated(dataAt + got, "inside a chunk of " + which + " ("
                    + storedLength + " bytes from offset " + dataAt + ")");
            if (storedLength == rawLength) {
                System.arraycopy(stored, 0, raw, 0, rawLength);
            } else {
                int made;
                try {
                    made = DECOMPRESSOR.decompress(stored, 0, storedLength, raw, 0, rawLength);
                } catch (LZ4Exception x) {
                    throw damaged(dataAt, which, "the chunk for file offset " + offset + " does not decompress ("
                            + x.getMessage() + ")");
                }
                if (made != rawLength) {
                    throw damaged(dataAt, which, "the chunk for file offset " + offset + " decompresses to "
                            + made + " bytes, not " + rawLength);
                }
            }
            crc.reset();
            crc.update(raw, 0, rawLength);
            if ((int) crc.getValue() != expectedCrc) {
                throw damaged(at, which, "the chunk for file offset " + offset + " does not match its CRC32C");
            }
            zeros(sha, offset - next);
            sha.update(raw, 0, rawLength);
            out.write(offset, raw, rawLength);
            done += rawLength;
            next = offset + rawLength;
        }
        zeros(sha, e.size() - next);
        String actual = HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(e.sha256())) {
            throw damaged(position(), which, "its content hashes to " + actual + ", the manifest says " + e.sha256());
        }
        out.end(e);
    }

    /** Where the entries' bytes go: nowhere (a check), memory (meta.json), or files. */
    private interface Sink {
        Sink NONE = new Sink() {
            @Override
            public void begin(PackEntry e) {
            }

            @Override
            public void write(long offset, byte[] data, int length) {
            }

            @Override
            public void end(PackEntry e) {
            }
        };

        void begin(PackEntry e) throws RecordingException;

        void write(long offset, byte[] data, int length) throws RecordingException;

        /** The entry's chunks are all written and its hash matched. */
        void end(PackEntry e) throws RecordingException;
    }

    private static final class MemorySink implements Sink {
        final byte[] bytes;

        MemorySink(int size) {
            bytes = new byte[size];
        }

        @Override
        public void begin(PackEntry e) {
        }

        @Override
        public void write(long offset, byte[] data, int length) {
            System.arraycopy(data, 0, bytes, (int) offset, length);
        }

        @Override
        public void end(PackEntry e) {
        }
    }

    /** Files under a directory, private to their owner, each written while {@code scratch} allows it. */
    private final class DirectorySink implements Sink {
        private final Path dir;
        private final UnpackScratch scratch;
        private Path target;
        private FileChannel out;

        DirectorySink(Path dir, UnpackScratch scratch) {
            this.dir = dir;
            this.scratch = scratch;
        }

        @Override
        public void begin(PackEntry e) throws RecordingException {
            target = dir.resolve(e.name());
            scratch.write(target, () -> {
                FileOps.createPrivateDirectories(target.getParent());
                out = FileChannel.open(target, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                        FileOps.PRIVATE_FILE);
            });
        }

        @Override
        public void write(long offset, byte[] data, int length) throws RecordingException {
            scratch.write(target, () -> {
                ByteBuffer w = ByteBuffer.wrap(data, 0, length);
                while (w.hasRemaining()) out.write(w, offset + w.position());
            });
        }

        @Override
        public void end(PackEntry e) throws RecordingException {
            try {
                // The rest of the file is a hole: extend it without writing.
                scratch.write(target, () -> {
                    if (out.size() < e.size()) out.write(ByteBuffer.allocate(1), e.size() - 1);
                });
            } finally {
                close(out);
                out = null;
            }
        }
    }

    private static void zeros(MessageDigest sha, long count) {
        for (long left = count; left > 0; ) {
            int n = (int) Math.min(left, PackWriter.ZEROS.length);
            sha.update(PackWriter.ZEROS, 0, n);
            left -= n;
        }
    }

    private CorruptRecordingException truncated(long at, String where) {
        return new CorruptRecordingException(file, -1, at, "the pack is truncated: it ends at offset " + at + " ("
                + length + " bytes), " + where);
    }

    private CorruptRecordingException damaged(long at, String which, String what) {
        return new CorruptRecordingException(file, -1, at, which + ": " + what + " (the pack is damaged)");
    }

    // ---- buffered reading with the file offset known

    private long position() {
        return bufStart + buf.position();
    }

    private boolean fill() throws RecordingException {
        bufStart += buf.limit();
        buf.clear();
        try {
            while (buf.hasRemaining()) {
                if (ch.read(buf) < 0) break;
            }
        } catch (IOException e) {
            throw new RecordingException("cannot read " + file + " at offset " + bufStart + ": " + e.getMessage(), e);
        }
        buf.flip();
        return buf.hasRemaining();
    }

    /** Reads up to {@code n} bytes, fewer only at the end of the file. */
    private int readUpTo(byte[] into, int n) throws RecordingException {
        int got = 0;
        while (got < n) {
            if (!buf.hasRemaining() && !fill()) break;
            int k = Math.min(n - got, buf.remaining());
            buf.get(into, got, k);
            got += k;
        }
        return got;
    }

    private void readFully(byte[] into, int n, String what) throws RecordingException {
        long at = position();
        int got = readUpTo(into, n);
        if (got < n) throw truncated(at + got, "inside " + what);
    }

    private int readInt(String what) throws RecordingException {
        byte[] b = new byte[4];
        readFully(b, 4, what);
        return ByteBuffer.wrap(b).getInt();
    }

    private static void close(FileChannel c) {
        if (c == null) return;
        try {
            c.close();
        } catch (IOException e) {
            System.getLogger(PackReader.class.getName()).log(System.Logger.Level.DEBUG, "closing a pack", e);
        }
    }

    @Override
    public void close() {
        close(ch);
    }
}
