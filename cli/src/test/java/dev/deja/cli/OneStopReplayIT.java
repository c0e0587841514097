package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plain {@code deja replay} answers the calls it skips at one stop (a seccomp stop), or with none
 * when it can give their answers ahead (a stub at their syscall instructions), counted by
 * {@code deja replay --stats}: a 20 000-call getppid loop takes a few dozen stops, one stop a call with
 * {@code DEJA_NO_AHEAD=1}, and twice as many with {@code DEJA_REPLAY_STOPS=2}. The filter deja traces through is not the program's to see.
 * Processes that share no memory replay their own calls side by side, their output in recorded order.
 */
class OneStopReplayIT {
    private static final int CALLS = 20_000;
    private static final Pattern STATS = Pattern.compile(
            "deja: replayed (\\d+) calls in (\\d+) stops \\((\\d+) calls answered at one stop, (\\d+) without a stop,"
            + " (\\d+) steps taken ahead of the recorded order\\)");

    @TempDir
    Path home;

    private record Stats(long replayed, long stops, long oneStop, long withoutStop, long ahead) {
    }

    /** {@code deja ARGS} with DEJA_REPLAY_STOPS set to {@code stops} (null: unset). */
    private Runs.Result deja(String stops, String... args) throws IOException, InterruptedException {
        return deja(stops, Map.of(), args);
    }

