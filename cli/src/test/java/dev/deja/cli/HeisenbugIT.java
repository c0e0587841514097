package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heisenbug samples (samples/c/heisen_*.c), as a user chases them: each fails (status 1, a message
 * on stderr) only sometimes, so it is recorded in a bounded loop until a run fails; then that recording
 * is replayed several times and must fail in exactly the same way every time (stdout, stderr, status).
 * A passing recording must replay as a pass.
 *
 * <p>Every failing recording is replayed {@link #REPLAYS} times. Each deja command starts a JVM (about 3 s
 * on a slow 2-core machine); the whole class takes about 5 minutes there.
 */
class HeisenbugIT {
    /** Records at most this many runs per sample; each fails with probability at least 1/4, so all pass
     *  with probability below 1e-4 (0.75^40), and the loop usually stops within a few runs. */
    private static final int MAX_RUNS = 40;
    private static final int REPLAYS = 5;

    @TempDir
    Path home;

    private int recordings;

    private record Recorded(Path dir, Runs.Result result) {
    }

    private Recorded record(String sample, String... args) throws IOException, InterruptedException {
        Path rec = home.resolve(sample + "-" + recordings++);
        List<String> cmd = new ArrayList<>(List.of("record", "-q", "-o", rec.toString(), "--", Samples.path(sample)));
        cmd.addAll(List.of(args));
        Runs.Result r = Runs.deja(home, cmd.toArray(String[]::new));
        assertTrue(r.status() == 0 || r.status() == 1,
                sample + " exited " + r.status() + " when recorded; stderr: " + r.stderr());
        return new Recorded(rec, r);
    }

    /** Replays {@code rec} {@code times} times; each must reproduce the recorded output and status. */
    private void replaysIdentically(Recorded rec, int times) throws IOException, InterruptedException {
        for (int i = 1; i <= times; i++) {
            Runs.Result r = Runs.deja(home, "replay", rec.dir().toString());
            assertEquals(rec.result().stdout(), r.stdout(), "stdout of replay " + i + "; stderr: " + r.stderr());
            assertEquals(rec.result().stderr(), r.stderr(), "stderr of replay " + i);
            assertEquals(rec.result().status(), r.status(), "status of replay " + i);
        }
    }

    /** A failing recording and a passing one of the same sample. */
    private record Chased(Recorded failing, Recorded passing) {
    }

    /** Records {@code sample} with {@code args} until one run has failed and one has passed (at most
     *  {@link #MAX_RUNS} each). */
    private Chased recordBoth(String sample, String... args) throws IOException, InterruptedException {
        Recorded failing = null;
        Recorded passing = null;
        for (int run = 0; run < MAX_RUNS && failing == null; run++) {
            Recorded r = record(sample, args);
            if (r.result().status() == 1) failing = r;
            else if (passing == null) passing = r;
        }
        assertNotNull(failing, sample + " never failed in " + MAX_RUNS + " recorded runs");
        assertTrue(failing.result().stderr().contains("FAILED"), "the failure says why: " + failing.result().stderr());
        for (int run = 0; run < MAX_RUNS && passing == null; run++) {
            Recorded r = record(sample, args);
            if (r.result().status() == 0) passing = r;
        }
        assertNotNull(passing, sample + " never passed in " + MAX_RUNS + " recorded runs");
        return new Chased(failing, passing);
    }

    /**
     * Records {@code sample} until a run fails (at most {@link #MAX_RUNS}), replays the failing recording
     * {@link #REPLAYS} times, and replays one passing recording once.
     */
    private void chase(String sample) throws IOException, InterruptedException {
        Chased c = recordBoth(sample);
        replaysIdentically(c.failing(), REPLAYS);
        replaysIdentically(c.passing(), 1);
    }

    @Test
    void oddNanosecondsFailAgainOnReplay() throws Exception {
        chase("heisen_time");
    }

    @Test
    void aLowRandomByteFailsAgainOnReplay() throws Exception {
        chase("heisen_random");
    }

    @Test
    void theLosingThreadOrderFailsAgainOnReplay() throws Exception {
        chase("heisen_threads");
    }

    @Test
    void aChildThatExitedZeroFailsAgainOnReplay() throws Exception {
        chase("heisen_fork");
    }

    /** The signal lands between two particular calls in some runs; the replay delivers the recorded SIGALRM
     *  after the recorded call, its timer not armed, so the handler sees the same torn record. */
    @Test
    void aSignalBetweenTwoWritesFailsAgainOnReplay() throws Exception {
        chase("heisen_signal");
    }

    /**
     * The answer comes from a local server (the sample's own serve mode, started here outside the recording).
     * The server is stopped and its socket deleted before any replay: the replays must not need it.
     */
    @Test
    void aBadServerAnswerFailsAgainOnReplayAfterTheServerIsGone() throws Exception {
        Path socket = home.resolve("server.sock");
        Process server = new ProcessBuilder(Samples.path("heisen_input"), "serve", socket.toString())
                .redirectErrorStream(true)
                .redirectOutput(home.resolve("server.log").toFile())
                .start();
        Chased c;
        try {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!Files.exists(socket) && server.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(Files.exists(socket), "the server did not listen on " + socket + ": "
                    + Files.readString(home.resolve("server.log")));
            c = recordBoth("heisen_input", socket.toString());
        } finally {
            server.destroy();
            server.waitFor();
        }
        Files.deleteIfExists(socket);
        Runs.Result again = Runs.nativeRun(Samples.path("heisen_input"), socket.toString());
        assertEquals(2, again.status(), "natively the client cannot run without the server: " + again.stderr());

        replaysIdentically(c.failing(), REPLAYS);
        replaysIdentically(c.passing(), 1);
    }
}
