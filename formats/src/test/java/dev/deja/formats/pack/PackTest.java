package dev.deja.formats.pack;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.EventReader;
import dev.deja.formats.NotARecordingException;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.*;

/** Packs of a real (written by RecordingWriter) recording: round trip, determinism, and every kind of damage. */
class PackTest {

    static final int EVENTS = 40;

    @TempDir
    Path tmp;
    Path rec;
    Path pack;

    /** 40 events, every tenth with 150 KiB of random bytes, the rest a short text; two blobs (one of three chunks). */
    static List<Event> writeRecording(Path dir, boolean finish) throws RecordingException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("USER", "alice");
        env.put("PATH", "/usr/bin:/bin");
        RecordingHeader h = RecordingHeader.forCommand(List.of("/bin/prog", "arg"), env, "/home/alice", 1000, 1000,
                "6.8.0-test", "x86_64", "host1", 1_700_000_000_000_000_000L);
        Random rnd = new Random(7);
        List<Event> events = new ArrayList<>();
        try (RecordingWriter w = RecordingWriter.create(dir, h)) {
            byte[] big = new byte[150 * 1024];
            rnd.nextBytes(big);
            w.storeBlob(big);
            w.storeBlob("a small blob\n".getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < EVENTS; i++) {
                byte[] data = i % 10 == 0 ? new byte[150 * 1024] : ("line " + i + "\n").getBytes(StandardCharsets.UTF_8);
                if (i % 10 == 0) rnd.nextBytes(data);
                Event e = new SyscallEvent(i + 1, 100, 100, 1000L * i, 1000L * i + 5, 0,
                        new long[]{3, 0x7ffd_1234_0000L, data.length, 0, 0, 0}, List.of(), data.length,
                        List.of(new MemoryBlock(1, 0x7ffd_1234_0000L, data)), 0);
                events.add(e);
                w.append(e);
            }
            if (finish) w.finish(new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_001_000_000_000L, 3, EVENTS, 1));
        }
        return events;
    }

    @BeforeEach
    void setUp() throws Exception {
        rec = tmp.resolve("rec");
        writeRecording(rec, true);
        pack = tmp.resolve("rec.deja");
        PackWriter.pack(rec, pack, false);
    }

    static Map<String, String> hashes(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                MessageDigest md = PackWriter.sha256();
                md.update(Files.readAllBytes(p));
                out.put(dir.relativize(p).toString(), HexFormat.of().formatHex(md.digest()));
            }
        }
        return out;
    }

    static List<Event> events(Path dir) throws RecordingException {
        List<Event> out = new ArrayList<>();
        try (Recording r = Recording.open(dir); EventReader er = r.events()) {
            for (Event e; (e = er.next()) != null; ) out.add(e);
        }
        return out;
    }

    @Test
    void unpackRestoresEveryFileByteForByteAndTheEvents() throws Exception {
        Path out = tmp.resolve("out");
        PackManifest m = Packs.unpack(pack, out);
        assertEquals(hashes(rec), hashes(out));
        assertEquals(events(rec).toString(), events(out).toString());
        assertEquals(Files.size(rec.resolve("journal").resolve(queueName(rec))),
                Files.size(out.resolve("journal").resolve(queueName(rec))));
        assertEquals("meta.json", m.entries().getFirst().name());
        assertTrue(m.entries().stream().anyMatch(e -> e.name().startsWith("blobs/") && e.size() > PackFormat.CHUNK_SIZE),
                "a multi-chunk blob: " + m.entries());
        assertEquals(EVENTS, m.recording().events());
        assertEquals("alice", m.recording().user());
        assertEquals(3, m.recording().exitStatus());
        // the sparse journal is carried by its used part only
        assertTrue(Files.size(pack) < 2_000_000, "pack size " + Files.size(pack));
    }

    static String queueName(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("journal"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cq4")).findFirst().orElseThrow();
        }
    }

    @Test
    void packingTwiceGivesTheSameBytesAndReadingDoesNotChangeThem() throws Exception {
        events(rec);   // a read through Chronicle between the two packs
        Path again = tmp.resolve("again.deja");
        PackWriter.pack(rec, again, false);
        assertArrayEquals(Files.readAllBytes(pack), Files.readAllBytes(again));
    }

    @Test
    void anExistingTargetIsKeptUnlessReplaceIsAsked() throws Exception {
        RecordingException e = assertThrows(RecordingException.class, () -> PackWriter.pack(rec, pack, false));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        PackWriter.pack(rec, pack, true);
        assertEquals(List.of("rec", "rec.deja"), listing(tmp));
    }

    @Test
    void aFailedPackLeavesNothingBehind() throws Exception {
        Path notRec = Files.createDirectories(tmp.resolve("plain"));
        Files.writeString(notRec.resolve("x"), "x");
        Path target = Files.createDirectories(tmp.resolve("target")).resolve("x.deja");
        assertThrows(NotARecordingException.class, () -> PackWriter.pack(notRec, target, false));
        // a damaged recording is refused too, before anything is written
        Path damaged = tmp.resolve("damaged");
        writeRecording(damaged, true);
        Path blob;
        try (Stream<Path> s = Files.walk(damaged.resolve("blobs"))) {
            blob = s.filter(p -> Files.isRegularFile(p) && !p.getFileName().toString().equals("index")).findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(blob);
        b[10] ^= 1;
        Files.write(blob, b);
        CorruptRecordingException e = assertThrows(CorruptRecordingException.class, () -> PackWriter.pack(damaged, target, false));
        assertTrue(e.getMessage().contains("does not match its hash"), e.getMessage());
        assertEquals(List.of(), listing(target.getParent()));
    }

    @Test
    void anIncompleteRecordingPacksWithItsStatusAndTheEventsItKept() throws Exception {
        Path inc = tmp.resolve("inc");
        writeRecording(inc, false);
        Path p = tmp.resolve("inc.deja");
        PackManifest m = PackWriter.pack(inc, p, false);
        assertEquals(RecordingStatus.INCOMPLETE, m.recording().status());
        assertEquals(EVENTS, m.recording().events());
        assertEquals(-1, m.recording().exitStatus());
        Path out = tmp.resolve("inc-out");
        Packs.unpack(p, out);
        try (Recording r = Recording.open(out)) {
            assertEquals(RecordingStatus.INCOMPLETE, r.status());
        }
        assertEquals(events(inc).toString(), events(out).toString());
    }

    @Test
    void unpackRefusesANonEmptyDirectoryAndAcceptsAnEmptyOne() throws Exception {
        Path full = Files.createDirectories(tmp.resolve("full"));
        Files.writeString(full.resolve("keep"), "mine");
        RecordingException e = assertThrows(RecordingException.class, () -> Packs.unpack(pack, full));
        assertTrue(e.getMessage().contains("not an empty directory"), e.getMessage());
        assertEquals(List.of("keep"), listing(full));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Packs.unpack(pack, empty);
        assertEquals(hashes(rec), hashes(empty));
    }

    @Test
    void unpackToTempGivesAPrivateDirectory() throws Exception {
        Path dir = Packs.unpackToTemp(pack);
        try {
            assertEquals(hashes(rec), hashes(dir));
            assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        } finally {
            Recording.deleteTree(dir);
        }
        assertFalse(Files.exists(dir));
    }

    // ---- damage

    /** Where each entry's data starts in the pack, and where each of its chunks starts (walked from the layout). */
    record Layout(long dataStart, List<Long> entryStarts, List<Long> chunkStarts, long end) {
    }

    static Layout layout(Path pack) throws Exception {
        byte[] all = Files.readAllBytes(pack);
        ByteBuffer b = ByteBuffer.wrap(all);
        b.position(PackFormat.MAGIC.length + 4);
        int mlen = b.getInt();
        PackManifest m;
        try (PackReader r = PackReader.open(pack)) {
            m = r.manifest();
        }
        long pos = PackFormat.PREFIX_SIZE + mlen + 4L;
        long dataStart = pos;
        List<Long> entries = new ArrayList<>();
        List<Long> chunks = new ArrayList<>();
        for (PackEntry e : m.entries()) {
            entries.add(pos);
            long done = 0;
            while (done < e.stored()) {
                chunks.add(pos);
                b.position((int) pos + 8);
                int raw = b.getInt();
                int stored = b.getInt();
                pos += PackFormat.CHUNK_HEADER_SIZE + stored;
                done += raw;
            }
        }
        assertEquals(all.length, pos);
        return new Layout(dataStart, entries, chunks, pos);
    }

    /** Checking and unpacking the damaged pack both fail with the expected exception; nothing is left. */
    private <T extends RecordingException> T refused(Path damaged, Class<T> type) throws Exception {
        T e = assertThrows(type, () -> {
            try (PackReader r = PackReader.open(damaged)) {
                r.check();
            }
        });
        Path target = tmp.resolve("unpacked");
        assertThrows(type, () -> Packs.unpack(damaged, target));
        assertFalse(Files.exists(target), "no partial unpack directory");
        assertTrue(listing(tmp).stream().noneMatch(n -> n.startsWith(".")), "no hidden temp directory: " + listing(tmp));
        return e;
    }

    private Path truncatedCopy(long length) throws IOException {
        Path p = tmp.resolve("cut.deja");
        byte[] all = Files.readAllBytes(pack);
        Files.write(p, java.util.Arrays.copyOf(all, (int) length));
        return p;
    }

    @Test
    void aTruncatedPackIsRefusedAtEveryEntryAndChunkBoundaryAndAtManyOffsets() throws Exception {
        Layout l = layout(pack);
        TreeSet<Long> cuts = new TreeSet<>();
        for (long i = 1; i < l.dataStart() + 3; i++) cuts.add(i);   // every offset of the header and manifest
        cuts.addAll(l.entryStarts());
        cuts.addAll(l.chunkStarts());
        for (long c : l.chunkStarts()) {
            cuts.add(c + 1);
            cuts.add(c + PackFormat.CHUNK_HEADER_SIZE);
            cuts.add(c + PackFormat.CHUNK_HEADER_SIZE + 1);
        }
        Random rnd = new Random(11);
        for (int i = 0; i < 150; i++) cuts.add(l.dataStart() + (long) (rnd.nextDouble() * (l.end() - l.dataStart())));
        cuts.add(l.end() - 1);
        cuts.remove(l.end());
        int manifestCuts = 0;
        for (long cut : cuts) {
            Path p = truncatedCopy(cut);
            CorruptRecordingException e = refusedCorrupt(p);
            assertTrue(e.getMessage().contains("truncated"), cut + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("offset " + cut), cut + ": " + e.getMessage());
            if (cut >= l.dataStart()) {
                assertTrue(e.getMessage().matches("(?s).*entry \\d+ of \\d+ \\([A-Za-z0-9./]+\\).*"), cut + ": " + e.getMessage());
            } else {
                manifestCuts++;
            }
        }
        assertTrue(manifestCuts > 100);
    }

    private CorruptRecordingException refusedCorrupt(Path p) throws Exception {
        return refused(p, CorruptRecordingException.class);
    }

    private Path flippedCopy(long offset) throws IOException {
        Path p = tmp.resolve("flip.deja");
        byte[] all = Files.readAllBytes(pack);
        all[(int) offset] ^= 0x20;
        Files.write(p, all);
        return p;
    }

    @Test
    void aFlippedByteInEveryEntryChunkAndInTheManifestIsRefusedNamingTheEntry() throws Exception {
        Layout l = layout(pack);
        PackManifest m;
        try (PackReader r = PackReader.open(pack)) {
            m = r.manifest();
        }
        // in the manifest: its start, middle and end, and its checksum
        for (long at : new long[]{PackFormat.PREFIX_SIZE, (PackFormat.PREFIX_SIZE + l.dataStart()) / 2, l.dataStart() - 5,
                l.dataStart() - 1}) {
            CorruptRecordingException e = refusedCorrupt(flippedCopy(at));
            assertTrue(e.getMessage().contains("manifest"), at + ": " + e.getMessage());
        }
        // in every chunk: each header field and the first, middle and last data byte
        int entry = 0;
        for (int c = 0; c < l.chunkStarts().size(); c++) {
            long start = l.chunkStarts().get(c);
            long next = c + 1 < l.chunkStarts().size() ? l.chunkStarts().get(c + 1) : l.end();
            while (entry + 1 < l.entryStarts().size() && l.entryStarts().get(entry + 1) <= start) entry++;
            String name = m.entries().get(entry).name();
            for (long at : new long[]{start + 7, start + 11, start + 15, start + 19, start + PackFormat.CHUNK_HEADER_SIZE,
                    (start + PackFormat.CHUNK_HEADER_SIZE + next) / 2, next - 1}) {
                CorruptRecordingException e = refusedCorrupt(flippedCopy(at));
                assertTrue(e.getMessage().contains("(" + name + ")"), at + " in " + name + ": " + e.getMessage());
                assertTrue(e.getMessage().contains("offset "), e.getMessage());
            }
        }
    }

    /** The pack with its header version and manifest replaced (and the manifest's CRC made to match). */
    private Path rewritten(int version, String fromJson, String toJson) throws Exception {
        byte[] all = Files.readAllBytes(pack);
        ByteBuffer b = ByteBuffer.wrap(all);
        b.position(PackFormat.MAGIC.length + 4);
        int mlen = b.getInt();
        String json = new String(all, PackFormat.PREFIX_SIZE, mlen, StandardCharsets.UTF_8).replace(fromJson, toJson);
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(all.length - mlen + j.length);
        out.put(PackFormat.MAGIC).putInt(version).putInt(j.length).put(j);
        CRC32C crc = new CRC32C();
        crc.update(j);
        out.putInt((int) crc.getValue());
        out.put(all, PackFormat.PREFIX_SIZE + mlen + 4, all.length - PackFormat.PREFIX_SIZE - mlen - 4);
        Path p = tmp.resolve("rewritten.deja");
        Files.write(p, out.array());
        return p;
    }

    @Test
    void aPackFromANewerVersionIsRefusedAsTooNew() throws Exception {
        Path p = rewritten(2, "\"packFormatVersion\": 1", "\"packFormatVersion\": 2");
        PackVersionException e = refused(p, PackVersionException.class);
        assertTrue(e.getMessage().contains("pack format version 2 is too new"), e.getMessage());
        assertTrue(e.getMessage().contains("upgrade deja"), e.getMessage());
        // the rewriting itself keeps a good pack good
        Path same = rewritten(1, "\"packFormatVersion\": 1", "\"packFormatVersion\": 1");
        try (PackReader r = PackReader.open(same)) {
            r.check();
        }
    }

    @Test
    void aManifestNamingAPathOutsideTheRecordingIsRefused() throws Exception {
        Path p = rewritten(1, "\"name\": \"journal/metadata.cq4t\"", "\"name\": \"../escaped\"");
        CorruptRecordingException e = refusedCorrupt(p);
        assertTrue(e.getMessage().contains("not a plain relative path"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("escaped")));
    }

    @Test
    void aManifestThatContradictsItselfOrTheHeaderIsRefusedNamingTheField() throws Exception {
        String[][] cases = {
                {"\"packFormatVersion\": 1", "\"packFormatVersion\": 2", "differs from the version 1 in the pack header"},
                {"\"events\": ", "\"evens\": ", "missing field \"recording.events\""},
                {"\"status\": \"complete\"", "\"status\": \"done\"", "expected incomplete, complete or interrupted"},
                {"\"uid\": 1000", "\"uid\": \"1000\"", "field \"recording.uid\": expected an integer"},
                {"\"name\": \"meta.json\"", "\"name\": \"meta2.json\"", "the first entry must be meta.json"},
                {"\"name\": \"journal/metadata.cq4t\"", "\"name\": \"meta.json\"", "is listed twice"},
                {"\"name\": \"journal/metadata.cq4t\"", "\"name\": \"journal/.hidden\"", "not a plain relative path"},
                {"\"entries\": [", "\"entries\": [,", "does not parse"},
        };
        for (String[] c : cases) {
            CorruptRecordingException e = refusedCorrupt(rewritten(1, c[0], c[1]));
            assertTrue(e.getMessage().contains(c[2]), c[1] + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("offset " + PackFormat.PREFIX_SIZE), e.getMessage());
        }
    }

    @Test
    void anEmptyFileATextFileAndAnExecutableAreNotRecordings() throws Exception {
        Path empty = Files.createFile(tmp.resolve("empty.deja"));
        NotARecordingException e = refused(empty, NotARecordingException.class);
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        Path text = Files.writeString(tmp.resolve("notes.txt"), "just some notes\n");
        e = refused(text, NotARecordingException.class);
        assertTrue(e.getMessage().contains("starts with 6a 75 73 74"), e.getMessage());
        assertTrue(e.getMessage().contains("text"), e.getMessage());
        e = refused(Path.of("/bin/true"), NotARecordingException.class);
        assertTrue(e.getMessage().contains("ELF"), e.getMessage());
        assertFalse(PackReader.isPack(text));
        assertTrue(PackReader.isPack(pack));
    }

    @Test
    void bytesAfterTheLastEntryAreRefused() throws Exception {
        Path p = tmp.resolve("long.deja");
        Files.write(p, Files.readAllBytes(pack));
        Files.write(p, new byte[]{1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
        CorruptRecordingException e = refusedCorrupt(p);
        assertTrue(e.getMessage().contains("3 unexpected bytes after the last entry"), e.getMessage());
    }

    @Test
    void theManifestRoundTripsThroughItsJson() throws Exception {
        try (PackReader r = PackReader.open(pack)) {
            PackManifest m = r.manifest();
            byte[] json = m.toJson().getBytes(StandardCharsets.UTF_8);
            assertEquals(m, PackManifest.parse(pack, 0, json, 1));
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
