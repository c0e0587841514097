package dev.deja.formats.internal;

import dev.deja.formats.json.Json;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.LaunchSignals;
import dev.deja.formats.NotARecordingException;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingFormat;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.UnsupportedFormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The recording's {@code meta.json}: header, status, and (once finished) the summary. The layout
 * is documented in docs/format.md; the field order written here is the documented one.
 *
 * @param summary        null while the status is incomplete
 * @param journalEntries number of journal entries the writer appended (-1 while incomplete)
 * @param bytes          total size of the recording when it was finished (-1 while incomplete)
 * @param checksummed    the file carried its checksum (the {@value #CHECKSUM_KEY} key), and it matched; false
 *                       for a file written before deja wrote one
 */
public record Metadata(RecordingHeader header, RecordingStatus status, RecordingSummary summary,
                       long journalEntries, long bytes, String rollCycle, long blockSize, boolean checksummed,
                       HomeFiles homeFiles) {

    /**
     * The files under the recorded HOME the program opened successfully, sorted, at most {@link #MAX_HOME_FILES}
     * of them, and how many there were ({@code deja info} lists them without reading the journal). Absent (null)
     * in a recording made before 2026-12-04 or not finished.
     */
    public record HomeFiles(List<String> first, long total) {
        public HomeFiles {
            first = List.copyOf(first);
        }
    }

    /** How many home files meta.json lists by name. */
    public static final int MAX_HOME_FILES = 1000;

    public static final String FILE_NAME = "meta.json";
    /** The last key: the SHA-256 of every byte of the file before its line. */
    public static final String CHECKSUM_KEY = "sha256";
    /** Larger is damage, not metadata: the environment and argv it holds are bounded by the kernel's ARG_MAX. */
    public static final int MAX_BYTES = 64 << 20;
    /** The journal block sizes a reader accepts (Chronicle maps the file in blocks of this size; 0 would divide by zero). */
    static final long MIN_BLOCK_SIZE = 1L << 16;
    static final long MAX_BLOCK_SIZE = 1L << 30;
    private static final byte[] CHECKSUM_LINE_START = ("  \"" + CHECKSUM_KEY + "\": \"").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHECKSUM_LINE_END = "\"\n}\n".getBytes(StandardCharsets.US_ASCII);
    /** The last key of a file written before the checksum: "bytes" once finished, "journalBlockSize" before. */
    private static final List<String> OLD_LAST_KEYS = List.of("bytes", "journalBlockSize");

    public static Metadata started(RecordingHeader header) {
        return new Metadata(header, RecordingStatus.INCOMPLETE, null, -1, -1, Journal.ROLL_CYCLE_NAME,
                Journal.BLOCK_SIZE, true, null);
    }

    public Metadata finished(RecordingSummary summary, long journalEntries, long bytes) {
        return finished(summary, journalEntries, bytes, null);
    }

    /** {@code homeFiles}: what the writer saw opened under HOME; null when it did not watch. */
    public Metadata finished(RecordingSummary summary, long journalEntries, long bytes, HomeFiles homeFiles) {
        return new Metadata(header, summary.status(), summary, journalEntries, bytes, rollCycle, blockSize, true, homeFiles);
    }

    public String toJson() {
        RecordingHeader h = header;
        StringBuilder sb = new StringBuilder(1024);
        sb.append("{\n");
        field(sb, "magic", Json.quote(RecordingFormat.MAGIC));
        field(sb, "formatVersion", Integer.toString(h.formatVersion()));
        field(sb, "dejaVersion", Json.quote(h.dejaVersion()));
        field(sb, "id", Json.quote(h.id()));
        field(sb, "status", Json.quote(status.word()));
        StringBuilder cmd = new StringBuilder("[");
        for (int i = 0; i < h.command().size(); i++) cmd.append(i == 0 ? "" : ", ").append(Json.quote(h.command().get(i)));
        field(sb, "command", cmd.append(']').toString());
        StringBuilder env = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, String> e : h.environment().entrySet()) {
            env.append(first ? "\n    " : ",\n    ").append(Json.quote(e.getKey())).append(": ").append(Json.quote(e.getValue()));
            first = false;
        }
        field(sb, "environment", env.append(first ? "}" : "\n  }").toString());
        field(sb, "cwd", Json.quote(h.cwd()));
        field(sb, "uid", Integer.toString(h.uid()));
        field(sb, "gid", Integer.toString(h.gid()));
        field(sb, "kernel", Json.quote(h.kernel()));
        field(sb, "arch", Json.quote(h.arch()));
        field(sb, "hostname", Json.quote(h.hostname()));
        field(sb, "startTimeNs", Long.toString(h.startTimeNs()));
        if (h.launchSignals().isPresent()) {
            field(sb, "launchSignalMask", Json.quote(LaunchSignals.hex(h.launchSignals().get().blocked())));
            field(sb, "launchIgnoredSignals", Json.quote(LaunchSignals.hex(h.launchSignals().get().ignored())));
        }
        field(sb, "journalRollCycle", Json.quote(rollCycle));
        field(sb, "journalBlockSize", Long.toString(blockSize));
        if (summary != null) {
            field(sb, "endTimeNs", Long.toString(summary.endTimeNs()));
            field(sb, "exitStatus", Integer.toString(summary.exitStatus()));
            field(sb, "eventCount", Long.toString(summary.eventCount()));
            field(sb, "processCount", Integer.toString(summary.processCount()));
            field(sb, "journalEntries", Long.toString(journalEntries));
            field(sb, "bytes", Long.toString(bytes));
            if (homeFiles != null) {
                StringBuilder files = new StringBuilder("[");
                for (int i = 0; i < homeFiles.first().size(); i++) {
                    files.append(i == 0 ? "\n    " : ",\n    ").append(Json.quote(homeFiles.first().get(i)));
                }
                field(sb, "homeFilesRead", files.append(homeFiles.first().isEmpty() ? "]" : "\n  ]").toString());
                field(sb, "homeFilesReadTotal", Long.toString(homeFiles.total()));
            }
        }
        // Every byte above is covered by the checksum, the last line.
        byte[] covered = sb.toString().getBytes(StandardCharsets.UTF_8);
        sb.append("  ").append(Json.quote(CHECKSUM_KEY)).append(": ").append(Json.quote(sha256(covered, covered.length)));
        return sb.append("\n}\n").toString();
    }

    private static String sha256(byte[] data, int length) {
        MessageDigest md = BlobStore.sha256();
        md.update(data, 0, length);
        return HexFormat.of().formatHex(md.digest());
    }

    private static void field(StringBuilder sb, String key, String jsonValue) {
        sb.append("  ").append(Json.quote(key)).append(": ").append(jsonValue).append(",\n");
    }

    public void write(Path dir) throws RecordingException {
        Path file = dir.resolve(FILE_NAME);
        try {
            FileOps.writeAtomically(file, toJson().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new RecordingException("cannot write recording metadata " + file + ": " + e, e);
        }
    }

    /** Reads and checks {@code dir/meta.json}: checksum, magic, version range, every field present with its type. */
    public static Metadata read(Path dir) throws RecordingException {
        Path file = dir.resolve(FILE_NAME);
        FileOps.requireRegularIfPresent(file);
        byte[] raw;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new CorruptRecordingException(file, -1, -1, "the metadata is " + size + " bytes long; deja's is at most "
                        + MAX_BYTES + " (its environment and command line included)");
            }
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new NotARecordingException(dir, "no " + FILE_NAME);
        } catch (AccessDeniedException e) {
            throw new RecordingException("cannot read " + file + ": permission denied", e);
        } catch (IOException e) {
            throw new RecordingException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return parse(raw, file, dir);
    }

    /**
     * Checks and parses the bytes of a {@code meta.json}.
     *
     * @param file named in errors (the file, or the entry of a pack)
     * @param dir  the recording, named when this is not a recording at all
     */
    public static Metadata parse(byte[] raw, Path file, Path dir) throws RecordingException {
        if (raw.length == 0) throw new CorruptRecordingException(file, -1, 0, "the metadata file is empty");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new CorruptRecordingException(file, -1, -1, "the metadata is not valid UTF-8", e);
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.SyntaxException e) {
            if (!text.contains("\"" + RecordingFormat.MAGIC + "\"")) {
                throw new NotARecordingException(dir, FILE_NAME + " is not deja metadata (" + e.getMessage() + " at character " + e.offset() + ")");
            }
            throw new CorruptRecordingException(file, -1, e.offset(), "metadata does not parse: " + e.getMessage()
                    + " (character offset)");
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new NotARecordingException(dir, FILE_NAME + " is not a JSON object");
        }
        Fields f = new Fields(file, map);
        Object magic = map.get("magic");
        if (!RecordingFormat.MAGIC.equals(magic)) {
            throw new NotARecordingException(dir, FILE_NAME + " has magic " + (magic == null ? "(none)" : "\"" + magic + "\"")
                    + ", expected \"" + RecordingFormat.MAGIC + "\"");
        }
        int version = f.integer("formatVersion");
        if (version < RecordingFormat.OLDEST_READABLE_VERSION || version > RecordingFormat.CURRENT_VERSION) {
            // Another version may lay its metadata out otherwise; only a failing checksum of this layout says damage.
            if (checksum(raw, map) instanceof Checksum.Mismatch m) throw mismatch(m, file);
            throw new UnsupportedFormatException(file, version, RecordingFormat.OLDEST_READABLE_VERSION,
                    RecordingFormat.CURRENT_VERSION);
        }
        // Before any other value is believed: a damaged or edited file must not pass for the recorded facts.
        boolean checksummed = requireChecksum(checksum(raw, map), file);
        RecordingStatus status;
        String statusWord = f.string("status");
        try {
            status = RecordingStatus.fromWord(statusWord);
        } catch (IllegalArgumentException e) {
            throw new CorruptRecordingException(file, -1, -1, "field \"status\": expected incomplete, complete or interrupted, found \"" + statusWord + "\"");
        }
        List<String> command = f.strings("command");
        if (command.isEmpty()) throw f.wrongType("command", "the program's argv (at least its name)", List.of());
        RecordingHeader header = new RecordingHeader(version, f.string("dejaVersion"), f.string("id"),
                command, f.stringMap("environment"), f.string("cwd"), f.integer("uid"),
                f.integer("gid"), f.string("kernel"), f.string("arch"), f.string("hostname"),
                f.longValue("startTimeNs"), launchSignals(f));
        String rollCycle = f.string("journalRollCycle");
        long blockSize = f.longValue("journalBlockSize");
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Long.bitCount(blockSize) != 1) {
            throw f.wrongType("journalBlockSize", "a power of two from " + MIN_BLOCK_SIZE + " to " + MAX_BLOCK_SIZE, blockSize);
        }
        if (status == RecordingStatus.INCOMPLETE) {
            return new Metadata(header, status, null, -1, -1, rollCycle, blockSize, checksummed, null);
        }
        RecordingSummary summary = new RecordingSummary(status, f.longValue("endTimeNs"), f.integer("exitStatus"),
                f.longValue("eventCount"), f.integer("processCount"));
        long journalEntries = f.longValue("journalEntries");
        if (journalEntries < 0) throw f.wrongType("journalEntries", "a count (0 or more)", journalEntries);
        HomeFiles homeFiles = null;
        if (map.containsKey("homeFilesRead")) {
            List<String> first = f.strings("homeFilesRead");
            long total = f.longValue("homeFilesReadTotal");
            if (total < first.size()) throw f.wrongType("homeFilesReadTotal", "at least the " + first.size() + " files listed", total);
            homeFiles = new HomeFiles(first, total);
        }
        return new Metadata(header, status, summary, journalEntries, f.longValue("bytes"), rollCycle,
                blockSize, checksummed, homeFiles);
    }

    /** What the checksum line of a meta.json says about the bytes before it. */
    private sealed interface Checksum {
        /** A file of an older deja: it ends with its last summary key and has no checksum. */
        record Absent() implements Checksum { }

        record Verified() implements Checksum { }

        record Mismatch(String expected, String actual, int covered) implements Checksum { }

        /** Neither of the above: a checksum key out of place, of the wrong form, or an unexpected last key. */
        record Malformed(String why, long offset) implements Checksum { }
    }

    /** Checks the last line's SHA-256 against the bytes before it. */
    private static Checksum checksum(byte[] raw, Map<?, ?> map) {
        String lastKey = null;
        for (Object k : map.keySet()) lastKey = (String) k;
        if (!map.containsKey(CHECKSUM_KEY)) {
            if (OLD_LAST_KEYS.contains(lastKey)) return new Checksum.Absent();
            return new Checksum.Malformed("the metadata has no \"" + CHECKSUM_KEY + "\" checksum and does not end as an"
                    + " older deja wrote it (its last key is \"" + lastKey + "\")", -1);
        }
        if (!CHECKSUM_KEY.equals(lastKey)) {
            return new Checksum.Malformed("the metadata's \"" + CHECKSUM_KEY + "\" checksum is not its last key (\""
                    + lastKey + "\" follows it)", -1);
        }
        if (!(map.get(CHECKSUM_KEY) instanceof String expected) || !BlobStore.isHash(expected)) {
            return new Checksum.Malformed("field \"" + CHECKSUM_KEY + "\": expected 64 lower-case hex digits", -1);
        }
        int lineLength = CHECKSUM_LINE_START.length + expected.length() + CHECKSUM_LINE_END.length;
        int lineAt = raw.length - lineLength;
        if (lineAt < 2 || !Arrays.equals(raw, lineAt, lineAt + CHECKSUM_LINE_START.length, CHECKSUM_LINE_START, 0,
                CHECKSUM_LINE_START.length) || !Arrays.equals(raw, raw.length - CHECKSUM_LINE_END.length, raw.length,
                CHECKSUM_LINE_END, 0, CHECKSUM_LINE_END.length) || raw[lineAt - 1] != '\n') {
            return new Checksum.Malformed("the metadata's checksum line is not laid out as deja writes it (  \""
                    + CHECKSUM_KEY + "\": \"<hex>\" on the line before the closing brace)", Math.max(lineAt, 0));
        }
        String actual = sha256(raw, lineAt);
        return actual.equals(expected) ? new Checksum.Verified() : new Checksum.Mismatch(expected, actual, lineAt);
    }

    /** True when the checksum vouches for the file; false for an older deja's file without one; else damage. */
    private static boolean requireChecksum(Checksum c, Path file) throws CorruptRecordingException {
        return switch (c) {
            case Checksum.Verified v -> true;
            case Checksum.Absent a -> false;
            case Checksum.Mismatch m -> throw mismatch(m, file);
            case Checksum.Malformed m -> throw new CorruptRecordingException(file, -1, m.offset(), m.why());
        };
    }

    private static CorruptRecordingException mismatch(Checksum.Mismatch m, Path file) {
        return new CorruptRecordingException(file, -1, -1, "the metadata does not match its checksum: its " + m.covered()
                + " bytes hash to " + m.actual() + ", its \"" + CHECKSUM_KEY + "\" says " + m.expected()
                + " (damaged or edited)");
    }

    /** Optional (recordings before it have neither key); both or none. */
    private static Optional<LaunchSignals> launchSignals(Fields f) throws CorruptRecordingException {
        boolean mask = f.map().containsKey("launchSignalMask");
        boolean ignored = f.map().containsKey("launchIgnoredSignals");
        if (!mask && !ignored) return Optional.empty();
        return Optional.of(new LaunchSignals(f.signalSet("launchSignalMask"), f.signalSet("launchIgnoredSignals")));
    }

    private record Fields(Path file, Map<?, ?> map) {

        long signalSet(String key) throws CorruptRecordingException {
            String v = string(key);
            try {
                return LaunchSignals.parseHex(v);
            } catch (NumberFormatException e) {
                throw wrongType(key, "a signal set in hex (16 digits)", v);
            }
        }

        Object get(String key) throws CorruptRecordingException {
            if (!map.containsKey(key)) throw new CorruptRecordingException(file, -1, -1, "missing field \"" + key + "\"");
            return map.get(key);
        }

        CorruptRecordingException wrongType(String key, String expected, Object found) {
            return new CorruptRecordingException(file, -1, -1, "field \"" + key + "\": expected " + expected + ", found "
                    + (found == null ? "null" : found instanceof String s ? Json.quote(s) : found.toString()));
        }

        String string(String key) throws CorruptRecordingException {
            Object v = get(key);
            if (v instanceof String s) return s;
            throw wrongType(key, "a string", v);
        }

        long longValue(String key) throws CorruptRecordingException {
            Object v = get(key);
            if (v instanceof Long l) return l;
            throw wrongType(key, "an integer", v);
        }

        int integer(String key) throws CorruptRecordingException {
            long v = longValue(key);
            if (v != (int) v) throw wrongType(key, "a 32-bit integer", v);
            return (int) v;
        }

        List<String> strings(String key) throws CorruptRecordingException {
            Object v = get(key);
            if (!(v instanceof List<?> list)) throw wrongType(key, "an array of strings", v);
            List<String> out = new ArrayList<>(list.size());
            for (Object o : list) {
                if (!(o instanceof String s)) throw wrongType(key, "an array of strings", v);
                out.add(s);
            }
            return out;
        }

        Map<String, String> stringMap(String key) throws CorruptRecordingException {
            Object v = get(key);
            if (!(v instanceof Map<?, ?> m)) throw wrongType(key, "an object of strings", v);
            Map<String, String> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getValue() instanceof String s)) throw wrongType(key + "." + e.getKey(), "a string", e.getValue());
                out.put((String) e.getKey(), s);
            }
            return out;
        }
    }
}
