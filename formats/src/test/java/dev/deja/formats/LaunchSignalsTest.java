package dev.deja.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The signal state a program started with, kept in meta.json (optional: older recordings lack it). */
class LaunchSignalsTest {

    @TempDir
    Path tmp;

    private static RecordingHeader header(Optional<LaunchSignals> signals) {
        return RecordingHeader.forCommand(List.of("/bin/sh", "-c", "true"), Map.of("HOME", "/root"), "/", 0, 0, "6.8.0",
                "x86_64", "host", 1_700_000_000_000_000_000L, signals);
    }

    @Test
    void theStateIsKeptAsHexAndReadBack() throws Exception {
        Path dir = tmp.resolve("rec");
        LaunchSignals s = new LaunchSignals(1L << 9, (1L << 1) | (1L << 2) | (1L << 63));
        try (RecordingWriter w = RecordingWriter.create(dir, header(Optional.of(s)))) {
            w.finish(new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_001_000_000_000L, 0, 0, 0));
        }
        String meta = Files.readString(dir.resolve("meta.json"));
        assertTrue(meta.contains("\"launchSignalMask\": \"0000000000000200\""), meta);
        assertTrue(meta.contains("\"launchIgnoredSignals\": \"8000000000000006\""), meta);
        try (Recording r = Recording.open(dir)) {
            assertEquals(Optional.of(s), r.header().launchSignals());
        }
    }

    @Test
    void aRecordingWithoutItReadsAsUnknown() throws Exception {
        Path dir = tmp.resolve("old");
        try (RecordingWriter w = RecordingWriter.create(dir, header(Optional.empty()))) {
            w.finish(new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_001_000_000_000L, 0, 0, 0));
        }
        assertTrue(!Files.readString(dir.resolve("meta.json")).contains("launch"));
        try (Recording r = Recording.open(dir)) {
            assertEquals(Optional.empty(), r.header().launchSignals());
        }
    }

    @Test
    void aDamagedValueIsReportedByName() throws Exception {
        Path dir = tmp.resolve("bad");
        try (RecordingWriter w = RecordingWriter.create(dir, header(Optional.of(new LaunchSignals(0, 2))))) {
            w.finish(new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_001_000_000_000L, 0, 0, 0));
        }
        Path meta = dir.resolve("meta.json");
        MetaFiles.editAndResum(meta, t -> t.replace("\"0000000000000002\"", "\"zz\""));
        CorruptRecordingException e = assertThrows(CorruptRecordingException.class, () -> Recording.open(dir).close());
        assertTrue(e.getMessage().contains("launchIgnoredSignals"), e.getMessage());
    }
}
