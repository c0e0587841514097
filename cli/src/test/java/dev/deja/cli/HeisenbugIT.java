package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heisenbug samples (samples/c/heisen_*.c), as a user chases them: each fails (status 1, a message
 * on stderr) only sometimes, so it is recorded in a bounded loop until a run fails; then that recording
 * is replayed several times and must fail in exactly the same way every time (stdout, stderr, status).
 * A passing recording must replay as a pass.
 *
 * <p>Every failing recording is replayed {@link #REPLAYS} times. Each deja command starts a JVM (about 3 s
 * on a slow 2-core machine); the whole class takes about 3 minutes there.
 */
class HeisenbugIT {
    /** Records at most this many runs per sample; each fails with probability at least 1/4, so all pass
     *  with probability below 1e-4 (0.75^40), and the loop usually stops within a few runs. */
    private static final int MAX_RUNS = 40;
    private static final int REPLAYS = 10;

    @TempDir
    Path home;

    private int recordings;

    private record Recorded(Path dir, Runs.Result result) {
    }

    private Recorded record(String sample) throws IOException, InterruptedException {
        Path rec = home.resolve(sample + "-" + recordings++);
        Runs.Result r = Runs.deja(home, "record", "-q", "-o", rec.toString(), "--", Samples.path(sample));
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

    /**
     * Records {@code sample} until a run fails (at most {@link #MAX_RUNS}), replays the failing recording
     * {@link #REPLAYS} times, and replays one passing recording once.
     */
    private void chase(String sample) throws IOException, InterruptedException {
        Recorded failing = null;
        Recorded passing = null;
        for (int run = 0; run < MAX_RUNS && failing == null; run++) {
            Recorded r = record(sample);
            if (r.result().status() == 1) failing = r;
            else if (passing == null) passing = r;
        }
        assertNotNull(failing, sample + " never failed in " + MAX_RUNS + " recorded runs");
        assertTrue(failing.result().stderr().contains("FAILED"), "the failure says why: " + failing.result().stderr());
        replaysIdentically(failing, REPLAYS);

        for (int run = 0; run < MAX_RUNS && passing == null; run++) {
            Recorded r = record(sample);
            if (r.result().status() == 0) passing = r;
        }
        assertNotNull(passing, sample + " never passed in " + MAX_RUNS + " recorded runs");
        replaysIdentically(passing, 1);
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
}
