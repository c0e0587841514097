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
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
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
 */
public record Metadata(RecordingHeader header, RecordingStatus status, RecordingSummary summary,
                       long journalEntries, long bytes, String rollCycle, long blockSize) {

    public static final String FILE_NAME = "meta.json";

    public static Metadata started(RecordingHeader header) {
        return new Metadata(header, RecordingStatus.INCOMPLETE, null, -1, -1, Journal.ROLL_CYCLE_NAME,
                Journal.BLOCK_SIZE);
    }

    public Metadata finished(RecordingSummary summary, long journalEntries, long bytes) {
        return new Metadata(header, summary.status(), summary, journalEntries, bytes, rollCycle, blockSize);
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
        }
        sb.setLength(sb.length() - 2); // the last ",\n"
        return sb.append("\n}\n").toString();
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

    /** Reads and checks {@code dir/meta.json}: magic, version range, every field present with its type. */
    public static Metadata read(Path dir) throws RecordingException {
        Path file = dir.resolve(FILE_NAME);
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new NotARecordingException(dir, "no " + FILE_NAME);
        } catch (IOException e) {
            throw new RecordingException("cannot read " + file + ": " + e, e);
        }
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
            throw new UnsupportedFormatException(file, version, RecordingFormat.OLDEST_READABLE_VERSION,
                    RecordingFormat.CURRENT_VERSION);
        }
        RecordingStatus status;
        String statusWord = f.string("status");
        try {
            status = RecordingStatus.fromWord(statusWord);
        } catch (IllegalArgumentException e) {
            throw new CorruptRecordingException(file, -1, -1, "field \"status\": expected incomplete, complete or interrupted, found \"" + statusWord + "\"");
        }
        RecordingHeader header = new RecordingHeader(version, f.string("dejaVersion"), f.string("id"),
                f.strings("command"), f.stringMap("environment"), f.string("cwd"), f.integer("uid"),
                f.integer("gid"), f.string("kernel"), f.string("arch"), f.string("hostname"),
                f.longValue("startTimeNs"), launchSignals(f));
        String rollCycle = f.string("journalRollCycle");
        long blockSize = f.longValue("journalBlockSize");
        if (status == RecordingStatus.INCOMPLETE) {
            return new Metadata(header, status, null, -1, -1, rollCycle, blockSize);
        }
        RecordingSummary summary = new RecordingSummary(status, f.longValue("endTimeNs"), f.integer("exitStatus"),
                f.longValue("eventCount"), f.integer("processCount"));
        return new Metadata(header, status, summary, f.longValue("journalEntries"), f.longValue("bytes"), rollCycle,
                blockSize);
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
