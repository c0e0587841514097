package dev.deja.formats.pack;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.internal.Metadata;
import dev.deja.formats.json.Json;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The manifest's summary of a recording, made from its metadata when packing and held against it when
 * reading: {@code deja info} shows the summary without unpacking, so a summary that describes another
 * recording than the one the pack carries must not pass.
 */
final class PackSummaries {
    private PackSummaries() {
    }

    /**
     * The summary of a recording.
     *
     * @param events the events of a finished recording's summary, or those its journal kept when incomplete
     */
    static PackSummary of(RecordingHeader h, RecordingStatus status, RecordingSummary s, long events, long bytes) {
        String user = h.environment().getOrDefault("USER", h.environment().getOrDefault("LOGNAME", ""));
        return new PackSummary(h.id(), h.formatVersion(), h.dejaVersion(), status, h.command(), h.cwd(), h.hostname(),
                user, h.uid(), h.gid(), h.kernel(), h.arch(), h.startTimeNs(), s == null ? -1 : s.endTimeNs(),
                s == null ? -1 : s.exitStatus(), events, s == null ? -1 : s.processCount(), bytes);
    }

    /**
     * Throws unless {@code claimed} says what {@code meta} says. The event count of an incomplete recording
     * (counted from its journal) and the bytes (the entries' sum, checked when the pack is opened) are not
     * in the metadata and are left to the callers that have them.
     */
    static void requireMatches(PackSummary claimed, Metadata meta, Path pack, long manifestOffset)
            throws CorruptRecordingException {
        RecordingSummary s = meta.summary();
        long events = s != null ? s.eventCount() : claimed.events();
        PackSummary actual = of(meta.header(), meta.status(), s, events, claimed.bytes());
        List<String> differences = differences(claimed, actual);
        if (!differences.isEmpty()) {
            throw new CorruptRecordingException(pack, -1, manifestOffset, "the manifest's summary of the recording does"
                    + " not match the meta.json it carries: " + String.join("; ", differences)
                    + " (a damaged or forged manifest)");
        }
    }

    /** Each field that differs, as "FIELD: the summary says X, meta.json says Y". */
    static List<String> differences(PackSummary claimed, PackSummary actual) {
        List<String> out = new ArrayList<>();
        differ(out, "id", claimed.id(), actual.id());
        differ(out, "formatVersion", claimed.formatVersion(), actual.formatVersion());
        differ(out, "dejaVersion", claimed.dejaVersion(), actual.dejaVersion());
        differ(out, "status", claimed.status().word(), actual.status().word());
        differ(out, "command", claimed.command(), actual.command());
        differ(out, "cwd", claimed.cwd(), actual.cwd());
        differ(out, "hostname", claimed.hostname(), actual.hostname());
        differ(out, "user", claimed.user(), actual.user());
        differ(out, "uid", claimed.uid(), actual.uid());
        differ(out, "gid", claimed.gid(), actual.gid());
        differ(out, "kernel", claimed.kernel(), actual.kernel());
        differ(out, "arch", claimed.arch(), actual.arch());
        differ(out, "startTimeNs", claimed.startTimeNs(), actual.startTimeNs());
        differ(out, "endTimeNs", claimed.endTimeNs(), actual.endTimeNs());
        differ(out, "exitStatus", claimed.exitStatus(), actual.exitStatus());
        differ(out, "events", claimed.events(), actual.events());
        differ(out, "processes", claimed.processes(), actual.processes());
        differ(out, "bytes", claimed.bytes(), actual.bytes());
        return out;
    }

    private static void differ(List<String> out, String field, Object claimed, Object actual) {
        if (Objects.equals(claimed, actual)) return;
        out.add(field + ": the summary says " + show(claimed) + ", the recording " + show(actual));
    }

    private static String show(Object v) {
        if (v instanceof String s) return Json.quote(s);
        if (v instanceof List<?> l) {
            List<String> q = new ArrayList<>();
            for (Object o : l) q.add(show(o));
            return "[" + String.join(", ", q) + "]";
        }
        return String.valueOf(v);
    }
}