    /** As {@link #deja(String, String...)}, with {@code env} added to deja's environment. */
    private Runs.Result deja(String stops, Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Runs.launcher().toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(home, "out", ".txt");
        Path err = Files.createTempFile(home, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("DEJA_HOME", home.toString());
        pb.environment().remove(ONE_STOP_ENV);
        if (stops != null) pb.environment().put(ONE_STOP_ENV, stops);
        pb.environment().remove(IN_ORDER_ENV);
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("did not end within 180 s: " + cmd);
        }
        return new Runs.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private static final String ONE_STOP_ENV = dev.deja.replayer.Replayer.ONE_STOP_ENV;
    private static final String IN_ORDER_ENV = dev.deja.replayer.Replayer.IN_ORDER_ENV;

    /** {@code sample ARGS} recorded into {@code rec} (it must end with status 0): the recorded run. */
    private Runs.Result recordSample(Path rec, String sample, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Runs.launcher().toString(), "record", "-q", "-o", rec.toString(), "--",
                Samples.path(sample)));
        cmd.addAll(List.of(args));
        Runs.Result recorded = Runs.run(home, cmd);
        assertEquals(0, recorded.status(), recorded.stderr());
        return recorded;
    }

    /** {@code deja replay --stats REC} with {@code env} added: status 0, the recorded output; its counts. */
    private Stats replayedAsRecorded(Path rec, Runs.Result recorded, Map<String, String> env) throws IOException, InterruptedException {
        Runs.Result r = deja(null, env, "replay", "--stats", rec.toString());
        assertEquals(0, r.status(), r.stderr());
        assertEquals(recorded.stdout(), r.stdout(), r.stderr());
        return stats(r);
    }

    private static Stats stats(Runs.Result r) {
        Matcher m = STATS.matcher(r.stderr());
        assertTrue(m.find(), "no stats line in: " + r.stderr());
        return new Stats(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4)), Long.parseLong(m.group(5)));
    }

    @Test
    void aLoopsCallsAreAnsweredWithoutAStopOneStopEachWithoutThatAndTwoWhenAskedFor() throws Exception {
        Path rec = Runs.record(home, "loop", Samples.path("getppid_loop"), Integer.toString(CALLS));

        // The loop's calls, all at the one syscall instruction of getppid(), answered by the stub in the program.
        Runs.Result none = deja(null, "replay", "-q", "--stats", rec.toString());
        assertEquals(0, none.status(), none.stderr());
        Stats n = stats(none);
        assertTrue(n.replayed() >= CALLS, "replayed " + n.replayed());
        assertTrue(n.withoutStop() >= CALLS - 50, "answered without a stop: " + n.withoutStop() + " of " + n.replayed());
        assertTrue(n.oneStop() + n.withoutStop() >= CALLS, n.toString());
        assertTrue(n.stops() < 1000, n.stops() + " stops for " + n.replayed() + " calls");

        Runs.Result one = deja(null, Map.of("DEJA_NO_AHEAD", "1"), "replay", "-q", "--stats", rec.toString());
        assertEquals(0, one.status(), one.stderr());
        assertEquals(none.stdout(), one.stdout());
        Stats s = stats(one);
        assertEquals(0, s.withoutStop());
        assertTrue(s.replayed() >= CALLS, "replayed " + s.replayed());
        // every getppid is answered from the recording at its entry, with no exit stop
        assertTrue(s.oneStop() >= CALLS, "answered at one stop: " + s.oneStop() + " of " + s.replayed());
        // the few calls that run (exec, mmap, exit...) keep their two stops, signals and events add a few more
        assertTrue(s.stops() < s.replayed() + 200, s.stops() + " stops for " + s.replayed() + " calls");

        Runs.Result two = deja("2", "replay", "-q", "--stats", rec.toString());
        assertEquals(0, two.status(), two.stderr());
        Stats t = stats(two);
        assertEquals(s.replayed(), t.replayed());
        assertEquals(0, t.oneStop());
        assertEquals(0, t.withoutStop());
        assertTrue(t.stops() >= 2 * t.replayed() - 10, t.stops() + " stops for " + t.replayed() + " calls");
    }

    @Test
    void processesSideBySidePrintInTheRecordedOrderWhileTheirFileWritesAreAnsweredAhead() throws Exception {
        // Two processes at once, each writing 600 times to a file of its own (no output: answered ahead, side by side)
        // and printing a line every 40 writes, which must come out interleaved as recorded.
        String writer = "import os,sys\n"
                + "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)\n"
                + "for i in range(600):\n"
                + "    os.write(fd, b'0123456789'); sum(range(30000))\n"
                + "    if i % 40 == 0: os.write(1, ('%s %d\\n' % (sys.argv[2], i)).encode())\n";
        Path files = Files.createDirectory(home.resolve("files"));
        String script = "python3 -c \"$1\" " + files + "/a a & python3 -c \"$1\" " + files + "/b b & wait";
        Path rec = home.resolve("two");
        Runs.Result recorded = Runs.run(home, List.of(Runs.launcher().toString(), "record", "-q", "-o", rec.toString(), "--",
                "/bin/sh", "-c", script, "sh", writer));
        assertEquals(0, recorded.status(), recorded.stderr());
        assertEquals(30, recorded.stdout().lines().count(), recorded.stdout());
        for (int i = 0; i < 2; i++) {
            Stats s = replayedAsRecorded(rec, recorded, Map.of());
            assertTrue(s.withoutStop() > 1200, "answered without a stop: " + s);
        }
    }

    @Test
    void callsAtTheirOwnWrappersAreAnsweredWithoutAStopAndTheSameAsAtTheirStops() throws Exception {
        // open, fstat, read, pread, lseek, close, stat, access (a missing path too), readlink, getppid, getdents,
        // each at its own libc wrapper: the stubs at those syscall instructions answer them from the recording.
        Path scratch = Files.createDirectories(home.resolve("scratch"));
        Path rec = home.resolve("calls");
        Runs.Result recorded = recordSample(rec, "ahead_calls", scratch.toString(), "300");
        assertTrue(recorded.stdout().startsWith("300 rounds: "), recorded.stdout());
        for (int i = 0; i < 2; i++) {
            Stats s = replayedAsRecorded(rec, recorded, Map.of());
            assertTrue(s.withoutStop() > s.replayed() * 8 / 10, s.toString());
        }
        assertEquals(0, replayedAsRecorded(rec, recorded, Map.of("DEJA_NO_AHEAD", "1")).withoutStop());
    }

    @Test
    void aSpawnedChildsSignalActionsAreMadeInTheStubs() throws Exception {
        // posix_spawn's child (a vfork child, in its parent's memory) queries and resets every signal's action
        // before its exec: real calls, each two stops before; now the first one's exit gives the rest ahead,
        // made in the stubs with the marker the replay's filter lets through.
        Path dir = Files.createDirectories(home.resolve("spawned"));
        Path rec = home.resolve("spawn");
        Runs.Result recorded = recordSample(rec, "spawn_calls", dir.toString(), "3");
        Runs.Result dump = Runs.run(home, List.of(Runs.launcher().toString(), "dump", rec.toString()));
        assertEquals(0, dump.status(), dump.stderr());
        String root = dump.stdout().lines().findFirst().orElseThrow().replaceAll("^(\\[pid \\d+\\]).*", "$1");
        long childActions = dump.stdout().lines().filter(l -> l.contains("rt_sigaction(") && !l.startsWith(root)).count();
        assertTrue(childActions >= 50, childActions + " signal actions in the children:\n" + dump.stdout());

        Stats ahead = replayedAsRecorded(rec, recorded, Map.of());
        assertTrue(ahead.stops() < 2 * childActions, ahead + " against " + childActions + " actions of the children");
        Stats stops = replayedAsRecorded(rec, recorded, Map.of("DEJA_NO_AHEAD", "1"));
        assertTrue(stops.stops() >= 2 * childActions, stops + " without answers ahead");
    }

    @Test
    void aCallThatDiffersFromItsAnswerAheadIsADivergence() throws Exception {
        // The last call stats a path made from the time-stamp counter: answers for it were given ahead (the forty
        // stats before it are in the same stretch), and its stub finds the path's bytes another's.
        Runs.Result r = divergingReplay("100", "diverge");
        Matcher m = Pattern.compile("deja: divergence at event (\\d+) \\(pid \\d+, tid \\d+\\): expected newfstatat\\(AT_FDCWD,"
                + " \"[^\"]*/tsc-\\d+\".* \\(input data differs\\)").matcher(r.stderr());
        assertTrue(m.find(), r.stderr());
    }

    /** A replay of {@code ahead_calls} ROUNDS MODE recorded, which must end as a divergence, with no stack trace. */
    private Runs.Result divergingReplay(String rounds, String mode) throws Exception {
        Path scratch = Files.createDirectories(home.resolve("scratch"));
        Path rec = Runs.record(home, mode, Samples.path("ahead_calls"), scratch.toString(), rounds, mode);
        Runs.Result r = deja(null, "replay", rec.toString());
        assertEquals(ExitCodes.DIVERGENCE, r.status(), r.stderr());
        assertFalse(r.stderr().contains("Exception"), r.stderr());
        return r;
    }

    @Test
    void anOutputTheStubCannotWriteIsADivergenceNotACrash() throws Exception {
        // The last preads go into a read-only page or a buffer as the time-stamp counter says: one that got
        // bytes when recorded and points to the read-only page in replay faults in its stub, which makes the
        // call again for deja to meet at its stop (the same message as with one stop a call).
        Runs.Result r = divergingReplay("20", "fault");
        assertTrue(r.stderr().contains("pread64(") && r.stderr().contains("writable memory in the replaying process"),
                r.stderr());
        assertFalse(r.stderr().contains("SIGSEGV"), r.stderr());
    }

    @Test
    void processesThatShareNoMemoryReplayTheirOwnCallsSideBySide() throws Exception {
        // Two shells print lines in turn, each running a loop of calls of its own between them (getppid_loop:
        // answered from the recording, nothing printed). The loops' calls may go ahead of the recorded order,
        // the lines may not: every replay prints them in the order of the recorded writes, which a replay in
        // the recorded order prints. (Not always the recorded run's own output: two writes to one pipe in the
        // kernel at once are numbered at their entries, and the later entry may write first.)
        String loop = Samples.path("getppid_loop");
        String script = "for i in 1 2 3 4; do echo a$i; " + loop + " 3000; done & "
                + "for i in 1 2 3 4; do echo b$i; " + loop + " 3000; done; wait";
        Path rec = home.resolve("side");
        Runs.Result recorded = Runs.run(home, List.of(Runs.launcher().toString(), "record", "-q", "-o", rec.toString(),
                "--", "/bin/sh", "-c", script));
        assertEquals(0, recorded.status(), recorded.stderr());
        assertEquals(8, recorded.stdout().lines().count(), recorded.stdout());
        Runs.Result inOrder = deja(null, Map.of(IN_ORDER_ENV, "1"), "replay", "--stats", rec.toString());
        assertEquals(0, inOrder.status(), inOrder.stderr());
        assertEquals(recorded.stdout().lines().sorted().toList(), inOrder.stdout().lines().sorted().toList(), inOrder.stderr());
        assertEquals(0, stats(inOrder).ahead(), inOrder.stderr());

        long ahead = 0;
        for (int i = 0; i < 3; i++) {
            Runs.Result r = deja(null, "replay", "--stats", rec.toString());
            assertEquals(0, r.status(), r.stderr());
            assertEquals(inOrder.stdout(), r.stdout(), r.stderr());
            ahead += stats(r).ahead();
        }
        assertTrue(ahead > 0, "no step went ahead of the recorded order in 3 replays");
    }

    @Test
    void theFilterIsNotTheProgramsToSee() throws Exception {
        // prctl(PR_GET_SECCOMP), PR_GET_NO_NEW_PRIVS and /proc/self/status as recorded with no filter (every call
        // run in the kernel, DEJA_NO_EMULATION=1): answered from the recording, they do not show the one the
        // replay traces through. (Recorded with deja's own filter, they show it: docs/limits.md.)
        Runs.Result recorded = Runs.run(home, List.of("env", "DEJA_NO_EMULATION=1", Runs.launcher().toString(), "record",
                "-q", "-o", home.resolve("status").toString(), "--", Samples.path("seccomp_status")));
        assertEquals(0, recorded.status(), recorded.stderr());
        assertTrue(recorded.stdout().contains("Seccomp:\t0"), recorded.stdout());
        for (String stops : new String[] {null, "2"}) {
            Runs.Result r = deja(stops, "replay", "--stats", home.resolve("status").toString());
            assertEquals(recorded.stdout(), r.stdout(), "DEJA_REPLAY_STOPS=" + stops + ": " + r.stderr());
            assertEquals(0, r.status());
            if (stops == null) assertTrue(stats(r).oneStop() > 0, r.stderr());
        }
    }

    @Test
    void anUnknownStopCountIsRefused() throws Exception {
        Path rec = Runs.record(home, "short", Samples.path("getppid_loop"), "3");
        Runs.Result r = deja("3", "replay", rec.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, r.status(), r.stderr());
        assertTrue(r.stderr().startsWith("deja: cannot replay: DEJA_REPLAY_STOPS=3: expected 1 or 2"), r.stderr());
        assertFalse(r.stderr().contains("Exception"), r.stderr());
    }
}
