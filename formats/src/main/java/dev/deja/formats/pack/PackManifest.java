package dev.deja.formats.pack;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.internal.BlobStore;
import dev.deja.formats.internal.Metadata;
import dev.deja.formats.json.Json;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The manifest at the start of a pack: its version, a summary of the recording and the entries in
 * the order their data follows. Written as JSON with a fixed field order, so that packing the same
 * recording twice gives the same bytes.
 */
public record PackManifest(int version, PackSummary recording, List<PackEntry> entries) {

    public PackManifest {
        Objects.requireNonNull(recording, "recording");
        entries = List.copyOf(entries);
    }

    /** Bytes of the recording's files, holes included (what {@code du --apparent-size} would say after unpack). */
    public long unpackedSize() {
        long total = 0;
        for (PackEntry e : entries) total += e.size();
        return total;
    }

    public String toJson() {
        PackSummary r = recording;
        StringBuilder sb = new StringBuilder(512 + 160 * entries.size());
        sb.append("{\n  \"packFormatVersion\": ").append(version).append(",\n  \"recording\": {\n");
        List<String> fields = new ArrayList<>();
        fields.add(kv("id", Json.quote(r.id())));
        fields.add(kv("formatVersion", Integer.toString(r.formatVersion())));
        fields.add(kv("dejaVersion", Json.quote(r.dejaVersion())));
        fields.add(kv("status", Json.quote(r.status().word())));
        StringBuilder cmd = new StringBuilder("[");
        for (int i = 0; i < r.command().size(); i++) cmd.append(i == 0 ? "" : ", ").append(Json.quote(r.command().get(i)));
        fields.add(kv("command", cmd.append(']').toString()));
        fields.add(kv("cwd", Json.quote(r.cwd())));
        fields.add(kv("hostname", Json.quote(r.hostname())));
        fields.add(kv("user", Json.quote(r.user())));
        fields.add(kv("uid", Integer.toString(r.uid())));
        fields.add(kv("gid", Integer.toString(r.gid())));
        fields.add(kv("kernel", Json.quote(r.kernel())));
        fields.add(kv("arch", Json.quote(r.arch())));
        fields.add(kv("startTimeNs", Long.toString(r.startTimeNs())));
        fields.add(kv("endTimeNs", Long.toString(r.endTimeNs())));
        fields.add(kv("exitStatus", Integer.toString(r.exitStatus())));
        fields.add(kv("events", Long.toString(r.events())));
        fields.add(kv("processes", Integer.toString(r.processes())));
        fields.add(kv("bytes", Long.toString(r.bytes())));
        sb.append(String.join(",\n", fields)).append("\n  },\n  \"entries\": [");
        for (int i = 0; i < entries.size(); i++) {
            PackEntry e = entries.get(i);
            sb.append(i == 0 ? "\n" : ",\n").append("    {\"name\": ").append(Json.quote(e.name()))
                    .append(", \"size\": ").append(e.size()).append(", \"stored\": ").append(e.stored())
                    .append(", \"sha256\": ").append(Json.quote(e.sha256())).append('}');
        }
        return sb.append(entries.isEmpty() ? "]\n}\n" : "\n  ]\n}\n").toString();
    }

    private static String kv(String key, String jsonValue) {
        return "    " + Json.quote(key) + ": " + jsonValue;
    }

