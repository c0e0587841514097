package dev.deja.formats.pack;

import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The byte layout of a packed recording (docs/format.md, "Packed recordings"):
 * <pre>
 * pack     = magic version manifestLength manifest manifestCrc entryData*
 * magic    = 89 'D' 'E' 'J' 'A' 'P' 'K' 0A          (8 bytes)
 * version  = u32                                     (big-endian, like every integer here)
 * manifest = manifestLength bytes of UTF-8 JSON; manifestCrc = u32 CRC32C of those bytes
 * entryData = chunk*, one entryData per manifest entry, in manifest order
 * chunk    = offset:u64 rawLength:u32 storedLength:u32 crc:u32 (CRC32C of the raw bytes) stored bytes
 * </pre>
 * A chunk covers {@link #CHUNK_SIZE} bytes of its file at a multiple of the chunk size (the last
 * one of a file is shorter); all-zero chunks are left out and unpack as holes. A chunk is stored
 * LZ4-compressed (one LZ4 block) when that is shorter, raw when storedLength equals rawLength.
 */
public final class PackFormat {

    /** A non-ASCII first byte, like PNG's, so that a pack mangled as text is caught by the magic. */
    static final byte[] MAGIC = {(byte) 0x89, 'D', 'E', 'J', 'A', 'P', 'K', '\n'};
    /** The pack format version this deja writes. */
    public static final int CURRENT_VERSION = 1;
    /** The oldest pack format version this deja reads. */
    public static final int OLDEST_READABLE_VERSION = 1;
    /** Bytes per chunk: the unit of compression, of checksums and of holes. */
    static final int CHUNK_SIZE = 64 * 1024;
    static final int CHUNK_HEADER_SIZE = 8 + 4 + 4 + 4;
    /** The least a chunk takes in a pack: its header and one stored byte. */
    static final int MIN_CHUNK_BYTES = CHUNK_HEADER_SIZE + 1;
    /** Holes any pack may claim: a journal's are at most its 64 MiB block and 16 MiB overlap, with room to spare. */
    static final long HOLE_BASE = 256L << 20;
    /**
     * And per byte of the pack: room for sparse files (a mostly-zero mapped file copied as a blob). ZGC's
     * heap {@code memfd} is a quarter of the machine's memory, nearly all holes: {@code java -XX:+UseZGC
     * -version} on a 24 GiB machine packs into 93 MiB with 6 GiB of holes (64 per byte would allow 6.1).
     */
    static final long HOLES_PER_PACK_BYTE = 256;
    /** magic, version, manifest length. */
    static final int PREFIX_SIZE = MAGIC.length + 4 + 4;
    /** A manifest larger than this is damage, not a recording (it is about 150 bytes per blob). */
    static final int MAX_MANIFEST_BYTES = 64 << 20;
    /** The conventional file name suffix. */
    public static final String SUFFIX = ".deja";

    /**
     * Entry names: relative paths of at most 4 components that are plain names (no ".", "..", hidden
     * or empty components), so that unpacking can never write outside its directory.
     */
    static final Pattern ENTRY_NAME = Pattern.compile("[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,254}(/[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,254}){0,3}");

    private PackFormat() {
    }

    /**
     * The holes (bytes of entries not stored in chunks) a pack of {@code packLength} bytes may claim in all:
     * reading hashes them as zeros, so what a pack claims must be bounded by what it is.
     */
    static long holeAllowance(long packLength) {
        return HOLE_BASE + HOLES_PER_PACK_BYTE * Math.max(0, packLength);
    }

    static boolean startsWithMagic(byte[] head, int length) {
        if (length < MAGIC.length) return false;
        for (int i = 0; i < MAGIC.length; i++) if (head[i] != MAGIC[i]) return false;
        return true;
    }

    /** The magic in hex, as errors show the first bytes of a file that is not a pack. */
    static String magicText() {
        return HexFormat.ofDelimiter(" ").formatHex(MAGIC);
    }
}
