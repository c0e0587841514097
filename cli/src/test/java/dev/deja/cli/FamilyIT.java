package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-family test programs (samples/c/family_*.c), as rr tests itself: each makes the calls of one
 * family of syscalls and prints everything the kernel answered, including what differs from run to run
 * (times, pids, inode numbers, ports), with every output buffer ending at a guard page. Each is
 * recorded once and replayed: the replay must print exactly what the recorded run printed and exit
 * with its status (a value answered differently changes what the program writes, which replay detects
 * as a divergence). The programs that read input files are replayed again after the files are deleted.
 */
class FamilyIT {
    private static final int REPLAYS = 2;

    @TempDir
    Path home;

    /** The input directory the file, memory and socket programs read: a file, a symlink, a subdirectory. */
    private Path input;

    @BeforeEach
    void makeInput() throws IOException {
        input = Files.createDirectory(home.resolve("input"));
        Files.writeString(input.resolve("data"),
                "The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrstuvwxyz.\n");
        Files.createSymbolicLink(input.resolve("link"), Path.of("data"));
        Files.createDirectory(input.resolve("sub"));
        StringBuilder mapped = new StringBuilder();
        for (int i = 0; mapped.length() < 3 * 4096; i++) mapped.append(String.format("line %05d of the mapped file%n", i));
        Files.writeString(input.resolve("mapped"), mapped, StandardCharsets.UTF_8);
    }

    private Runs.Result record(Path rec, String sample, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("record", "-q", "-o", rec.toString(), "--", Samples.path(sample)));
        cmd.addAll(List.of(args));
        Runs.Result r = Runs.deja(home, cmd.toArray(String[]::new));
        assertEquals(0, r.status(), sample + " failed when recorded: " + r.stderr());
        assertFalse(r.stdout().isEmpty(), sample + " printed nothing");
        return r;
    }

    private void replaysIdentically(Path rec, Runs.Result recorded, String what) throws IOException, InterruptedException {
        for (int i = 1; i <= REPLAYS; i++) {
            Runs.Result r = Runs.deja(home, "replay", rec.toString());
            assertEquals(recorded.stdout(), r.stdout(), what + ", replay " + i + "; stderr: " + r.stderr());
            assertEquals(recorded.stderr(), r.stderr(), what + ", replay " + i);
            assertEquals(recorded.status(), r.status(), what + ", replay " + i);
        }
    }

    /** Records {@code sample ARGS}, replays it, and (when it reads the input) replays it again without the input. */
    private Runs.Result check(String sample, boolean readsInput, String... args) throws IOException, InterruptedException {
        Path rec = home.resolve(sample);
        Runs.Result recorded = record(rec, sample, args);
        replaysIdentically(rec, recorded, sample);
        if (readsInput) {
            deleteTree(input);
            replaysIdentically(rec, recorded, sample + " after its input was deleted");
        }
        return recorded;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Test
    void fileCallsReplayWithoutTheFiles() throws Exception {
        Runs.Result r = check("family_file", true, input.toString());
        assertTrue(r.stdout().contains("read 16: The quick brown \n"), r.stdout());
        assertTrue(r.stdout().contains("readlinkat into 4: 4 data\n"), r.stdout());
        assertTrue(r.stdout().contains("  sub ino "), r.stdout());
    }

    @Test
    void clocksReplayAsRecorded() throws Exception {
        Runs.Result r = check("family_time", false);
        assertTrue(r.stdout().contains("clock_gettime TAI: "), r.stdout());
        assertTrue(r.stdout().contains("clock_gettime 4242: -1 errno 22\n"), r.stdout());
    }

    @Test
    void processIdentityAndLimitsReplayAsRecorded() throws Exception {
        Runs.Result r = check("family_proc", false);
        assertTrue(r.stdout().startsWith("getpid "), r.stdout());
        assertTrue(r.stdout().contains("getcwd into 2 bytes: -1 errno 34\n"), r.stdout());
    }

    @Test
    void socketsReplayWithoutTheServers() throws Exception {
        Runs.Result r = check("family_net", true, input.toString());
        assertTrue(r.stdout().contains("recvmsg 17: with a descriptor, controllen 24, fd "), r.stdout());
        assertTrue(r.stdout().contains("inet echo 4: ping\n"), r.stdout());
    }

    @Test
    void pipesEventfdsTimerfdsAndSignalfdsReplayAsRecorded() throws Exception {
        Runs.Result r = check("family_ipc", false);
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("eventfd ") && l.endsWith(" read 8: 42")), r.stdout());
        assertTrue(r.stdout().contains("signalfd "), r.stdout());
    }

    @Test
    void mappingsOfADeletedFileReplayFromTheRecording() throws Exception {
        Runs.Result r = check("family_mem", true, input.resolve("mapped").toString());
        assertTrue(r.stdout().startsWith("mmap private: line 00000 of th ... "), r.stdout());
    }

    /**
     * The guard pages work: a recording forged so that the first clock_gettime's timespec is one byte longer
     * than the kernel wrote makes the replay write into the guard page after the buffer, which must not
     * pass silently.
     */
    @Test
    void anOutputOneByteLongerThanTheKernelWroteDoesNotReplaySilently() throws Exception {
        Path rec = home.resolve("family_time");
        Runs.Result recorded = record(rec, "family_time");
        Path forged = home.resolve("forged");
        int clockGettime = SyscallTable.of(Arch.current()).number("clock_gettime").orElseThrow();
        long changedSeq = Runs.forge(rec, forged, s -> s.nr() == clockGettime && s.outputs().size() == 1, s -> {
            MemoryBlock ts = s.outputs().getFirst();
            byte[] longer = Arrays.copyOf(ts.data(), ts.length() + 1);
            return new SyscallEvent(s.seq(), s.pid(), s.tid(), s.timeNs(), s.exitTimeNs(), s.nr(), s.args(),
                    s.inputs(), s.result(), List.of(new MemoryBlock(ts.arg(), ts.address(), longer)), s.flags());
        });
        assertTrue(changedSeq > 0, "no clock_gettime with a timespec in the recording");
        Runs.Result r = Runs.deja(home, "replay", forged.toString());
        assertEquals(ExitCodes.DIVERGENCE, r.status(), r.stdout() + r.stderr());
        assertTrue(r.stderr().startsWith("deja: divergence at event " + changedSeq + " "), r.stderr());
        assertTrue(r.stderr().contains("only 16 of them are writable memory"), r.stderr());
    }

    @Test
    void mincoreVectorsReplayAsRecorded() throws Exception {
        Path rec = home.resolve("family_mem_mincore");
        Runs.Result recorded = record(rec, "family_mem", input.resolve("mapped").toString(), "--mincore");
        Runs.Result replayed = Runs.deja(home, "replay", rec.toString());
        assertEquals(recorded.stdout(), replayed.stdout(), replayed.stderr());
        assertEquals(recorded.status(), replayed.status());
    }
}
