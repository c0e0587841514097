package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.formats.RecordingFormat;
import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What crosses between deja, the program it records or replays, and other users (issue 16): the program
 * gets the descriptors it would get without deja, never deja's own; recordings are private; an unpacked
 * copy of a pack does not outlive deja.
 */
class TrustBoundaryIT {

    @TempDir
    Path home;

    /** Runs {@code command} from a shell that gives it descriptor 7 (as a user's shell may), natively or under deja. */
    private static Runs.Result withFd7(Path home, List<String> command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "exec 7</dev/null; exec \"$@\"", "bash"));
        cmd.addAll(command);
        return Runs.run(home, cmd);
    }

    private static Set<String> lines(String text) {
        return new TreeSet<>(text.lines().map(String::trim).filter(l -> !l.isEmpty()).toList());
    }

    @Test
    void theProgramSeesTheDescriptorsItSeesWithoutDeja() throws Exception {
        Runs.Result natively = withFd7(null, List.of("ls", "/proc/self/fd"));
        assertEquals(0, natively.status(), natively.stderr());
        // ls's own directory descriptor (3), the standard ones and the one the shell gave: nothing else
        assertEquals(Set.of("0", "1", "2", "3", "7"), lines(natively.stdout()));

        Path rec = home.resolve("fds");
        Runs.Result recorded = withFd7(home, List.of(Runs.launcher().toString(), "record", "-q", "-o", rec.toString(),
                "--", "ls", "/proc/self/fd"));
        assertEquals(0, recorded.status(), recorded.stderr());
        assertEquals(lines(natively.stdout()), lines(recorded.stdout()),
                "under deja record the program sees exactly the descriptors it sees natively");

        Runs.Result replayed = withFd7(home, List.of(Runs.launcher().toString(), "replay", rec.toString()));
        assertEquals(0, replayed.status(), replayed.stderr());
        assertEquals(recorded.stdout(), replayed.stdout());
    }

    @Test
    void aChildMadeWithCloneUntracedIsRecordedAndDoesNotActOnReplay() throws Exception {
        Path made = home.resolve("made-by-the-child");
        Path rec = Runs.record(home, "untraced", Samples.path("untraced_clone"), made.toString());
        assertTrue(Files.exists(made), "the child ran while recording");
        Runs.Result dump = Runs.deja(home, "dump", rec.toString());
        assertTrue(dump.stdout().contains("made-by-the-child"), "the child's openat is in the recording:\n" + dump.stdout());
        assertTrue(!dump.stdout().contains("CLONE_UNTRACED"), dump.stdout());
        Files.delete(made);
        Runs.Result replay = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replay.status(), replay.stderr());
        assertEquals("child wrote the file\nchild status 0\n", replay.stdout());
        assertTrue(!Files.exists(made), "the replayed child must not create the file again");
    }

    @Test
    void recordingsAndPacksArePrivateToTheirOwner() throws Exception {
        Path rec = Runs.record(home, "private", "cat", "/etc/hostname");
        Runs.Result inHome = Runs.deja(home, "record", "-q", "--", "true");
        assertEquals(0, inHome.status(), inHome.stderr());
        Path pack = home.resolve("private.deja");
        Runs.Result packed = Runs.deja(home, "pack", "-q", rec.toString(), "-o", pack.toString());
        assertEquals(0, packed.status(), packed.stderr());
        Path unpacked = home.resolve("unpacked");
        Runs.Result u = Runs.deja(home, "unpack", "-q", pack.toString(), "-o", unpacked.toString());
        assertEquals(0, u.status(), u.stderr());
        assertEquals("rw-------", perms(pack));
        assertEquals("rwx------", perms(home.resolve("blobs")), "the shared blob store");
        for (Path dir : List.of(rec, home.resolve("true-1"), unpacked)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.toList()) {
                    // a file linked from the shared blob store is read-only as well (SharedBlobs)
                    if (Files.isDirectory(p)) assertEquals("rwx------", perms(p), p.toString());
                    else assertTrue(perms(p).matches("r[w-]-------"), p + " " + perms(p));
                }
            }
        }
    }

    private static String perms(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /** The temp directories a deja process (the launcher execs java: the same pid) unpacked a pack into. */
    private static List<Path> unpackedBy(long pid) throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("deja-unpacked-" + pid + "-")).toList();
        }
    }

    /** Starts {@code deja debug PACK}, which waits for commands on its stdin, once its unpacked copy exists. */
    private Process debugging(Path pack) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Runs.launcher().toString(), "debug", pack.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("DEJA_HOME", home.toString());
        Process p = pb.start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (unpackedBy(p.pid()).isEmpty()) {
            if (!p.isAlive() || System.nanoTime() > deadline) throw new AssertionError("deja debug never unpacked the pack");
            Thread.sleep(50);
        }
        Thread.sleep(500);   // into the session (or still unpacking: either way the copy must go)
        return p;
    }

    @Test
    void aStoppedOrKilledDejaLeavesNoUnpackedCopyOfAPackBehind() throws Exception {
        Path rec = Runs.record(home, "packed", "cat", "/etc/hostname");
        Path pack = home.resolve("packed.deja");
        Runs.Result packed = Runs.deja(home, "pack", "-q", rec.toString(), "-o", pack.toString());
        assertEquals(0, packed.status(), packed.stderr());
        for (String signal : List.of("INT", "TERM")) {
            Process p = debugging(pack);
            Runs.run(null, List.of("kill", "-" + signal, Long.toString(p.pid())));
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "deja exits on SIG" + signal);
            assertEquals(List.of(), unpackedBy(p.pid()), "SIG" + signal + " leaves nothing");
        }
        // SIGKILL runs nothing: the next command that unpacks into the temp directory removes the leftover
        Process p = debugging(pack);
        p.destroyForcibly();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, unpackedBy(p.pid()).size(), "a SIGKILLed deja leaves its copy (nothing can run)");
        Runs.Result checked = Runs.deja(home, "info", "--check", pack.toString());
        assertEquals(0, checked.status(), checked.stderr());
        assertEquals(List.of(), unpackedBy(p.pid()), "the next unpack removed what the killed deja left");
    }

    /** A copy of {@code pack} whose manifest has {@code from} replaced by {@code to}, its CRC made to match: a forgery. */
    private static Path forgedManifest(Path pack, Path copy, String from, String to) throws IOException {
        byte[] all = Files.readAllBytes(pack);
        int mlen = ByteBuffer.wrap(all).getInt(12);
        String json = new String(all, 16, mlen, StandardCharsets.UTF_8);
        assertTrue(json.contains(from), json);
        byte[] j = json.replace(from, to).getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(j);
        ByteBuffer out = ByteBuffer.allocate(all.length - mlen + j.length);
        out.put(all, 0, 12).putInt(j.length).put(j).putInt((int) crc.getValue());
        out.put(all, 16 + mlen + 4, all.length - 16 - mlen - 4);
        return Files.write(copy, out.array());
    }

    @Test
    void aPackWhoseSummaryDescribesAnotherRecordingIsRefused() throws Exception {
        Path rec = Runs.record(home, "summary", "cat", "/etc/hostname");
        Path pack = home.resolve("summary.deja");
        assertEquals(0, Runs.deja(home, "pack", "-q", rec.toString(), "-o", pack.toString()).status());
        String[][] forgeries = {
                {"\"command\": [\"cat\", \"/etc/hostname\"]", "\"command\": [\"rm\", \"-rf\", \"/\"]", "command"},
                {"\"formatVersion\": " + RecordingFormat.CURRENT_VERSION,
                        "\"formatVersion\": " + (RecordingFormat.CURRENT_VERSION - 1), "formatVersion"},
        };
        for (String[] f : forgeries) {
            Path forged = forgedManifest(pack, home.resolve("forged.deja"), f[0], f[1]);
            for (List<String> args : List.of(List.of("info"), List.of("info", "--check"), List.of("replay"))) {
                List<String> cmd = new ArrayList<>(args);
                cmd.add(forged.toString());
                Runs.Result r = Runs.deja(home, cmd.toArray(String[]::new));
                assertEquals(125, r.status(), cmd + ": " + r.stdout() + r.stderr());
                assertTrue(r.stderr().startsWith("deja: ") && r.stderr().contains("forged")
                        && r.stderr().contains(f[2] + ": the summary says"), cmd + ": " + r.stderr());
                assertTrue(r.stderr().lines().count() == 1, r.stderr());
            }
        }
        // the events of a finished recording: 1 instead of the real count
        String events = Runs.deja(home, "info", pack.toString()).stdout().lines()
                .filter(l -> l.startsWith("events:")).findFirst().orElseThrow().replaceAll("\\D", "");
        Path forged = forgedManifest(pack, home.resolve("forged.deja"), "\"events\": " + events + ",", "\"events\": 1,");
        Runs.Result r = Runs.deja(home, "info", forged.toString());
        assertEquals(125, r.status(), r.stdout());
        assertTrue(r.stderr().contains("events: the summary says 1, the recording " + events), r.stderr());
    }

    @Test
    void damagedOrEditedMetadataIsNamedNotReplayedIntoADivergence() throws Exception {
        Path rec = Runs.record(home, "meta", "sh", "-c", "echo $HOME");
        Path meta = rec.resolve("meta.json");
        String good = Files.readString(meta);
        String home1 = "\"HOME\": \"";
        int at = good.indexOf(home1) + home1.length();
        assertTrue(at > home1.length(), good);
        // one bit of an environment value
        byte[] flipped = good.getBytes(StandardCharsets.UTF_8);
        flipped[at] ^= 0x01;
        Files.write(meta, flipped);
        for (String command : List.of("info --check", "replay", "dump")) {
            List<String> cmd = new ArrayList<>(List.of(command.split(" ")));
            cmd.add(rec.toString());
            Runs.Result r = Runs.deja(home, cmd.toArray(String[]::new));
            assertEquals(125, r.status(), command + ": " + r.stdout());
            assertTrue(r.stderr().contains(meta + ": the metadata does not match its checksum"), command + ": " + r.stderr());
        }
        // an edited exit status is not shown
        Files.writeString(meta, good.replace("\"exitStatus\": 0", "\"exitStatus\": 3"));
        Runs.Result info = Runs.deja(home, "info", rec.toString());
        assertEquals(125, info.status(), info.stdout());
        assertTrue(info.stderr().contains("meta.json"), info.stderr());

        // a recording from before the checksum: read, said so, and its environment held against the journal
        // (nor the home files meta.json lists since: an older deja ended with "bytes")
        int cut = good.contains("\"homeFilesRead\"") ? good.indexOf(",\n  \"homeFilesRead\"") : good.lastIndexOf("  \"sha256\"") - 2;
        Files.writeString(meta, good.substring(0, cut) + "\n}\n");
        Runs.Result old = Runs.deja(home, "info", "--check", rec.toString());
        assertEquals(0, old.status(), old.stderr());
        assertTrue(old.stdout().contains("meta.json has none (written by an older deja)"), old.stdout());
        String edited = Files.readString(meta).replace(home1 + "/", home1 + "/x");
        Files.writeString(meta, edited);
        for (String command : List.of("info --check", "replay")) {
            List<String> cmd = new ArrayList<>(List.of(command.split(" ")));
            cmd.add(rec.toString());
            Runs.Result r = Runs.deja(home, cmd.toArray(String[]::new));
            assertEquals(125, r.status(), command + ": " + r.stdout());
            assertTrue(r.stderr().contains(meta + ": its environment differs from the one the program started with")
                    && r.stderr().contains("HOME differs") && !r.stderr().contains("divergence"), command + ": " + r.stderr());
        }
    }

    @Test
    void theProgramCannotWriteIntoTheJournal() throws Exception {
        // deja's journal once sat on descriptor 40, read-write, in the program: writing there broke the recording
        String script = "head -c 4096 /dev/urandom >&40; echo status $?; head -c 16 /dev/urandom >&41; echo status $?";
        Runs.Result natively = Runs.nativeRun("bash", "-c", script);
        Path rec = home.resolve("fd40");
        Runs.Result recorded = Runs.deja(home, "record", "-q", "-o", rec.toString(), "--", "bash", "-c", script);
        assertEquals(natively.status(), recorded.status(), recorded.stderr());
        assertEquals(natively.stdout(), recorded.stdout());
        assertEquals("status 1\nstatus 1\n", recorded.stdout());
        assertTrue(recorded.stderr().contains("40: Bad file descriptor"), recorded.stderr());

        Runs.Result checked = Runs.deja(home, "info", "--check", rec.toString());
        assertEquals(0, checked.status(), checked.stderr());
        assertTrue(checked.stdout().contains("checksums: all verified"), checked.stdout());
        Runs.Result replayed = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replayed.status(), replayed.stderr());
        assertEquals(recorded.stdout(), replayed.stdout());
    }
}
