package dev.deja.formats;

import dev.deja.formats.event.Event;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class RoundTripTest {

    @Test
    void everyEventKindWithRandomContents(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        RandomEvents gen = new RandomEvents(42);
        List<Event> written = new ArrayList<>();
        RecordingHeader header = RandomEvents.header();
        try (RecordingWriter w = RecordingWriter.create(dir, header)) {
            gen.blobs = List.of(w.storeBlob("an executable".getBytes()), w.storeBlob(new byte[0]));
            for (int i = 0; i < 2000; i++) {
                Event e = gen.next(i % 7);
                written.add(e);
                w.append(e);
            }
            w.finish(RandomEvents.summary(written.size()));
        }
        try (Recording r = Recording.open(dir)) {
            assertEquals(header, r.header());
            assertEquals(RecordingStatus.COMPLETE, r.status());
            assertEquals(RandomEvents.summary(written.size()), r.summary().orElseThrow());
            try (EventReader er = r.events()) {
                for (int i = 0; i < written.size(); i++) {
                    assertEquals(i, er.position());
                    assertEquals(written.get(i), er.next(), "event " + i);
                }
                assertNull(er.next());
                assertNull(er.next());
            }
            r.verify();
            assertTrue(r.sizeBytes() > 0 && r.sizeBytes() < 64L << 20, "size " + r.sizeBytes());
        }
    }

    /**
     * What replay's index reads: every event as written, a syscall's blocks left out (raw, LZ4 and blob ones), in
     * turn with whole reads from the same reader; a block whose length runs past the payload is still refused.
     */
    @Test
    void eventsWithoutTheirDataAreTheEventsLessTheirBlocks(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        RandomEvents gen = new RandomEvents(43);
        List<Event> written = new ArrayList<>();
        byte[] big = new byte[2 << 20];
        new Random(9).nextBytes(big);
        List<MemoryBlock> blocks = List.of(new MemoryBlock(0, 0x1000, new byte[] {42}),
                new MemoryBlock(1, 0x2000, "compressible ".repeat(100).getBytes()), new MemoryBlock(2, 0x3000, big));
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            gen.blobs = List.of(w.storeBlob("an executable".getBytes()));
            for (int i = 0; i < 700; i++) written.add(gen.next(i % 7));
            written.add(new SyscallEvent(700, 1, 2, 10, 20, 0, new long[] {1, 2, 3, 4, 5, 6}, blocks, 7, blocks, 0));
            for (Event e : written) w.append(e);
            w.finish(RandomEvents.summary(written.size()));
        }
        try (Recording r = Recording.open(dir); EventReader er = r.events()) {
            for (int i = 0; i < written.size(); i++) {
                Event e = written.get(i);
                Event expected = e instanceof SyscallEvent s ? new SyscallEvent(s.seq(), s.pid(), s.tid(), s.timeNs(),
                        s.exitTimeNs(), s.nr(), s.args(), List.of(), s.result(), List.of(), s.flags()) : e;
                assertEquals(i % 3 == 0 ? e : expected, i % 3 == 0 ? er.next() : er.nextWithoutData(), "event " + i);
            }
            assertNull(er.nextWithoutData());
        }
        // A block kept in the blob store whose blob is gone, and a raw block's length past the end of its payload: the
        // codec refuses them without their data too.
        dev.deja.formats.internal.EntryCodec noBlobs = new dev.deja.formats.internal.EntryCodec(data -> "0".repeat(64),
                (hash, length) -> { throw new RecordingException("blob " + hash + " is missing"); });
        int m = noBlobs.encode(new SyscallEvent(1, 1, 1, 10, 20, 0, new long[6], List.of(), 0, List.of(new MemoryBlock(1, 0, big)), 0));
        byte[] withBlob = java.util.Arrays.copyOf(noBlobs.buffer(), m);
        assertThrows(RecordingException.class, () -> noBlobs.decodeWithoutData(withBlob, m));
        dev.deja.formats.internal.EntryCodec codec = new dev.deja.formats.internal.EntryCodec(data -> "0".repeat(64),
                (hash, length) -> new byte[length]);
        int n = codec.encode(new SyscallEvent(1, 1, 1, 10, 20, 0, new long[6], List.of(new MemoryBlock(0, 0, new byte[] {1, 2, 3})),
                0, List.of(), 0));
        byte[] payload = java.util.Arrays.copyOf(codec.buffer(), n);
        int at = n - 7;                      // outputs (0), flags (0), and before them: 1, 2, 3, its length 3, RAW
        assertEquals(3, payload[at]);
        payload[at] = 100;
        assertThrows(dev.deja.formats.internal.EntryCodec.DecodeException.class, () -> codec.decodeWithoutData(payload, n));
        assertThrows(dev.deja.formats.internal.EntryCodec.DecodeException.class, () -> codec.decode(payload, n));
    }

    @Test
    void blocksOfOneByteCompressibleIncompressibleAnd16MiB(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        Random rnd = new Random(7);
        byte[] big = new byte[16 << 20];
        rnd.nextBytes(big);
        byte[] bigZeros = new byte[16 << 20];
        byte[] text = "the quick brown fox jumps over the lazy dog. ".repeat(100).getBytes();
        byte[] noise = new byte[4000];
        rnd.nextBytes(noise);
        List<MemoryBlock> blocks = List.of(new MemoryBlock(0, 0x1000, new byte[]{42}), new MemoryBlock(1, 0x2000, text),
                new MemoryBlock(2, 0x3000, noise), new MemoryBlock(-1, -1L, new byte[0]),
                new MemoryBlock(3, 0x7fff_ffff_f000L, new byte[511]), new MemoryBlock(4, 0x5000, new byte[512]));
        List<Event> written = List.of(
                new SyscallEvent(1, 1, 1, 10, 20, 0, new long[6], blocks, 1, blocks, 0),
                new SyscallEvent(2, 1, 1, 10, 20, 0, new long[6], List.of(), 16 << 20, List.of(new MemoryBlock(1, 0x10000, big)), 0),
                new SyscallEvent(3, 1, 1, 10, 20, 1, new long[6], List.of(new MemoryBlock(1, 0x10000, bigZeros)), 16 << 20, List.of(), 0),
                new SyscallEvent(4, 1, 1, 10, 20, 0, new long[6], List.of(), 16 << 20, List.of(new MemoryBlock(1, 0x10000, big)), 0));
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            for (Event e : written) w.append(e);
            w.finish(RandomEvents.summary(written.size()));
        }
        assertEquals(written, RandomEvents.readAll(dir));
        try (Recording r = Recording.open(dir)) {
            r.verify();
            long size = r.sizeBytes();
            // the random 16 MiB block is stored once (deduplicated), the zero block compresses
            assertTrue(size > 16 << 20 && size < 17 << 20, "size " + size);
        }
    }

    @Test
    void incompleteRecordingIsReadable(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            for (int i = 1; i <= 10; i++) w.append(RandomEvents.getppid(i));
        }
        try (Recording r = Recording.open(dir)) {
            assertEquals(RecordingStatus.INCOMPLETE, r.status());
            assertTrue(r.summary().isEmpty());
            r.verify();
        }
        assertEquals(10, RandomEvents.readAll(dir).size());
    }

    @Test
    void homeFilesReadAreListedInTheMetadataSortedAndCapped(@TempDir Path tmp) throws Exception {
        Path none = tmp.resolve("none");
        try (RecordingWriter w = RecordingWriter.create(none, RandomEvents.header())) {
            w.finish(RandomEvents.summary(0));
        }
        try (Recording r = Recording.open(none)) {
            assertTrue(r.homeFilesRead().isEmpty(), "not watched: unknown, not empty");
        }
        Path empty = tmp.resolve("empty");
        try (RecordingWriter w = RecordingWriter.create(empty, RandomEvents.header())) {
            w.watchHomeFiles();
            w.finish(RandomEvents.summary(0));
        }
        try (Recording r = Recording.open(empty)) {
            assertEquals(List.of(), r.homeFilesRead().orElseThrow().first());
            assertEquals(0, r.homeFilesRead().orElseThrow().total());
        }
        Path many = tmp.resolve("many");
        int n = dev.deja.formats.internal.Metadata.MAX_HOME_FILES + 5;
        try (RecordingWriter w = RecordingWriter.create(many, RandomEvents.header())) {
            for (int i = n - 1; i >= 0; i--) w.noteHomeFile(String.format("/home/me/f%05d \"quoted\"", i));
            w.noteHomeFile("/home/me/f00000 \"quoted\"");
            w.finish(RandomEvents.summary(0));
        }
        try (Recording r = Recording.open(many)) {
            var files = r.homeFilesRead().orElseThrow();
            assertEquals(n, files.total());
            assertEquals(dev.deja.formats.internal.Metadata.MAX_HOME_FILES, files.first().size());
            assertEquals("/home/me/f00000 \"quoted\"", files.first().getFirst());
            assertEquals(String.format("/home/me/f%05d \"quoted\"", files.first().size() - 1), files.first().getLast());
            r.verify();
        }
    }

    @Test
    void interruptedAndEmpty(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            w.finish(new RecordingSummary(RecordingStatus.INTERRUPTED, 5, 130, 0, 0));
        }
        try (Recording r = Recording.open(dir)) {
            assertEquals(RecordingStatus.INTERRUPTED, r.status());
            assertEquals(130, r.summary().orElseThrow().exitStatus());
        }
        assertEquals(List.of(), RandomEvents.readAll(dir));
        assertTrue(Files.readString(dir.resolve("meta.json")).contains("\"status\": \"interrupted\""));
    }

    @Test
    void openByMetaFileAndTwoReadersIndependently(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            for (int i = 1; i <= 5; i++) w.append(RandomEvents.getppid(i));
            w.finish(RandomEvents.summary(5));
        }
        try (Recording r = Recording.open(dir.resolve("meta.json")); EventReader a = r.events(); EventReader b = r.events()) {
            assertEquals(1, a.next().seq());
            assertEquals(2, a.next().seq());
            assertEquals(1, b.next().seq());
        }
    }

    @Test
    void leavesNoThreadsBehind(@TempDir Path tmp) throws Exception {
        java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
        Path dir = tmp.resolve("rec");
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            for (int i = 1; i <= 100; i++) w.append(RandomEvents.getppid(i));
            w.finish(RandomEvents.summary(100));
        }
        assertEquals(100, RandomEvents.readAll(dir).size());
        Thread.sleep(200);
        List<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.isAlive() && !t.isDaemon()).map(Thread::getName).toList();
        assertEquals(List.of(), left, "non-daemon threads left running");
    }

    @Test
    void createRefusesNonEmptyDirectory(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("x"), "x");
        RecordingException e = assertThrows(RecordingException.class, () -> RecordingWriter.create(tmp, RandomEvents.header()));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
    }
}