    /**
     * Parses and checks a manifest (its CRC already matched): every field present with its type,
     * entry names safe and unique, meta.json first.
     *
     * @param file   the pack, named in errors
     * @param offset where the manifest starts in the pack
     */
    static PackManifest parse(Path file, long offset, byte[] raw, int headerVersion) throws CorruptRecordingException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new CorruptRecordingException(file, -1, offset, "the manifest is not valid UTF-8", e);
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.SyntaxException e) {
            throw new CorruptRecordingException(file, -1, offset, "the manifest does not parse: " + e.getMessage()
                    + " at character " + e.offset() + " of the manifest");
        }
        Fields top = new Fields(file, offset, "", parsed);
        int version = top.integer("packFormatVersion");
        if (version != headerVersion) {
            throw top.error("packFormatVersion " + version + " differs from the version " + headerVersion + " in the pack header");
        }
        Fields r = top.object("recording");
        RecordingStatus status;
        String word = r.string("status");
        try {
            status = RecordingStatus.fromWord(word);
        } catch (IllegalArgumentException e) {
            throw r.error("field \"status\": expected incomplete, complete or interrupted, found " + Json.quote(word));
        }
        PackSummary summary = new PackSummary(r.string("id"), r.integer("formatVersion"), r.string("dejaVersion"),
                status, r.strings("command"), r.string("cwd"), r.string("hostname"), r.string("user"), r.integer("uid"),
                r.integer("gid"), r.string("kernel"), r.string("arch"), r.longValue("startTimeNs"),
                r.longValue("endTimeNs"), r.integer("exitStatus"), r.longValue("events"), r.integer("processes"),
                r.longValue("bytes"));
        List<Fields> list = top.objects("entries");
        List<PackEntry> entries = new ArrayList<>(list.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Fields f = list.get(i);
            String name = f.string("name");
            if (!PackFormat.ENTRY_NAME.matcher(name).matches()) {
                throw f.error("entry " + i + ": " + Json.quote(name) + " is not a plain relative path");
            }
            if (!names.add(name)) throw f.error("entry " + i + ": " + Json.quote(name) + " is listed twice");
            long size = f.longValue("size");
            long stored = f.longValue("stored");
            String sha = f.string("sha256");
            if (size < 0 || stored < 0 || stored > size) {
                throw f.error("entry " + i + " (" + name + "): stored " + stored + " bytes of a " + size + "-byte file");
            }
            if (!BlobStore.isHash(sha)) throw f.error("entry " + i + " (" + name + "): sha256 is not 64 hex digits");
            entries.add(new PackEntry(name, size, stored, sha));
        }
        if (entries.isEmpty() || !entries.getFirst().name().equals(Metadata.FILE_NAME)) {
            throw top.error("the first entry must be " + Metadata.FILE_NAME);
        }
        return new PackManifest(version, summary, entries);
    }

    /** Typed access to one JSON object of the manifest; errors name the pack and the manifest's offset. */
    private record Fields(Path file, long offset, String path, Object value) {

        CorruptRecordingException error(String what) {
            return new CorruptRecordingException(file, -1, offset, "manifest: " + what);
        }

        Object get(String key) throws CorruptRecordingException {
            if (!(value instanceof Map<?, ?> map)) throw error((path.isEmpty() ? "the manifest" : path) + " is not an object");
            if (!map.containsKey(key)) throw error("missing field \"" + path + key + "\"");
            return map.get(key);
        }

        CorruptRecordingException wrongType(String key, String expected) {
            return error("field \"" + path + key + "\": expected " + expected);
        }

        String string(String key) throws CorruptRecordingException {
            if (get(key) instanceof String s) return s;
            throw wrongType(key, "a string");
        }

        long longValue(String key) throws CorruptRecordingException {
            if (get(key) instanceof Long l) return l;
            throw wrongType(key, "an integer");
        }

        int integer(String key) throws CorruptRecordingException {
            long v = longValue(key);
            if (v != (int) v) throw wrongType(key, "a 32-bit integer");
            return (int) v;
        }

        List<String> strings(String key) throws CorruptRecordingException {
            if (!(get(key) instanceof List<?> l)) throw wrongType(key, "an array of strings");
            List<String> out = new ArrayList<>(l.size());
            for (Object o : l) {
                if (!(o instanceof String s)) throw wrongType(key, "an array of strings");
                out.add(s);
            }
            return out;
        }

        Fields object(String key) throws CorruptRecordingException {
            Object v = get(key);
            if (!(v instanceof Map<?, ?>)) throw wrongType(key, "an object");
            return new Fields(file, offset, path + key + ".", v);
        }

        List<Fields> objects(String key) throws CorruptRecordingException {
            if (!(get(key) instanceof List<?> l)) throw wrongType(key, "an array of objects");
            List<Fields> out = new ArrayList<>(l.size());
            for (int i = 0; i < l.size(); i++) {
                if (!(l.get(i) instanceof Map<?, ?>)) throw wrongType(key, "an array of objects");
                out.add(new Fields(file, offset, path + key + "[" + i + "].", l.get(i)));
            }
            return out;
        }
    }
}
