package dev.deja.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.security.MessageDigest;

import static org.junit.jupiter.api.Assertions.*;

class BlobStoreTest {

    @Test
    void storeDedupAndVerify(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        Path lib = tmp.resolve("libfoo.so");
        byte[] content = "pretend ELF".repeat(1000).getBytes();
        Files.write(lib, content);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        String h1, h2, h3, empty;
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            h1 = w.storeBlob(lib);
            h2 = w.storeBlob(content);
            h3 = w.storeBlob(lib);
            empty = w.storeBlob(new byte[0]);
            w.finish(RandomEvents.summary(0));
        }
        assertEquals(expected, h1);
        assertEquals(h1, h2);
        assertEquals(h1, h3);
        Path stored = dir.resolve("blobs").resolve(h1.substring(0, 2)).resolve(h1.substring(2));
        assertArrayEquals(content, Files.readAllBytes(stored));
        assertEquals(2, Files.readAllLines(dir.resolve("blobs/index")).size());
        try (Recording r = Recording.open(dir)) {
            assertEquals(stored, r.blob(h1));
            assertEquals(0, Files.size(r.blob(empty)));
            r.verify();
            RecordingException bad = assertThrows(RecordingException.class, () -> r.blob("not-a-hash"));
            assertTrue(bad.getMessage().contains("not-a-hash"));
            String missing = "0".repeat(64);
            CorruptRecordingException m = assertThrows(CorruptRecordingException.class, () -> r.blob(missing));
            assertTrue(m.getMessage().contains(missing) && m.getMessage().contains("missing"), m.getMessage());
        }
    }

    @Test
    void tamperedBlobIsNamed(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        String h;
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            h = w.storeBlob("the original executable".getBytes());
            w.finish(RandomEvents.summary(0));
        }
        Path stored = dir.resolve("blobs").resolve(h.substring(0, 2)).resolve(h.substring(2));
        Files.write(stored, "the Original executable".getBytes());   // same size, other content
        try (Recording r = Recording.open(dir)) {
            CorruptRecordingException e = assertThrows(CorruptRecordingException.class, () -> r.blob(h));
            assertTrue(e.getMessage().contains(h) && e.getMessage().contains("does not match"), e.getMessage());
            CorruptRecordingException v = assertThrows(CorruptRecordingException.class, r::verify);
            assertTrue(v.getMessage().contains(h), v.getMessage());
        }
        Files.write(stored, "short".getBytes());                        // other size
        try (Recording r = Recording.open(dir)) {
            CorruptRecordingException e = assertThrows(CorruptRecordingException.class, () -> r.blob(h));
            assertTrue(e.getMessage().contains(h) && e.getMessage().contains("index says"), e.getMessage());
        }
    }

    @Test
    void verifiedOncePerOpen(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        String h;
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            h = w.storeBlob("x".getBytes());
        }
        try (Recording r = Recording.open(dir)) {
            Path p = r.blob(h);
            Files.write(p, "y".getBytes());
            assertEquals(p, r.blob(h));   // already verified in this open
        }
        try (Recording r = Recording.open(dir)) {
            assertThrows(CorruptRecordingException.class, () -> r.blob(h));
        }
    }
}
