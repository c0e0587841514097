package dev.deja.formats.pack;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.EventReader;
import dev.deja.formats.NotARecordingException;
import dev.deja.formats.RecordingFormat;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import dev.deja.formats.ScratchDirs;
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
        // a header version damaged in transit, before an intact manifest of version 1, is damage, not a newer pack
        CorruptRecordingException d = refusedCorrupt(rewritten(3, "\"packFormatVersion\": 1", "\"packFormatVersion\": 1"));
        assertTrue(d.getMessage().contains("the pack header says format version 3 but its intact manifest says 1"),
                d.getMessage());
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

    /** As {@link #rewritten}, replacing a regular expression of the manifest. */
    private Path rewrittenRegex(String regex, String replacement) throws Exception {
        byte[] all = Files.readAllBytes(pack);
        int mlen = ByteBuffer.wrap(all).getInt(PackFormat.MAGIC.length + 4);
        String json = new String(all, PackFormat.PREFIX_SIZE, mlen, StandardCharsets.UTF_8);
        String changed = json.replaceFirst(regex, replacement);
        assertNotEquals(json, changed, regex);
        return rewritten(1, json, changed);
    }

    @Test
    void sizesTheFileCannotHoldAreRefusedBeforeAnythingIsRead() throws Exception {
        // a claimed 2^62-byte file of holes used to be hashed as zeros for ever; 16 GiB took 18 s
        for (String size : new String[]{"4611686018427387904", Long.toString(16L << 30)}) {
            long t0 = System.nanoTime();
            CorruptRecordingException e = assertThrows(CorruptRecordingException.class, () -> PackReader.open(
                    rewrittenRegex("(\"name\": \"journal/metadata.cq4t\", \"size\": )\\d+", "$1" + size)).close());
            assertTrue(e.getMessage().contains("(journal/metadata.cq4t) claims a " + size + "-byte file")
                    && e.getMessage().contains("more holes than a pack of"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "refused at once");
            refusedCorrupt(rewrittenRegex("(\"name\": \"journal/metadata.cq4t\", \"size\": )\\d+", "$1" + size));
        }
        // stored bytes whose chunks cannot fit in the rest of the file
        CorruptRecordingException e = refusedCorrupt(rewrittenRegex(
                "(\"name\": \"journal/metadata.cq4t\", \"size\": )\\d+(, \"stored\": )\\d+",
                "$14611686018427387904$24611686018427387904"));
        assertTrue(e.getMessage().contains("entry ") && e.getMessage().contains("(journal/metadata.cq4t)")
                && e.getMessage().contains("claims more than the pack holds"), e.getMessage());
        // the summary's bytes must be what the entries store
        e = refusedCorrupt(rewrittenRegex("(\"bytes\": )\\d+", "$1" + 1));
        assertTrue(e.getMessage().contains("the summary's bytes (1) differ"), e.getMessage());
    }

    @Test
    void aThreeKilobytePackClaimingAnExabyteIsRefusedAtOnce() throws Exception {
        // the attack of issue 16: a manifest, one entry of 2^62 bytes and no data at all
        String manifest = new String(Files.readAllBytes(pack), StandardCharsets.UTF_8);
        PackManifest m;
        try (PackReader r = PackReader.open(pack)) {
            m = r.manifest();
        }
        PackEntry meta = m.entries().getFirst();
        PackManifest forged = new PackManifest(1, m.recording(), List.of(new PackEntry(meta.name(), 1L << 62, 0,
                meta.sha256())));
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            PackWriter.writeHeader(out, forged);
        }
        Path small = Files.write(tmp.resolve("small.deja"), bytes.toByteArray());
        assertTrue(Files.size(small) < 4096 && !manifest.isEmpty());
        long t0 = System.nanoTime();
        CorruptRecordingException e = refusedCorrupt(small);
        assertTrue(e.getMessage().contains("claims a 4611686018427387904-byte file"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
    }

    @Test
    void aSummaryThatDescribesAnotherRecordingIsRefused() throws Exception {
        int version = RecordingFormat.CURRENT_VERSION;
        String[][] cases = {
                {"\"command\": [\"/bin/prog\", \"arg\"]", "\"command\": [\"/bin/other\"]", "command: the summary says [\"/bin/other\"], the recording [\"/bin/prog\", \"arg\"]"},
                {"\"events\": 40", "\"events\": 1", "events: the summary says 1, the recording 40"},
                {"\"formatVersion\": " + version, "\"formatVersion\": " + (version - 1),
                        "formatVersion: the summary says " + (version - 1) + ", the recording " + version},
                {"\"exitStatus\": 3", "\"exitStatus\": 0", "exitStatus: the summary says 0, the recording 3"},
        };
        for (String[] c : cases) {
            Path forged = rewritten(1, c[0], c[1]);
            try (PackReader r = PackReader.open(forged)) {
                assertEquals(List.of("/bin/prog", "arg").equals(r.manifest().recording().command()), !c[0].contains("command"));
            }
            CorruptRecordingException e = refusedCorrupt(forged);
            assertTrue(e.getMessage().contains("does not match the meta.json it carries") && e.getMessage().contains(c[2])
                    && e.getMessage().contains("forged"), c[1] + ": " + e.getMessage());
        }
    }

    @Test
    void aRecordingWhoseMetadataWasEditedIsNotPacked() throws Exception {
        Path edited = tmp.resolve("edited");
        Packs.unpack(pack, edited);
        Path meta = edited.resolve("meta.json");
        Files.writeString(meta, Files.readString(meta).replace("\"exitStatus\": 3", "\"exitStatus\": 0"));
        CorruptRecordingException e = assertThrows(CorruptRecordingException.class,
                () -> PackWriter.pack(edited, tmp.resolve("forged.deja"), false));
        assertTrue(e.getMessage().contains("meta.json") && e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void packsAndUnpackedRecordingsArePrivate() throws Exception {
        assertEquals("rw-------", perms(pack));
        Path out = tmp.resolve("private");
        Packs.unpack(pack, out);
        try (Stream<Path> s = Files.walk(out)) {
            for (Path p : s.toList()) assertEquals(Files.isDirectory(p) ? "rwx------" : "rw-------", perms(p), p.toString());
        }
    }

    private static String perms(Path p) throws IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void leftoversOfAKilledUnpackAreRemovedByTheNextButThoseOfARunningOneStay() throws Exception {
        Path area = Files.createDirectories(tmp.resolve("area"));
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long goneStart = gone.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(1L);
        Process running = new ProcessBuilder("sleep", "60").start();
        try {
            long runningStart = running.info().startInstant().orElseThrow().toEpochMilli();
            String uuid = "0123abcd-0000-4000-8000-00000000abcd";
            Path dead = Files.createDirectories(area.resolve(".rec.unpack-" + gone.pid() + "-" + goneStart + "-" + uuid));
            Files.writeString(dead.resolve("meta.json"), "partial");
            Path alive = Files.createDirectories(area.resolve(".rec.unpack-" + running.pid() + "-" + runningStart + "-" + uuid));
            Path reused = Files.createDirectories(area.resolve(".rec.unpack-" + running.pid() + "-" + (runningStart - 5000)
                    + "-" + uuid));
            Path mine = Files.createDirectories(area.resolve(".rec.unpack-" + ScratchDirs.owner() + uuid));
            Path other = Files.createDirectories(area.resolve(".notes"));
            Path out = area.resolve("rec");
            Packs.unpack(pack, out);
            assertFalse(Files.exists(dead), "a SIGKILLed unpack's directory is removed");
            assertFalse(Files.exists(reused), "a pid now used by another process is not its owner");
            assertTrue(Files.exists(alive) && Files.exists(mine) && Files.exists(other), listing(area).toString());

            Path tmpRoot = Path.of(System.getProperty("java.io.tmpdir"));
            Path deadTemp = Files.createDirectories(tmpRoot.resolve(UnpackScratch.TEMP_PREFIX + gone.pid() + "-" + goneStart
                    + "-42"));
            Path unpacked = Packs.unpackToTemp(pack);
            try {
                assertFalse(Files.exists(deadTemp));
                assertTrue(unpacked.getFileName().toString().startsWith(UnpackScratch.TEMP_PREFIX + ScratchDirs.owner()));
            } finally {
                Recording.deleteTree(unpacked);
                Recording.deleteTree(deadTemp);
            }
        } finally {
            running.destroyForcibly();
            running.waitFor();
        }
    }

    @Test
    void aStoppedUnpackWritesNothingMoreAndLeavesNothing() throws Exception {
        Path dir = tmp.resolve(".x.unpack-" + ScratchDirs.owner() + "0123abcd-0000-4000-8000-00000000abcd");
        try (UnpackScratch scratch = UnpackScratch.create(dir)) {
            assertEquals("rwx------", perms(dir));
            scratch.write(dir.resolve("a"), () -> Files.writeString(dir.resolve("a"), "written"));
            scratch.abandon();   // what SIGINT or SIGTERM runs
            assertFalse(Files.exists(dir));
            RecordingException e = assertThrows(RecordingException.class,
                    () -> scratch.write(dir.resolve("b"), () -> Files.createDirectories(dir)));
            assertTrue(e.getMessage().contains("deja was stopped while unpacking"), e.getMessage());
            assertFalse(Files.exists(dir));
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
