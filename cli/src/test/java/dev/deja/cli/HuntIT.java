package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.Tracer;
import dev.deja.device.ffm.Affinity;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.recorder.chaos.ChaosTracer;
import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hunting a failure: {@code deja record --until-fail}, {@code --keep-on-failure}, {@code --timeout},
 * {@code --fail-if} and {@code --chaos}, through the real launcher. The failing program is
 * samples/c/fail_nth.c, which fails from its Nth run on (a counter file counts the runs), so that
 * every test here is deterministic.
 */
class HuntIT {
    private static final String FAIL_NTH = Samples.path("fail_nth");

    @TempDir
    Path home;
    @TempDir
    Path work;

    /** The recordings in deja's home (the counters directory, the latest link and the shared blob store aside). */
    private List<String> recordingsInHome() throws IOException {
        if (!Files.isDirectory(home)) return List.of();
        try (Stream<Path> s = Files.list(home)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".") && !n.equals("latest") && !n.equals("blobs"))
                    .sorted().toList();
        }
    }

    private Runs.Result deja(String... args) throws IOException, InterruptedException {
        return Runs.deja(home, args);
    }

    private static void oneDejaLine(Runs.Result r, String expected) {
        List<String> ours = r.stderr().lines().filter(l -> l.startsWith("deja: ")).toList();
        assertEquals(List.of(expected), ours, "deja's own lines; stderr: " + r.stderr());
    }

    @Test
    void untilFailKeepsOnlyTheFailingRunWhichReplaysToTheSameFailure() throws Exception {
        Path counter = work.resolve("count");
        Runs.Result r = deja("record", "--until-fail", "--max-runs", "10", "--", FAIL_NTH, counter.toString(), "3", "status");
        assertEquals(1, r.status(), r.stderr());
        Path kept = home.resolve("fail_nth-1");
        oneDejaLine(r, "deja: run 3 of at most 10 failed (exit status 1); recorded to " + kept + " (2 passing runs discarded)");
        assertEquals("fail_nth: run 1\nfail_nth: run 2\nfail_nth: run 3\n", r.stdout(), "the output reaches the terminal");
        assertEquals("3", Files.readString(counter).strip(), "three runs, no more");
        assertEquals(List.of("fail_nth-1"), recordingsInHome(), "only the failing run is kept");
        assertEquals(kept.toRealPath(), home.resolve("latest").toRealPath());

        Runs.Result replay = deja("replay", "latest");
        assertEquals(1, replay.status(), replay.stderr());
        assertEquals("fail_nth: run 3\n", replay.stdout());
        assertTrue(replay.stderr().contains("fail_nth: FAILED on run 3"), replay.stderr());
    }

    @Test
    void untilFailWithOutputDirAndASignal() throws Exception {
        Path counter = work.resolve("count");
        Path rec = work.resolve("bug1");
        Runs.Result r = deja("record", "--until-fail", "-o", rec.toString(), "--", FAIL_NTH, counter.toString(), "2", "signal");
        assertEquals(128 + 11, r.status(), r.stderr());
        oneDejaLine(r, "deja: run 2 of at most 100 failed (killed by signal 11); recorded to " + rec + " (1 passing run discarded)");
        assertTrue(Files.isRegularFile(rec.resolve("meta.json")), "the recording is at -o");
        assertEquals(List.of(), recordingsInHome(), "nothing in the home with -o");
    }

    @Test
    void noFailureWithinMaxRunsKeepsNothingAndExitsZero() throws Exception {
        Path counter = work.resolve("count");
        Path rec = work.resolve("never");
        Runs.Result r = deja("record", "--until-fail", "--max-runs", "2", "-o", rec.toString(), "--", FAIL_NTH,
                counter.toString(), "5", "status");
        assertEquals(0, r.status(), r.stderr());
        oneDejaLine(r, "deja: no run failed in 2 runs; nothing kept");
        assertEquals("2", Files.readString(counter).strip());
        assertFalse(Files.exists(rec), "no recording left at -o");
        assertEquals(List.of(), recordingsInHome());
    }

    @Test
    void failIfMatchesOutputOfARunThatExitedZero() throws Exception {
        Path counter = work.resolve("count");
        Runs.Result r = deja("record", "--until-fail", "--fail-if", "WARNING: leaked \\d+", "--", FAIL_NTH,
                counter.toString(), "2", "output");
        assertEquals(1, r.status(), "a failure by output alone exits 1; " + r.stderr());
        oneDejaLine(r, "deja: run 2 of at most 100 failed (stdout matched --fail-if, exit status 0); recorded to "
                + home.resolve("fail_nth-1") + " (1 passing run discarded)");
        assertEquals("fail_nth: run 1\nfail_nth: run 2\nfail_nth: WARNING: leaked 3 objects\n", r.stdout());
        assertEquals(List.of("fail_nth-1"), recordingsInHome());
    }

    @Test
    void timeoutKillsTheRunWhichCountsAsFailed() throws Exception {
        Path counter = work.resolve("count");
        long start = System.nanoTime();
        Runs.Result r = deja("record", "--until-fail", "--timeout", "4s", "--", FAIL_NTH, counter.toString(), "1", "hang");
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertEquals(128 + 9, r.status(), r.stderr());
        oneDejaLine(r, "deja: run 1 of at most 100 failed (timed out after 4s, killed); recorded to "
                + home.resolve("fail_nth-1"));
        assertTrue(seconds < 60, "the hour-long sleep was cut short: " + seconds + " s");
        Runs.Result dump = deja("dump", "latest");
        assertTrue(dump.stdout().contains("killed by SIGKILL"), dump.stdout());
    }

    @Test
    void keepOnFailureDeletesAPassingRunsRecording() throws Exception {
        Path rec = work.resolve("ci-run");
        Runs.Result r = deja("record", "--keep-on-failure", "--fail-if", "WARNING", "-o", rec.toString(), "--", FAIL_NTH,
                work.resolve("count").toString(), "2", "output");
        assertEquals(0, r.status(), r.stderr());
        oneDejaLine(r, "deja: the run passed; its recording was deleted");
        assertFalse(Files.exists(rec));
    }

    @Test
    void keepOnFailureKeepsAFailingRunsRecording() throws Exception {
        Path rec = work.resolve("ci-run");
        Runs.Result r = deja("record", "--keep-on-failure", "-o", rec.toString(), "--", FAIL_NTH,
                work.resolve("count").toString(), "1", "status");
        assertEquals(1, r.status(), r.stderr());
        oneDejaLine(r, "deja: the run failed (exit status 1); recorded to " + rec);
        Runs.Result replay = deja("replay", rec.toString());
        assertEquals(1, replay.status(), replay.stderr());
        assertEquals("fail_nth: run 1\n", replay.stdout());
    }

    @Test
    void chaosWithAFixedSeedRecordsThreadsThatReplayFaithfully() throws Exception {
        Path rec = work.resolve("chaos");
        Runs.Result r = deja("record", "--chaos", "--seed", "42", "-o", rec.toString(), "--", Samples.path("threads"));
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.stderr().startsWith("deja: chaos seed 42\n"), r.stderr());
        List<Event> events = Runs.events(rec);
        assertEquals(4, events.stream().filter(e -> e instanceof SpawnEvent s && s.spawnKind() == SpawnEvent.Kind.THREAD).count());
        for (int i = 1; i <= 3; i++) {
            Runs.Result replay = deja("replay", rec.toString());
            assertEquals(r.stdout(), replay.stdout(), "replay " + i + "; stderr: " + replay.stderr());
            assertEquals(0, replay.status(), replay.stderr());
        }
    }

    @Test
    void chaosHuntOfAThreadOrderBugFindsItAndTheFailureReplays() throws Exception {
        // heisen_order fails in about one chaos run in two (and one plain traced run in twenty).
        Runs.Result r = deja("record", "--until-fail", "--max-runs", "40", "--chaos", "--seed", "7", "--",
                Samples.path("heisen_order"));
        assertEquals(1, r.status(), r.stderr());
        assertTrue(r.stderr().contains("FAILED"), r.stderr());
        Runs.Result replay = deja("replay", "latest");
        assertEquals(r.stdout().lines().toList().getLast() + "\n", replay.stdout(), replay.stderr());
        assertEquals(1, replay.status(), replay.stderr());
        assertTrue(replay.stderr().contains("heisen_order: FAILED: the worker reported before the main thread"), replay.stderr());
    }

    @Test
    void chaosPinsTheProgramToFewerCpus() throws Exception {
        List<Integer> allowed = Affinity.allowed(0);
        // A seed whose pick is one CPU: nproc (sched_getaffinity) then says 1.
        long seed = 0;
        while (new ChaosTracer(new Tracer() { }, seed, allowed).cpus().size() != 1) seed++;
        Runs.Result r = deja("record", "--chaos", "--seed", Long.toString(seed), "-o", work.resolve("n").toString(),
                "--", "nproc");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("1\n", r.stdout());
    }

    @Test
    void badOptionValuesAreOneLineErrors() throws Exception {
        String[][] cases = {
                {"--timeout", "0s", "--", "true"},
                {"--timeout", "soon", "--", "true"},
                {"--until-fail", "--max-runs", "0", "--", "true"},
                {"--max-runs", "5", "--", "true"},
                {"--until-fail", "--fail-if", "(", "--", "true"},
                {"--fail-if", "x", "--", "true"},
                {"--seed", "3", "--", "true"},
                {"--until-fail", "--keep-on-failure", "--", "true"},
        };
        for (String[] c : cases) {
            String[] args = new String[c.length + 1];
            args[0] = "record";
            System.arraycopy(c, 0, args, 1, c.length);
            Runs.Result r = deja(args);
            assertEquals(ExitCodes.DEJA_FAILURE, r.status(), String.join(" ", c) + ": " + r.stderr());
            List<String> lines = r.stderr().lines().toList();
            assertEquals(1, lines.size(), String.join(" ", c) + ": " + r.stderr());
            assertTrue(lines.getFirst().startsWith("deja: --"), lines.getFirst());
        }
        assertEquals(List.of(), recordingsInHome(), "a refused command records nothing");
    }
}
