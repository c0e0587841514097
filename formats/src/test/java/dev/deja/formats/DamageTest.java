package dev.deja.formats;

import dev.deja.formats.RecordingFormat;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Damaged recordings: each is refused or recovered with a RecordingException that says where and what. */
class DamageTest {

    static final int EVENTS = 60;

    /** Event i carries a 100-byte incompressible block starting with the marker bytes 0xD3 0xA1 i. */
    static List<Event> write(Path dir, boolean finish) throws RecordingException {
        Random rnd = new Random(3);
        List<Event> events = new ArrayList<>();
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            for (int i = 0; i < EVENTS; i++) {
                byte[] data = new byte[100];
                rnd.nextBytes(data);
                data[0] = (byte) 0xD3;
                data[1] = (byte) 0xA1;
                data[2] = (byte) i;
                Event e = new SyscallEvent(i + 1, 100, 100, 1000L * i, 1000L * i + 5, 0, new long[]{3, 0x7ffd_1234_0000L, 100, 0, 0, 0},
                        List.of(), 100, List.of(new MemoryBlock(1, 0x7ffd_1234_0000L, data)), 0);
                events.add(e);
                w.append(e);
            }
            if (finish) w.finish(RandomEvents.summary(EVENTS));
        }
        return events;
    }

    static Path queueFile(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("journal"))) {
            return s.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
    }

    static long find(Path file, int i) throws IOException {
        byte[] all = Files.readAllBytes(file);
        for (int p = 0; p + 2 < all.length; p++) {
            if (all[p] == (byte) 0xD3 && all[p + 1] == (byte) 0xA1 && all[p + 2] == (byte) i) return p;
        }
        throw new AssertionError("marker of event " + i + " not found");
    }

    static void flip(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x40));
            b.rewind();
            ch.write(b, offset);
        }
    }

    /** Reads what it can; returns the events read and the exception that stopped it (or null). */
    record Outcome(List<Event> events, RecordingException error) {
    }

    static Outcome readAll(Path dir) {
        List<Event> out = new ArrayList<>();
        try (Recording r = Recording.open(dir); EventReader er = r.events()) {
            for (Event e; (e = er.next()) != null; ) out.add(e);
            return new Outcome(out, null);
        } catch (RecordingException e) {
            return new Outcome(out, e);
        }
    }

    @Test
    void flippedByteInAnEntryNamesTheEntry(@TempDir Path tmp) throws Exception {
        for (boolean finish : new boolean[]{true, false}) {
            Path dir = tmp.resolve("rec-" + finish);
            List<Event> events = write(dir, finish);
            Path q = queueFile(dir);
            long at = find(q, 37) + 50;
            flip(q, at);
            Outcome o = readAll(dir);
            assertEquals(events.subList(0, 37), o.events());
            CorruptRecordingException e = assertInstanceOf(CorruptRecordingException.class, o.error());
            assertEquals(37, e.entryIndex());
            assertEquals(q, e.file());
            assertTrue(e.offset() > 0 && e.offset() < at, "offset " + e.offset() + " vs flipped byte at " + at);
            assertTrue(e.getMessage().contains("entry 37") && e.getMessage().contains("CRC32C"), e.getMessage());
            try (Recording r = Recording.open(dir)) {
                CorruptRecordingException v = assertThrows(CorruptRecordingException.class, r::verify);
                assertEquals(37, v.entryIndex());
            }
        }
    }

    /** Issue 15: a flip in the queue's own header (offset 6) was a StreamCorruptedException out of Chronicle. */
    @Test
    void flippedByteInTheJournalHeaderIsCorruption(@TempDir Path tmp) throws Exception {
        int refused = 0;
        for (long offset : new long[]{4, 6, 8, 12}) {
            Path dir = tmp.resolve("rec-" + offset);
            write(dir, true);
            Path q = queueFile(dir);
            flip(q, offset);
            Outcome o = readAll(dir);
            if (o.error() == null) continue; // a flip Chronicle does not read: the events are intact
            assertInstanceOf(CorruptRecordingException.class, o.error(), "offset " + offset + ": " + o.error());
            assertTrue(o.error().getMessage().contains(q.toString()), o.error().getMessage());
            refused++;
        }
        assertTrue(refused > 0, "no flip in the header was noticed");
    }

    @Test
    void flippedByteInTheLastEntryOfAnIncompleteRecordingIsATornTail(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        List<Event> events = write(dir, false);
        Path q = queueFile(dir);
        flip(q, find(q, EVENTS - 1) + 10);
        Outcome o = readAll(dir);
        assertNull(o.error());
        assertEquals(events.subList(0, EVENTS - 1), o.events());
        // the same damage in a complete recording is an error
        Path dir2 = tmp.resolve("rec2");
        write(dir2, true);
        Path q2 = queueFile(dir2);
        flip(q2, find(q2, EVENTS - 1) + 10);
        CorruptRecordingException e = assertInstanceOf(CorruptRecordingException.class, readAll(dir2).error());
        assertEquals(EVENTS - 1, e.entryIndex());
    }

    @Test
    void truncatedJournalAtManyOffsets(@TempDir Path tmp) throws Exception {
        for (boolean finish : new boolean[]{true, false}) {
            Path orig = tmp.resolve("orig-" + finish);
            List<Event> events = write(orig, finish);
            Path q = queueFile(orig);
            long end = find(q, EVENTS - 1) + 200;
            List<Long> offsets = new ArrayList<>();
            for (long off = 0; off < 600; off += 37) offsets.add(off);
            long first = find(q, 0);
            for (long off = 600; off < first - 2000; off += (first - 2600) / 40) offsets.add(off);  // header and index area
            for (long off = first - 2000; off < end; off += 97) offsets.add(off);                   // the entries
            for (int i = 0; i < EVENTS; i += 7) {
                long m = find(q, i);
                offsets.add(m - 20);
                offsets.add(m);
                offsets.add(m + 99);
            }
            offsets.add(end + 4096);
            offsets.add(1L << 20);
            int lastCount = -1;
            offsets.sort(null);
            for (long off : offsets) {
                Path dir = tmp.resolve("cut-" + finish + "-" + off);
                copyTree(orig, dir, off);   // the queue file cut at off
                Path cut = queueFile(dir);
                Outcome o = readAll(dir);   // never anything but a RecordingException
                int n = o.events().size();
                assertEquals(events.subList(0, n), o.events(), "cut at " + off);
                assertTrue(n >= lastCount, "cut at " + off + " read " + n + " < " + lastCount);
                lastCount = n;
                if (finish && n < EVENTS) {
                    // a complete recording that lost entries must not pass for whole
                    CorruptRecordingException e = assertInstanceOf(CorruptRecordingException.class, o.error(), "cut at " + off);
                    assertTrue(e.getMessage().contains(cut.getFileName().toString()), e.getMessage());
                } else if (o.error() != null) {
                    assertInstanceOf(CorruptRecordingException.class, o.error(), "cut at " + off);
                }
                deleteTree(dir);
            }
            assertTrue(lastCount >= EVENTS - 1, "a cut after the data should keep (nearly) everything: " + lastCount);
        }
    }

    @Test
    void shortJournalCutAtTheEndOfEntriesIsRecovered(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        List<Event> events = write(dir, false);
        Path q = queueFile(dir);
        long afterEntry30 = find(q, 30) + 100;   // the block is the end of the payload, the payload the end of the entry
        try (FileChannel ch = FileChannel.open(q, StandardOpenOption.WRITE)) {
            ch.truncate(afterEntry30);
        }
        Outcome o = readAll(dir);
        assertNull(o.error());
        assertEquals(events.subList(0, 31), o.events());
    }

    @Test
    void newerFormatVersionIsRefused(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        write(dir, true);
        Path meta = dir.resolve("meta.json");
        // as a newer deja would write it: its checksum matches
        MetaFiles.editAndResum(meta, t -> t.replace("\"formatVersion\": " + RecordingFormat.CURRENT_VERSION + ",", "\"formatVersion\": 7,"));
        UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class, () -> Recording.open(dir));
        assertTrue(e.tooNew());
        assertEquals(7, e.found());
        assertTrue(e.getMessage().contains("too new") && e.getMessage().contains("meta.json"), e.getMessage());
        MetaFiles.editAndResum(meta, t -> t.replace("\"formatVersion\": 7,", "\"formatVersion\": 0,"));
        UnsupportedFormatException old = assertThrows(UnsupportedFormatException.class, () -> Recording.open(dir));
        assertFalse(old.tooNew());
        assertTrue(old.getMessage().contains("too old"), old.getMessage());
        // a newer layout without this checksum line is still "too new", not damage
        MetaFiles.stripChecksum(meta);
        Files.writeString(meta, Files.readString(meta).replace("\"formatVersion\": 0,", "\"formatVersion\": " + (RecordingFormat.CURRENT_VERSION + 1) + ","));
        assertThrows(UnsupportedFormatException.class, () -> Recording.open(dir));
    }

    @Test
    void aDamagedVersionNumberIsDamageNotANewerFormat(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        write(dir, true);
        Path meta = dir.resolve("meta.json");
        Files.writeString(meta, Files.readString(meta).replace("\"formatVersion\": " + RecordingFormat.CURRENT_VERSION + ",",
                "\"formatVersion\": " + (RecordingFormat.CURRENT_VERSION - 1) + ","));
        CorruptRecordingException e = assertThrows(CorruptRecordingException.class, () -> Recording.open(dir));
        assertTrue(e.getMessage().contains("meta.json") && e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void metadataIsChecksummed(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        write(dir, true);
        Path meta = dir.resolve("meta.json");
        try (Recording r = Recording.open(dir)) {
            assertTrue(r.metadataChecksummed());
        }
        byte[] good = Files.readAllBytes(meta);
        String text = new String(good, java.nio.charset.StandardCharsets.UTF_8);
        // every single-bit flip of an environment value, of the exit status, of the checksum itself is caught
        int value = text.indexOf("\"PATH\": \"") + 9;
        int exit = text.indexOf("\"exitStatus\": ") + 14;
        int sum = text.lastIndexOf("\"sha256\": \"") + 11;
        for (int at : new int[] {value, value + 2, exit, sum, sum + 30}) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] flipped = good.clone();
                flipped[at] ^= (byte) (1 << bit);
                Files.write(meta, flipped);
                int where = at;
                int b = bit;
                RecordingException e = assertThrows(RecordingException.class, () -> Recording.open(dir).close(),
                        "bit " + b + " of byte " + where);
                assertTrue(e.getMessage().contains("meta.json"), e.getMessage());
            }
        }
        // an edit that keeps the JSON valid is damage, not a new exit status
        Files.writeString(meta, text.replace("\"exitStatus\": 0", "\"exitStatus\": 7"));
        CorruptRecordingException e = assertThrows(CorruptRecordingException.class, () -> Recording.open(dir));
        assertTrue(e.getMessage().contains("meta.json") && e.getMessage().contains("does not match its checksum"),
                e.getMessage());
        assertEquals(dir.resolve("meta.json"), e.file());
    }

    @Test
    void metadataWithoutAChecksumIsReadAsAnOlderDejaWroteIt(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            w.append(RandomEvents.getppid(1));
            w.append(new ExitEvent(2, 4242, 4242, 1_700_000_000_000_100_000L, true, 3, 0, false));
            w.finish(new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_001_000_000_000L, 3, 2, 1));
        }
        Path meta = dir.resolve("meta.json");
        MetaFiles.stripChecksum(meta);
        try (Recording r = Recording.open(dir)) {
            assertFalse(r.metadataChecksummed());
            r.verify();
        }
        // nothing vouches for such metadata: verify holds its summary against the journal's record of the exit
        Files.writeString(meta, Files.readString(meta).replace("\"exitStatus\": 3", "\"exitStatus\": 0"));
        try (Recording r = Recording.open(dir)) {
            CorruptRecordingException e = assertThrows(CorruptRecordingException.class, r::verify);
            assertEquals(meta, e.file());
            assertTrue(e.getMessage().contains("exitStatus 0 differs from the program's recorded exit (status 3 at event 2)"),
                    e.getMessage());
        }
    }

    @Test
    void notRecordings(@TempDir Path tmp) throws Exception {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        NotARecordingException e = assertThrows(NotARecordingException.class, () -> Recording.open(empty));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());

        Path other = Files.createDirectory(tmp.resolve("other"));
        Files.writeString(other.resolve("notes.txt"), "hello");
        e = assertThrows(NotARecordingException.class, () -> Recording.open(other));
        assertTrue(e.getMessage().contains("meta.json"), e.getMessage());

        Path json = Files.createDirectory(tmp.resolve("json"));
        Files.writeString(json.resolve("meta.json"), "{\"magic\": \"something-else\"}");
        e = assertThrows(NotARecordingException.class, () -> Recording.open(json));
        assertTrue(e.getMessage().contains("something-else"), e.getMessage());

        assertThrows(NotARecordingException.class, () -> Recording.open(tmp.resolve("missing")));
        assertThrows(NotARecordingException.class, () -> Recording.open(other.resolve("notes.txt")));
    }

    @Test
    void damagedMetadata(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        write(dir, true);
        Path meta = dir.resolve("meta.json");
        String good = Files.readString(meta);
        for (int cut = 1; cut < good.length(); cut += 13) {
            Files.writeString(meta, good.substring(0, cut));
            RecordingException e = assertThrows(RecordingException.class, () -> Recording.open(dir).close(), "cut at " + cut);
            assertTrue(e.getMessage().contains("meta.json") || e instanceof NotARecordingException, e.getMessage());
        }
        // fields of the wrong type, checksummed as if a writer had made them so
        Files.writeString(meta, good);
        MetaFiles.editAndResum(meta, t -> t.replace("\"uid\": 1000", "\"uid\": \"root\""));
        CorruptRecordingException e = assertThrows(CorruptRecordingException.class, () -> Recording.open(dir));
        assertTrue(e.getMessage().contains("\"uid\"") && e.getMessage().contains("integer"), e.getMessage());
        Files.writeString(meta, good);
        MetaFiles.editAndResum(meta, t -> t.replace("\"status\": \"complete\"", "\"status\": \"done\""));
        e = assertThrows(CorruptRecordingException.class, () -> Recording.open(dir));
        assertTrue(e.getMessage().contains("done"), e.getMessage());
        Files.writeString(meta, good);
        MetaFiles.editAndResum(meta, t -> t.replace("\"journalBlockSize\": 67108864", "\"journalBlockSize\": 0"));
        e = assertThrows(CorruptRecordingException.class, () -> Recording.open(dir));
        assertTrue(e.getMessage().contains("journalBlockSize") && e.getMessage().contains("power of two"), e.getMessage());
        Files.write(meta, new byte[0]);
        assertThrows(CorruptRecordingException.class, () -> Recording.open(dir));
    }

    @Test
    void missingJournal(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        write(dir, true);
        deleteTree(dir.resolve("journal"));
        CorruptRecordingException e = assertThrows(CorruptRecordingException.class, () -> Recording.open(dir));
        assertTrue(e.getMessage().contains("journal"), e.getMessage());
    }

    /** Copies a recording, keeping only the first {@code queueBytes} bytes of its queue file. */
    static void copyTree(Path from, Path to, long queueBytes) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else if (p.toString().endsWith(".cq4")) {
                    try (FileChannel in = FileChannel.open(p); FileChannel out = FileChannel.open(t,
                            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        long done = 0;
                        while (done < queueBytes) done += in.transferTo(done, queueBytes - done, out);
                    }
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
