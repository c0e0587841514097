package dev.deja.cli;

import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.*;

/** {@code deja pack}, {@code unpack}, and the commands that read a pack, end to end through the launcher. */
class PackIT {

    @TempDir
    Path home;
    Path rec;
    Runs.Result recorded;

    @BeforeEach
    void record() throws Exception {
        Path in = home.resolve("input.txt");
        Files.writeString(in, "first line\nsecond line\n");
        rec = home.resolve("rec");
        recorded = Runs.deja(home, "record", "-q", "-o", rec.toString(), "--", Samples.path("inputs"), in.toString());
        assertEquals(3, recorded.status(), recorded.stderr());
    }

    private static Set<String> unpackedTempDirs() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("deja-unpacked-")).collect(Collectors.toSet());
        }
    }

    @Test
    void packedRecordingReplaysDumpsAndDescribesItselfAndUnpacksToTheSameRecording() throws Exception {
        Set<String> before = unpackedTempDirs();
        Path pack = home.resolve("rec.deja");
        Runs.Result p = Runs.deja(home, "pack", rec.toString(), "-o", pack.toString());
        assertEquals(0, p.status(), p.stderr());
        assertTrue(p.stderr().startsWith("deja: packed " + rec + " into " + pack), p.stderr());
        Runs.Result again = Runs.deja(home, "pack", "-q", rec.toString(), "-o", home.resolve("again.deja").toString());
        assertEquals(0, again.status(), again.stderr());
        assertArrayEquals(Files.readAllBytes(pack), Files.readAllBytes(home.resolve("again.deja")), "packing is deterministic");

        Runs.Result replay = Runs.deja(home, "replay", pack.toString());
        assertEquals(3, replay.status(), replay.stderr());
        assertEquals(recorded.stdout(), replay.stdout());
        assertEquals(Runs.deja(home, "dump", rec.toString()).stdout(), Runs.deja(home, "dump", pack.toString()).stdout());

        Runs.Result info = Runs.deja(home, "info", pack.toString());
        assertEquals(0, info.status(), info.stderr());
        String out = info.stdout();
        assertTrue(out.startsWith("recording: " + pack + " (packed, pack format version 1)"), out);
        assertTrue(out.contains("status:    complete"), out);
        assertTrue(out.contains("recorded on: " + Host.hostname() + ", Linux " + Host.kernelRelease()), out);
        assertTrue(out.contains("cwd:       "), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("events: +\\d+")), out);
        assertTrue(out.contains("packed: ") && out.contains(Files.size(pack) + " bytes"), out);
        assertTrue(out.contains("checksums: not checked"), out);
        assertTrue(out.contains("replayable here: yes"), out);
        Runs.Result checked = Runs.deja(home, "info", "--check", pack.toString());
        assertTrue(checked.stdout().contains("checksums: all verified"), checked.stdout() + checked.stderr());
        Runs.Result dirInfo = Runs.deja(home, "info", rec.toString());
        assertTrue(dirInfo.stdout().contains("replayable here: yes"), dirInfo.stdout());

        Path unpacked = home.resolve("unpacked");
        Runs.Result u = Runs.deja(home, "unpack", pack.toString(), "-o", unpacked.toString());
        assertEquals(0, u.status(), u.stderr());
        assertEquals(Runs.events(rec).toString(), Runs.events(unpacked).toString());
        Runs.Result fromDir = Runs.deja(home, "replay", unpacked.toString());
        assertEquals(3, fromDir.status(), fromDir.stderr());
        assertEquals(recorded.stdout(), fromDir.stdout());
        assertEquals(before, unpackedTempDirs(), "every command removed its unpacked copy");
    }

    @Test
    void packAndUnpackKeepWhatIsThere() throws Exception {
        Path pack = home.resolve("rec.deja");
        Files.writeString(pack, "precious");
        Runs.Result p = Runs.deja(home, "pack", rec.toString(), "-o", pack.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, p.status());
        assertTrue(p.stderr().contains("already exists"), p.stderr());
        assertEquals("precious", Files.readString(pack));
        assertEquals(0, Runs.deja(home, "pack", "-q", "--force", rec.toString(), "-o", pack.toString()).status());
        Path full = Files.createDirectories(home.resolve("full"));
        Files.writeString(full.resolve("mine"), "x");
        Runs.Result u = Runs.deja(home, "unpack", pack.toString(), "-o", full.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, u.status());
        assertTrue(u.stderr().contains("not an empty directory"), u.stderr());
        try (Stream<Path> s = Files.list(full)) {
            assertEquals(List.of(full.resolve("mine")), s.toList());
        }
        Runs.Result packAPack = Runs.deja(home, "pack", pack.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, packAPack.status());
        assertTrue(packAPack.stderr().contains("is a file, not a recording directory"), packAPack.stderr());
    }

    /** A test trace that worked is remembered in deja's home, privately, for the conditions it ran under. */
    @Test
    void infoRemembersATraceThatWorkedForItsConditions() throws Exception {
        Path memo = home.resolve(TraceProbe.MEMO);
        Files.deleteIfExists(memo);
        assertTrue(Runs.deja(home, "info", rec.toString()).stdout().contains("replayable here: yes"));
        String conditions = Files.readString(memo);
        assertTrue(conditions.startsWith("boot ") && conditions.contains("\nSeccomp:") && conditions.contains("\nns user:"),
                conditions);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(memo)));
        // Other conditions (another boot): traced again, and the conditions of this one remembered.
        Files.writeString(memo, conditions.replaceFirst("boot \\S+", "boot another"));
        assertTrue(Runs.deja(home, "info", rec.toString()).stdout().contains("replayable here: yes"));
        assertEquals(conditions, Files.readString(memo));
    }

    @Test
    void infoTriesATraceAndSaysNoWhenPtraceIsTaken() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/strace")), "needs strace");
        Path pack = home.resolve("rec.deja");
        assertEquals(0, Runs.deja(home, "pack", "-q", rec.toString(), "-o", pack.toString()).status());
        // A trace that worked, remembered, is not what a traced deja goes by.
        assertTrue(Runs.deja(home, "info", pack.toString()).stdout().contains("replayable here: yes"));
        assertTrue(Files.exists(home.resolve(TraceProbe.MEMO)));
        // Under strace -f, deja's test trace cannot seize /bin/true: the kernel allows one tracer.
        Runs.Result r = Runs.run(home, List.of("strace", "-f", "-o", "/dev/null", Runs.launcher().toString(), "info",
                pack.toString()));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stdout().contains("replayable here: no: a test trace of /bin/true failed: cannot trace the program"),
                r.stdout());
    }

    /** Every command refuses the file with status 125 and one line naming the problem; nothing is written. */
    private void refusedEverywhere(Path bad, String expected) throws Exception {
        Set<String> before = unpackedTempDirs();
        Path target = home.resolve("out");
        // dump and debug open a recording the way replay does (RecordingArg)
        List<List<String>> commands = List.of(List.of("replay", bad.toString()), List.of("info", "--check", bad.toString()),
                List.of("unpack", bad.toString(), "-o", target.toString()));
        for (List<String> cmd : commands) {
            Runs.Result r = Runs.deja(home, cmd.toArray(String[]::new));
            assertEquals(ExitCodes.DEJA_FAILURE, r.status(), cmd + ": " + r.stdout() + r.stderr());
            assertTrue(r.stderr().startsWith("deja: "), cmd + ": " + r.stderr());
            assertEquals(1, r.stderr().lines().count(), cmd + ": one line: " + r.stderr());
            assertTrue(r.stderr().contains(expected), cmd + ": expected '" + expected + "' in " + r.stderr());
            assertFalse(Files.exists(target), cmd + ": no partial unpack");
        }
        try (Stream<Path> s = Files.list(home)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no hidden temp files in " + home);
        }
        assertEquals(before, unpackedTempDirs(), "no unpacked copy left behind");
    }

    private Path damaged(String name, byte[] content) throws IOException {
        return Files.write(home.resolve(name), content);
    }

    /** The pack with {@code from} replaced by {@code to} in its manifest, the manifest's CRC32C made to match. */
    private static byte[] withManifest(byte[] pack, int manifestLength, String from, String to) {
        String json = new String(pack, 16, manifestLength, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(json.contains(from), json);
        byte[] j = json.replace(from, to).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(j);
        ByteBuffer out = ByteBuffer.allocate(pack.length - manifestLength + j.length);
        out.put(pack, 0, 12).putInt(j.length).put(j).putInt((int) crc.getValue());
        out.put(pack, 16 + manifestLength + 4, pack.length - 16 - manifestLength - 4);
        return out.array();
    }

    @Test
    void damagedAndForeignFilesAreRefusedWithTheProblemAndWhere() throws Exception {
        Path pack = home.resolve("rec.deja");
        assertEquals(0, Runs.deja(home, "pack", "-q", rec.toString(), "-o", pack.toString()).status());
        byte[] good = Files.readAllBytes(pack);
        int manifestLength = ByteBuffer.wrap(good, 12, 4).getInt();
        int dataStart = 16 + manifestLength + 4;

        refusedEverywhere(damaged("cut-manifest.deja", Arrays.copyOf(good, 100)), "truncated: it ends at offset 100");
        refusedEverywhere(damaged("cut-entry.deja", Arrays.copyOf(good, dataStart)),
                "before the rest of entry 0 of");
        refusedEverywhere(damaged("cut-chunk.deja", Arrays.copyOf(good, good.length - 10)), "inside a chunk of entry");
        byte[] flipped = good.clone();
        flipped[40] ^= 0x01;
        refusedEverywhere(damaged("flip-manifest.deja", flipped), "the manifest (" + manifestLength + " bytes) does not match its CRC32C");
        flipped = good.clone();
        flipped[dataStart + 20 + 5] ^= 0x01;   // the first data byte of meta.json's chunk
        refusedEverywhere(damaged("flip-data.deja", flipped), "entry 0 of");
        // a newer pack says so in its header and its manifest; a header alone that says so was damaged
        byte[] newer = withManifest(good, manifestLength, "\"packFormatVersion\": 1", "\"packFormatVersion\": 2");
        newer[11] = 2;
        refusedEverywhere(damaged("newer.deja", newer), "pack format version 2 is too new for this deja");
        byte[] damagedHeader = good.clone();
        damagedHeader[11] = 2;
        refusedEverywhere(damaged("damaged-header.deja", damagedHeader),
                "the pack header says format version 2 but its intact manifest says 1: the header is damaged");
        refusedEverywhere(damaged("empty.deja", new byte[0]), "the file is empty");
        refusedEverywhere(damaged("notes.txt", "a bug report\n".getBytes()), "neither a recording directory nor a packed recording");
        refusedEverywhere(Path.of("/bin/true"), "an ELF executable");
    }

    @Test
    void aRecordingWhoseRecorderWasKilledPacksAndReplaysMarkedIncomplete() throws Exception {
        Path killed = home.resolve("killed");
        Path out = home.resolve("killed.out");
        Process p = Runs.startSleeper(home, killed, out);
        assertEquals(0, Runs.nativeRun("kill", "-KILL", Long.toString(p.pid())).status());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));

        Path pack = home.resolve("killed.deja");
        Runs.Result packed = Runs.deja(home, "pack", killed.toString(), "-o", pack.toString());
        assertEquals(0, packed.status(), packed.stderr());
        assertTrue(packed.stderr().contains("incomplete"), packed.stderr());
        Runs.Result info = Runs.deja(home, "info", pack.toString());
        assertTrue(info.stdout().contains("status:    incomplete"), info.stdout());
        assertTrue(info.stdout().contains("(kept before the recording stopped)"), info.stdout());

        Runs.Result fromDir = Runs.deja(home, "replay", killed.toString());
        Runs.Result fromPack = Runs.deja(home, "replay", pack.toString());
        assertEquals("started\n", fromPack.stdout(), "the replay ran up to the last complete event");
        assertEquals(fromDir.status(), fromPack.status(), fromPack.stderr());
        assertEquals(fromDir.stdout(), fromPack.stdout());
        assertTrue(fromPack.stderr().contains("the recording is incomplete"), fromPack.stderr());
    }
}
