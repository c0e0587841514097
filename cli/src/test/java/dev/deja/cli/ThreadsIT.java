package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multi-threaded programs through the real launcher, as {@link ReplayIT} does for the others: each is
 * recorded once ({@code deja record -o DIR -- PROG}) and replayed {@value #REPLAYS} times; every replay
 * must print the recorded stdout and stderr byte for byte and exit with the recorded status (never 124,
 * divergence, nor 125, deja's failure). The cases are the ones a deterministic thread scheduler with
 * preemption in replay must handle: threads that race in user space with no syscall between (a racy
 * counter, a spin handoff), threads blocked when the process ends, an exit or an exec from a thread that is
 * not the leader, futex-heavy mutexes and condition variables, python's GIL, xz's worker threads and the
 * JVM (java -version and a thread pool, on deja's JDK and on JDK 17 when installed).
 *
 * <p>Every deja command runs under a deadline ({@link #RECORD_LIMIT}, {@link #REPLAY_LIMIT}): one that does
 * not end in time (a replay spinning forever) is killed with its tree and fails the case; each test also
 * carries a {@link Timeout} as a backstop. What each command did and how long it took is printed (in
 * failsafe's {@code target/failsafe-reports/dev.deja.cli.ThreadsIT-output.txt}).
 */
class ThreadsIT {
    private static final int REPLAYS = 3;
    private static final Duration RECORD_LIMIT = Duration.ofSeconds(120);
    private static final Duration REPLAY_LIMIT = Duration.ofSeconds(60);
    /** A ZGC replay took 35-45 s on the loaded 2-core machine (most of it on the heap file's copy). */
    private static final Duration ZGC_REPLAY_LIMIT = Duration.ofSeconds(180);
    private static final Path DEV_NULL = Path.of("/dev/null");
    private static final Path JDK17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
    private static final long RACY_N = 10_000_000L;
    private static final int TRIES = 5;
    private static final int FUTEX = SyscallTable.of(Arch.current()).number("futex").orElseThrow();
    private static final long FUTEX_PRIVATE_FLAG = 128;
    /** A Java stack trace, or the line naming the exception that starts one. */
    private static final Pattern STACK_TRACE = Pattern.compile(
            "(?m)^\\s+at [\\w$./]+\\(|^Exception in thread|^(Caused by: )?[\\w$.]+(Exception|Error)(: |$)");

    /** Shared by the class: the racy counter's recording serves both its replay test and the debug test. */
    @TempDir
    static Path home;

    private static final AtomicInteger recordings = new AtomicInteger();
    private static Recorded racyCounter;

    // --- running deja and programs, under a deadline ------------------------------------------------

    /** A finished process: its status, its stdout as bytes (xz's is binary), its stderr and its wall time. */
    record Run(int status, byte[] stdout, String stderr, long millis) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    record Recorded(String name, Path dir, Run run) {
    }

    /**
     * Runs {@code cmd} with stdout and stderr on pipes (as in a shell pipeline: on a file, programs may copy
     * data inside the kernel, where no recorder sees it) and {@code stdin} as its input; DEJA_HOME is the
     * class's temporary home. A command still running after {@code limit} is killed with every process
     * under it and fails with what it had printed on stderr.
     */
    private static Run run(Duration limit, Path stdin, List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(stdin.toFile());
        pb.environment().put("DEJA_HOME", home.toString());
        long t0 = System.nanoTime();
        Process p = pb.start();
        try {
            FutureTask<byte[]> out = drain(p.getInputStream());
            FutureTask<byte[]> err = drain(p.getErrorStream());
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(p);
                throw new AssertionError(String.join(" ", cmd) + "\ndid not end within " + limit.toSeconds()
                        + " s (killed: hung, or a thread spinning in user space was never preempted); its stderr:\n" + head(new String(collect(err), StandardCharsets.UTF_8), 15));
            }
            long millis = (System.nanoTime() - t0) / 1_000_000;
            return new Run(p.exitValue(), collect(out), new String(collect(err), StandardCharsets.UTF_8), millis);
        } finally {
            if (p.isAlive()) killTree(p); // interrupted (the test's @Timeout) or failed: leave nothing behind
        }
    }

    private static FutureTask<byte[]> drain(InputStream in) {
        FutureTask<byte[]> task = new FutureTask<>(() -> {
            try (in) {
                return in.readAllBytes();
            }
        });
        Thread.ofPlatform().daemon().name("ThreadsIT-drain").start(task);
        return task;
    }

    private static byte[] collect(FutureTask<byte[]> task) throws InterruptedException {
        try {
            return task.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new UncheckedIOException(new IOException("reading a child's output", e.getCause()));
        } catch (TimeoutException e) {
            return "(its output pipe stayed open after it ended)".getBytes(StandardCharsets.UTF_8);
        }
    }

    /** SIGKILL to {@code p} and everything under it (deja, its launcher shell, the traced tree). */
    private static void killTree(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
    }

    private static Run deja(Duration limit, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Runs.launcher().toString());
        cmd.addAll(List.of(args));
        return run(limit, DEV_NULL, cmd);
    }

    private static Run nativeRun(String... cmd) throws IOException, InterruptedException {
        return run(RECORD_LIMIT, DEV_NULL, List.of(cmd));
    }

    private static void log(String name, String what, Run r) {
        String first = r.stderr().lines().filter(l -> l.startsWith("deja:")).findFirst().orElse("");
        System.out.printf("[ThreadsIT] %-24s %-8s status %3d in %6d ms %s%n", name, what, r.status(), r.millis(), first);
    }

    /** Records {@code command} once into a fresh directory; the recording must exist and deja must not have failed. */
    private static Recorded record(String name, String... command) throws IOException, InterruptedException {
        return record(name, List.of(), command);
    }

    /** As {@link #record(String, String...)}, with {@code options} of deja record before the command. */
    private static Recorded record(String name, List<String> options, String... command) throws IOException, InterruptedException {
        Path dir = home.resolve(name + "-" + recordings.incrementAndGet());
        List<String> args = new ArrayList<>(List.of("record", "-q", "-o", dir.toString()));
        args.addAll(options);
        args.add("--");
        args.addAll(List.of(command));
        Run r = deja(RECORD_LIMIT, args.toArray(String[]::new));
        log(name, "record", r);
        assertTrue(Files.isDirectory(dir), "no recording of " + name + " (status " + r.status() + "):\n" + head(r.stderr(), 15));
        assertTrue(r.status() != ExitCodes.DEJA_FAILURE, "deja failed recording " + name + ":\n" + head(r.stderr(), 15));
        return new Recorded(name, dir, r);
    }

    /** What the recorded run printed and its status must be what the program does natively. */
    private static void assertRecorded(Recorded rec, int status, String stdout) {
        assertEquals(stdout, rec.run().out(), "stdout of the recorded " + rec.name() + "; stderr: " + rec.run().stderr());
        assertEquals(status, rec.run().status(), "status of the recorded " + rec.name() + "; stderr: " + rec.run().stderr());
    }

    /**
     * Replays {@code rec} {@value #REPLAYS} times; each must reproduce the recorded output and status. A
     * recording that does not is kept under target/failed-recordings, for the failure to be studied
     * after the run (the class's home is deleted with it).
     */
    private static void replaysIdentically(Recorded rec) throws IOException, InterruptedException {
        try {
            replaysIdenticallyOnce(rec);
        } catch (AssertionError e) {
            Path kept = Path.of("target", "failed-recordings", rec.dir().getFileName().toString()).toAbsolutePath();
            Files.createDirectories(kept.getParent());
            Process cp = new ProcessBuilder("cp", "-a", rec.dir().toString(), kept.toString()).inheritIO().start();
            String where = cp.waitFor() == 0 ? "the recording is kept in " + kept : "the recording could not be kept";
            throw new AssertionError(e.getMessage() + "\n(" + where + ")", e);
        }
    }

    private static void replaysIdenticallyOnce(Recorded rec) throws IOException, InterruptedException {
        for (int i = 1; i <= REPLAYS; i++) {
            Run r = deja(REPLAY_LIMIT, "replay", rec.dir().toString());
            log(rec.name(), "replay " + i, r);
            String what = rec.name() + ", replay " + i + " of " + REPLAYS;
            assertTrue(r.status() != ExitCodes.DIVERGENCE && r.status() != ExitCodes.DEJA_FAILURE,
                    what + " ended with status " + r.status() + (r.status() == ExitCodes.DIVERGENCE ? " (divergence)"
                            : " (deja failed)") + ":\n" + head(r.stderr(), 12));
            assertEquals(describe(rec.run().stdout()), describe(r.stdout()), what + ": stdout; stderr:\n" + head(r.stderr(), 12));
            assertEquals(rec.run().stderr(), r.stderr(), what + ": stderr");
            assertEquals(rec.run().status(), r.status(), what + ": status");
        }
    }

    /** Text as itself, binary output (xz's) as its length and digest, for readable comparisons. */
    private static String describe(byte[] bytes) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            if (s.indexOf('\0') < 0) return s;
        } catch (CharacterCodingException binary) {
            // described below
        }
        try {
            return bytes.length + " bytes, sha-256 " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static String head(String text, int lines) {
        return String.join("\n", text.lines().limit(lines).toList());
    }

    private static void recordAndReplaySample(String sample, int status, String stdout, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Samples.path(sample)));
        command.addAll(List.of(args));
        Recorded rec = record(sample, command.toArray(String[]::new));
        assertRecorded(rec, status, stdout);
        replaysIdentically(rec);
    }

    // --- the C samples -----------------------------------------------------------------------------

    @Test
    @Timeout(180)
    void aThreadWaitingForeverDoesNotHoldUpTheOthers() throws Exception {
        // The idle thread is still in pthread_cond_wait (futex) when main returns: exit_group ends it there.
        recordAndReplaySample("thr_idle_then_start", 0, "main done\n");
    }

    @Test
    @Timeout(180)
    void aWorkerThatExitsTheProcessWhileMainJoinsIt() throws Exception {
        recordAndReplaySample("thr_worker_exit", 3, "main: joining the worker\nworker: exit(3)\n");
    }

    /**
     * The worker's exit(3) ends main between two of its calls (it runs user code then), not inside one as in
     * the join above: --chaos recordings until main's last call returned before the worker's exit_group (the
     * leader's end is the process's; replay must hold it for that exit_group, not take its next call for a
     * divergence, as it did for mvn's main thread ended by another thread's System.exit).
     */
    @Test
    @Timeout(240)
    void aWorkerThatExitsTheProcessWhileMainRunsBetweenCalls() throws Exception {
        Recorded rec = null;
        // Up to 12 seeds: whether main is between calls at the worker's exit still depends on timing (1-2 s each).
        for (int seed = 1; seed <= 12 && (rec == null || !endsInExitGroup(rec)); seed++) {
            rec = record("thr_exit_while_running", List.of("--chaos", "--seed", Integer.toString(seed)),
                    Samples.path("thr_exit_while_running"), "1000");
        }
        assertTrue(endsInExitGroup(rec), "no recording had main end between two calls");
        assertRecorded(rec, 3, "main: running\nworker: exit(3)\n");
        replaysIdentically(rec);
    }

    /** Whether the last call of the recording is an exit_group (every other thread's last call had returned). */
    private static boolean endsInExitGroup(Recorded rec) throws IOException, InterruptedException {
        Run dump = deja(REPLAY_LIMIT, "dump", rec.dir().toString());
        List<String> calls = dump.out().lines().filter(l -> !l.contains("+++")).toList();
        return !calls.isEmpty() && calls.getLast().contains("exit_group(3)");
    }

    /**
     * Records {@code command} up to {@value #TRIES} times, until {@code raced} accepts the recording (the
     * threads did race in it; under the recorder they often happen not to, and such a recording replays
     * trivially); the last recording when none did.
     */
    private static Recorded recordUntil(String name, Predicate<Recorded> raced, String... command)
            throws IOException, InterruptedException {
        Recorded rec = null;
        for (int i = 1; rec == null || (i <= TRIES && !raced.test(rec)); i++) {
            rec = record(name, command);
            System.out.printf("[ThreadsIT] %s recording %d: %s%n", name, i, raced.test(rec) ? "raced" : "did not race");
        }
        return rec;
    }

    /** The racy counter's recording, made once for the class, one that lost increments if possible. */
    private static synchronized Recorded racyCounter() throws IOException, InterruptedException {
        if (racyCounter == null) {
            racyCounter = recordUntil("thr_racy_counter", ThreadsIT::raced, Samples.path("thr_racy_counter"), Long.toString(RACY_N));
        }
        return racyCounter;
    }

    private static boolean raced(Recorded rec) {
        return !rec.run().out().equals("total=" + 2 * RACY_N + "\n");
    }

    @Test
    @Timeout(180)
    void aRacyCounterReplaysToItsRecordedTotal() throws Exception {
        // Natively the total is usually below 2N and differs between runs: only the recorded
        // preemption points give the recorded total again.
        Recorded rec = racyCounter();
        System.out.println("[ThreadsIT] thr_racy_counter recorded " + rec.run().out().trim());
        assertEquals(0, rec.run().status(), rec.run().stderr());
        assertTrue(rec.run().out().matches("total=\\d+\n"), rec.run().out());
        long total = Long.parseLong(rec.run().out().trim().substring("total=".length()));
        assertTrue(total > 0 && total <= 2 * RACY_N, rec.run().out());
        if (!raced(rec)) System.out.println("[ThreadsIT] thr_racy_counter: no recording lost an increment; replaying one that did not race");
        replaysIdentically(rec);
    }

    /**
     * A preemption between two iterations of {@code rep stosb} (memset's path for large sizes): its
     * state (rcx and rdi part of the way) is at no instruction boundary, so replay runs the instruction
     * for just the recorded iterations. Before, replay never stopped there: xz -T2 diverged whenever
     * its recording preempted a thread in glibc's memset ("the thread reached a syscall before its
     * recorded preemption point"), and every replay of such a recording did.
     */
    @Test
    @Timeout(180)
    void aThreadPreemptedInsideRepStosbIsStoppedAtTheRecordedIteration() throws Exception {
        Recorded rec = record("thr_rep_fill", Samples.path("thr_rep_fill"), "256");
        assertEquals(0, rec.run().status(), rec.run().stderr());
        assertTrue(rec.run().out().matches("a saw b \\d+ times, b saw a \\d+ times\n"), rec.run().out());
        System.out.print("[ThreadsIT] thr_rep_fill recorded " + rec.run().out());
        // rcx counts the bytes left to fill (16 MiB a fill); the sampling loop between fills holds a byte or a flag in it
        long inside = preemptions(rec, p -> p.register(RCX) > 0x1000 && p.register(RCX) < (16 << 20));
        assertTrue(inside > 0, "no preemption inside rep stosb was recorded: the test tests nothing");
        replaysIdentically(rec);
    }

    /**
     * Replay runs an mmap with MAP_FIXED_NOREPLACE added; the kernel leaves argument registers as the call
     * found them, so r10 kept that flag after the call unless deja put the program's arguments back, and a
     * point preempted in code that does not touch r10 (thr_after_mmap's countdown; a python thread copying
     * a fresh 64 MiB buffer in glibc's memmove) was never found: "the thread reached a syscall before its
     * recorded preemption point".
     */
    @Test
    @Timeout(180)
    void aPointAfterAReplayedMmapHasTheProgramsRegisters() throws Exception {
        Recorded rec = record("thr_after_mmap", Samples.path("thr_after_mmap"), "1000000000");
        assertRecorded(rec, 0, "pages a a, turns left 0 0\n");
        assertTrue(preemptions(rec, p -> true) > 0, "no preemption was recorded: the test tests nothing");
        replaysIdentically(rec);
    }

    /**
     * Code outside any module (a JIT's: HotSpot's interpreter and compiled methods) has no function
     * bounds, so the guard patches one instruction there, of 5 bytes or more: the recorder single-steps
     * a thread preempted in such code to the next one (in thr_jit_counter's loop, its top or its inner
     * loop's load), and replay stops it there in the stub. The loop keeps its turn count on the stack,
     * as HotSpot's interpreter keeps a method's locals: at those points every register is the same at
     * each turn, so the stub hashes the stack window itself. Before, such a point was trapped at every
     * pass (about 100 µs each) and the JVM's --chaos recordings ran out of their 300 000-trap budget.
     */
    @Test
    @Timeout(180)
    void aThreadPreemptedInJitCodeIsFoundByItsStackAtAnInstructionTheGuardPatchesAlone() throws Exception {
        Recorded rec = record("thr_jit_counter", Samples.path("thr_jit_counter"));
        assertEquals(0, rec.run().status(), rec.run().stderr());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("total=(\\d+) code=0x([0-9a-f]+)\n").matcher(rec.run().out());
        assertTrue(m.matches(), rec.run().out());
        System.out.print("[ThreadsIT] thr_jit_counter recorded " + rec.run().out());
        long code = Long.parseUnsignedLong(m.group(2), 16);
        long inLoop = preemptions(rec, p -> p.register(RIP) >= code && p.register(RIP) < code + 72);
        long atAGuardable = preemptions(rec, p -> (p.register(RIP) == code + 12 || p.register(RIP) == code + 33) && p.register(RAX) == 0);
        assertTrue(inLoop > 0, "no preemption in the loop was recorded: the test tests nothing");
        assertEquals(inLoop, atAGuardable, "every point in the loop at its top or its inner load, the turn count only on the stack");
        replaysIdentically(rec);
    }

    /** How many preemptions the recording holds whose registers {@code where} accepts. */
    private static long preemptions(Recorded rec, Predicate<ScheduleEvent> where) throws RecordingException {
        return Runs.events(rec.dir()).stream().filter(e -> e instanceof ScheduleEvent s
                && s.scheduleKind() == ScheduleEvent.Kind.PREEMPT && where.test(s)).count();
    }

    /** user_regs_struct's rcx word. */
    private static final int RCX = 11;
    /** user_regs_struct's rip and rax words. */
    private static final int RIP = 16;
    private static final int RAX = 10;

    @Test
    @Timeout(180)
    void threadsSpinningOnFlagsHandOffAHundredTimes() throws Exception {
        // No syscall while a thread spins: a replay that never preempts it spins forever.
        String sample = Samples.path("thr_spin_handoff");
        Run natively = nativeRun(sample, "100");
        assertTrue(natively.out().matches("handoffs=100 checksum=\\d+\n"), natively.out());
        recordAndReplaySample("thr_spin_handoff", 0, natively.out(), "100");
    }

    /**
     * Whether a thread waited for or woke a waiter of the mutex: glibc's mutex uses private futexes, the
     * joins do not (FUTEX_WAIT_BITSET on the thread's tid word, woken by the kernel).
     */
    private static boolean contended(Recorded rec) {
        try {
            return Runs.events(rec.dir()).stream().anyMatch(e -> e instanceof SyscallEvent s && s.nr() == FUTEX
                    && (s.args()[1] & FUTEX_PRIVATE_FLAG) != 0);
        } catch (RecordingException e) {
            throw new AssertionError("cannot read the recording " + rec.dir(), e);
        }
    }

    @Test
    @Timeout(180)
    void fourThreadsContendAMutex() throws Exception {
        // Under the recorder the threads often run one after the other: take a recording with contention.
        Recorded rec = recordUntil("thr_mutex4", ThreadsIT::contended, Samples.path("thr_mutex4"));
        assertRecorded(rec, 0, "total=400000\n");
        replaysIdentically(rec);
    }

    /**
     * kill_between: a signal one thread (pthread_kill) or process (kill) sends another lands in a loop
     * with no call, between sleeps, or while blocked; what is printed depends on where. Replay sends it
     * from the recording, where it landed: run for real (before format version 4), the process case
     * printed the count its live child had reached, and under load a worker's sleep count differed.
     * And job control: a child stopped, waited for, continued and ended replays without a real stop.
     */
    @Test
    @Timeout(240)
    void aSignalOneThreadOrProcessSendsAnotherLandsWhereRecorded() throws Exception {
        Map<String, String> expected = Map.of(
                "thread", "worker counted to \\d+ before the signal \\(hash [0-9a-f]{16}\\)\n",
                "sleeps", "worker slept \\d+ times before the signal\n",
                "process", "child counted to \\d+ before the signal \\(hash [0-9a-f]{16}\\)\n",
                "blocked", "worker: handled before unblocking 0, after 1\n",
                "stopped", "stopped 1 by signal 19\ncontinued 1\nended by signal 15\n");
        for (String mode : List.of("thread", "sleeps", "process", "blocked", "stopped")) {
            Recorded rec = record("kill_between-" + mode, Samples.path("kill_between"), mode);
            assertEquals(0, rec.run().status(), mode + ": " + rec.run().stderr());
            assertTrue(rec.run().out().matches(expected.get(mode)), mode + ": " + rec.run().out());
            replaysIdentically(rec);
        }
    }

    @Test
    @Timeout(180)
    void producersAndConsumersShareABoundedQueue() throws Exception {
        recordAndReplaySample("thr_prodcons", 0, "consumed=10000 sum=50005000\n");
    }

    @Test
    @Timeout(180)
    void aThreadThatIsNotTheLeaderExecs() throws Exception {
        recordAndReplaySample("thr_exec_nonleader", 0, "main: starting the thread that execs\nexec-from-thread\n");
    }

    // --- python, xz ----------------------------------------------------------------------------------

    private static final String PYTHON_THREADS = """
            import threading
            lock = threading.Lock()
            def work(n):
                s = sum(i * i for i in range(100000 * (n + 1)))
                with lock:
                    print(f"thread {n}: {s}", flush=True)
            ts = [threading.Thread(target=work, args=(n,)) for n in range(4)]
            for t in ts: t.start()
            for t in ts: t.join()
            print("done")
            """;

    @Test
    @Timeout(180)
    void pythonThreadsComputeAndPrintUnderALock() throws Exception {
        Recorded rec = record("python-threads", python(), "-c", PYTHON_THREADS);
        assertEquals(0, rec.run().status(), rec.run().stderr());
        List<String> lines = rec.run().out().lines().toList();
        assertEquals(5, lines.size(), rec.run().out());
        assertEquals("done", lines.get(4));
        List<String> expected = new ArrayList<>();
        for (long n = 0; n < 4; n++) {
            long m = 100000 * (n + 1); // sum of i*i for i < m
            expected.add("thread " + n + ": " + (m - 1) * m * (2 * m - 1) / 6);
        }
        assertEquals(expected, lines.subList(0, 4).stream().sorted().toList(), "the threads' lines in any order");
        replaysIdentically(rec);
    }

    private static final String PYTHON_SHORT_THREADS = """
            import threading
            r = []
            ts = [threading.Thread(target=lambda i=i: r.append(sum(range(i * 300000)))) for i in range(4)]
            for t in ts: t.start()
            for t in ts: t.join()
            print(sorted(r))
            """;

    /**
     * Threads that end while their creator starts the next: glibc's pthread_create reuses a dead thread's
     * cached stack once the kernel has cleared its tid word (CLONE_CHILD_CLEARTID), which it reads with no
     * call. The recorder let the creator run while the exiting thread was still in the kernel, and
     * recorded its end after the creator was let go: 2 of 6 recordings diverged on every replay ("expected
     * mmap(... MAP_STACK ...), got rt_sigprocmask", or the other way round). Now the exiting thread keeps
     * its turn until it is gone and its end is recorded first. Three recordings, one replay each.
     */
    @Test
    @Timeout(180)
    void pythonThreadsThatEndWhileTheNextStartsReuseStacksAsRecorded() throws Exception {
        for (int i = 1; i <= 3; i++) {
            Recorded rec = record("python-short-threads", python(), "-c", PYTHON_SHORT_THREADS);
            assertRecorded(rec, 0, "[0, 44999850000, 179999700000, 404999550000]\n");
            Run r = deja(REPLAY_LIMIT, "replay", rec.dir().toString());
            log(rec.name(), "replay", r);
            assertEquals(rec.run().out(), r.out(), "recording " + i + ": stdout; stderr:\n" + head(r.stderr(), 12));
            assertEquals(0, r.status(), "recording " + i + ": status; stderr:\n" + head(r.stderr(), 12));
        }
    }

    private static final String PYTHON_PROCESSES = """
            import multiprocessing as mp
            def work(v, n):
                for i in range(n):
                    with v.get_lock():
                        v.value += 1
            if __name__ == "__main__":
                v = mp.Value('i', 0)
                ps = [mp.Process(target=work, args=(v, 2000)) for _ in range(2)]
                for p in ps: p.start()
                for p in ps: p.join()
                print(v.value)
            """;

    @Test
    @Timeout(240)
    void pythonProcessesAddToASharedValueUnderItsLock() throws Exception {
        // multiprocessing's Value and its lock live in a /dev/shm file the processes map shared: they take
        // turns as one unit while recorded, and share the replay's copy of that file in replay.
        Recorded rec = record("python-processes", python(), "-c", PYTHON_PROCESSES);
        assertRecorded(rec, 0, "4000\n");
        replaysIdentically(rec);
    }

    @Test
    @Timeout(180)
    void processesSharingAnonymousMemoryReplayTheirTotal() throws Exception {
        // Natively the child's and the parent's unlocked increments race (the total is 3-6 million); recorded,
        // the two processes take turns as one unit. A replay that did not share the memory prints 3 million.
        Recorded rec = record("proc_shared_counter", Samples.path("proc_shared_counter"), "3000000");
        assertEquals(0, rec.run().status(), rec.run().stderr());
        assertTrue(rec.run().out().matches("total=\\d+\n"), rec.run().out());
        replaysIdentically(rec);
    }

    /** The interpreter itself (pyenv's python3 is a shell script that execs it: not the point here). */
    private static String python() throws InterruptedException {
        Run which;
        try {
            which = nativeRun("python3", "-c", "import sys; print(sys.executable)");
        } catch (IOException e) {
            which = null;
        }
        assumeTrue(which != null && which.status() == 0 && !which.out().isBlank(), "python3 does not run");
        return which.out().trim();
    }

    @Test
    @Timeout(180)
    void xzWithTwoThreadsCompressesToTheRecordedBytes(@TempDir Path dir) throws Exception {
        try {
            assumeTrue(nativeRun("xz", "--version").status() == 0, "xz does not run");
        } catch (IOException e) {
            assumeTrue(false, "no xz: " + e.getMessage());
        }
        // 2 MiB of seeded text; 256 KiB blocks, so both of xz's worker threads get blocks (its default
        // block for -T is 3 x the 8 MiB dictionary: one block, one busy thread).
        Path data = dir.resolve("data.txt");
        String[] words = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
        Random random = new Random(42);
        StringBuilder sb = new StringBuilder(2 << 20);
        for (int line = 0; sb.length() < (2 << 20); line++) {
            sb.append(line).append(' ').append(random.nextLong());
            for (int w = 0; w < 8; w++) sb.append(' ').append(words[random.nextInt(words.length)]);
            sb.append('\n');
        }
        sb.setLength(2 << 20);
        Files.writeString(data, sb);
        String[] xz = {"xz", "-T2", "--block-size=256KiB", "-c", data.toString()};
        Run natively = nativeRun(xz);
        assertEquals(0, natively.status(), natively.stderr());
        Recorded rec = record("xz-T2", xz);
        assertEquals(0, rec.run().status(), rec.run().stderr());
        // Multi-threaded xz output depends only on the blocks: the recorded run printed the native bytes.
        assertEquals(describe(natively.stdout()), describe(rec.run().stdout()), "xz's output under deja record");
        System.out.printf("[ThreadsIT] xz -T2: %d bytes compressed to %d%n", Files.size(data), rec.run().stdout().length);
        replaysIdentically(rec);
    }

    // --- the JVM -----------------------------------------------------------------------------------

    /** The JDK the launcher runs deja on (.deja-java-home beside it), else the one running this test. */
    private static Path dejaJdk() throws IOException {
        Path chosen = Runs.launcher().resolveSibling(".deja-java-home");
        if (Files.isRegularFile(chosen)) {
            Path jdk = Path.of(Files.readString(chosen).trim());
            if (Files.isExecutable(jdk.resolve("bin/java"))) return jdk;
        }
        return Path.of(System.getProperty("java.home"));
    }

    /** {@code java -version} on {@code jdk}: the JVM's own threads (GC, compiler, signal dispatcher) replay. */
    private static void jvmVersion(String label, Path jdk) throws Exception {
        Recorded rec = record(label + "-version", jdk.resolve("bin/java").toString(), "-version");
        assertEquals(0, rec.run().status(), rec.run().stderr());
        assertTrue(rec.run().stderr().contains(" version \""), rec.run().stderr());
        replaysIdentically(rec);
    }

    /** The ThreadPool sample (4 pool threads, 100 tasks, a racy HashMap) on {@code jdk}. */
    private static void jvmThreadPool(String label, Path jdk) throws Exception {
        String[] pool = {jdk.resolve("bin/java").toString(), "-cp", Samples.javaClasses("ThreadPool"), "ThreadPool"};
        Run natively = nativeRun(pool);
        assertEquals(0, natively.status(), natively.stderr());
        assertTrue(natively.out().matches("size=100 checksum=-?\\d+\n"), natively.out());
        Recorded rec = record(label + "-ThreadPool", pool);
        assertRecorded(rec, 0, natively.out());
        replaysIdentically(rec);
    }

    @Test
    @Timeout(240)
    void aJvmThreadPoolOnTheJdkDejaRunsOn() throws Exception {
        jvmThreadPool("jdk-deja", dejaJdk());
    }

    @Test
    @Timeout(240)
    void theJvmDejaRunsOn() throws Exception {
        jvmVersion("jdk-deja", dejaJdk());
    }

    @Test
    @Timeout(240)
    void debiansJdk17() throws Exception {
        assumeTrue(Files.isExecutable(JDK17.resolve("bin/java")), "no JDK 17 at " + JDK17);
        jvmVersion("jdk17", JDK17);
    }

    /**
     * ZGC's cell of docs/replay.md's JVM table: {@code java -XX:+UseZGC -version} on deja's JDK, recorded once
     * and replayed once. ZGC picks per-CPU allocation state by the CPU a thread runs on (glibc's sched_getcpu);
     * read from the rseq area it differed between recording and replay, and a thread took another path (a
     * futex wait where a clock_gettime was recorded). The recording must hold that read as getcpu calls.
     * Replaying ZGC is slow (its 6.3 GB heap file is checked and copied, sparse): a longer limit, and only
     * with DEJA_FULL_JVM_TABLE=1 (ReplayIT's theCpuGlibcReportsIsTheRecordedOneWhenReplayedOnAnotherCpu checks
     * the getcpu calls on every run of the suite).
     */
    @Test
    @Timeout(400)
    void zgcOnTheJdkDejaRunsOn() throws Exception {
        assumeTrue(System.getenv("DEJA_FULL_JVM_TABLE") != null, "ZGC's cell runs with DEJA_FULL_JVM_TABLE=1 (half a minute)");
        Recorded rec = record("jdk-deja-Z-version", dejaJdk().resolve("bin/java").toString(), "-XX:+UseZGC", "-version");
        assertEquals(0, rec.run().status(), rec.run().stderr());
        assertTrue(rec.run().stderr().contains(" version \""), rec.run().stderr());
        int getcpu = SyscallTable.of(Arch.current()).number("getcpu").orElseThrow();
        assertTrue(Runs.events(rec.dir()).stream().anyMatch(e -> e instanceof SyscallEvent c && c.nr() == getcpu),
                "ZGC asked for no CPU number through getcpu: it read it from the rseq area, unrecorded");
        replaysOnce(rec, ZGC_REPLAY_LIMIT);
    }

    /**
     * The collectors of docs/replay.md's JVM table: the ThreadPool sample under G1 on each JDK (on deja's:
     * run above), recorded and replayed once each (the three-replay cases above cover the JVM's threads),
     * and javac on the JDK deja runs on. Shenandoah's, Serial's, Parallel's and ZGC's cells too with
     * DEJA_FULL_JVM_TABLE=1.
     */
    @Test
    @Timeout(900)
    void jvmCollectorsAndJavacReplay(@TempDir Path dir) throws Exception {
        List<Path> jdks = new ArrayList<>(List.of(dejaJdk()));
        if (Files.isExecutable(JDK17.resolve("bin/java"))) jdks.add(JDK17);
        for (Path jdk : jdks) {
            // G1 on deja's JDK is aJvmThreadPoolOnTheJdkDejaRunsOn's. Serial and Parallel run their -version
            // and JUnit cells in jvmTableVersionAndAJUnitTestOnEachCollector: their pool cells, with ZGC's
            // (a minute a cell), only in the full table, to keep the suite fast.
            // Shenandoah's cells (10 s each) run with the full table only.
            List<String> gcs = new ArrayList<>(jdk.equals(dejaJdk()) ? List.of() : List.of("G1"));
            if (System.getenv("DEJA_FULL_JVM_TABLE") != null) gcs.addAll(List.of("Shenandoah", "Serial", "Parallel", "Z"));
            for (String gc : gcs) {
                String[] pool = {jdk.resolve("bin/java").toString(), "-XX:+Use" + gc + "GC", "-cp",
                        Samples.javaClasses("ThreadPool"), "ThreadPool"};
                Recorded rec = record(jdk.getFileName() + "-" + gc, pool);
                assertEquals(0, rec.run().status(), gc + " on " + jdk + ": " + rec.run().stderr());
                assertTrue(rec.run().out().matches("size=100 checksum=-?\\d+\n"), rec.run().out());
                replaysOnce(rec, gc.equals("Z") ? ZGC_REPLAY_LIMIT : REPLAY_LIMIT);
            }
        }
        Path source = Files.writeString(dir.resolve("Hello.java"), "class Hello { public static void main(String[] a) {} }\n");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        Recorded javac = record("javac", dejaJdk().resolve("bin/javac").toString(), "-d", classes.toString(), source.toString());
        assertEquals(0, javac.run().status(), javac.run().stderr());
        assertTrue(Files.isRegularFile(classes.resolve("Hello.class")), "javac wrote no class when recorded");
        Files.delete(classes.resolve("Hello.class"));
        replaysOnce(javac);
        assertTrue(Files.notExists(classes.resolve("Hello.class")), "a replay of javac wrote its output again");
    }

    private static void replaysOnce(Recorded rec) throws IOException, InterruptedException {
        replaysOnce(rec, REPLAY_LIMIT);
    }

    private static void replaysOnce(Recorded rec, Duration limit) throws IOException, InterruptedException {
        Run r = deja(limit, "replay", rec.dir().toString());
        log(rec.name(), "replay", r);
        assertEquals(rec.run().status(), r.status(), rec.name() + ": replay status; stderr:\n" + head(r.stderr(), 12));
        assertEquals(describe(rec.run().stdout()), describe(r.stdout()), rec.name() + ": replay stdout");
        assertEquals(rec.run().stderr(), r.stderr(), rec.name() + ": replay stderr");
    }

    /** JUnit's ConsoleLauncher, one jar; cli's build copies it there (the failsafe run's directory is cli/). */
    private static final Path CONSOLE_LAUNCHER = Path.of("target/console-launcher/junit-platform-console-standalone.jar");

    /** A JUnit 5 test that hands work to a pool of two threads, as tests of concurrent code do. */
    private static final String POOL_TEST = """
            import static org.junit.jupiter.api.Assertions.assertEquals;

            import java.util.concurrent.ExecutorService;
            import java.util.concurrent.Executors;
            import java.util.concurrent.Future;
            import org.junit.jupiter.api.Test;

            class PoolTest {
                @Test
                void sumsOnAPool() throws Exception {
                    ExecutorService pool = Executors.newFixedThreadPool(2);
                    try {
                        Future<Integer> a = pool.submit(() -> 20);
                        Future<Integer> b = pool.submit(() -> 22);
                        assertEquals(42, a.get() + b.get());
                    } finally {
                        pool.shutdown();
                    }
                }
            }
            """;

    /**
     * The rest of docs/replay.md's JVM table: on each JDK (deja's, and 17 where installed) with G1, Serial and
     * Parallel (and with DEJA_FULL_JVM_TABLE=1 Shenandoah and ZGC; without, a part: see below), {@code java -version} (G1's is
     * {@link #theJvmDejaRunsOn} and {@link #debiansJdk17}, ZGC's on deja's JDK {@link #zgcOnTheJdkDejaRunsOn}) and a JUnit 5
     * test run by the ConsoleLauncher, recorded once and replayed once each (the ThreadPool sample's cells are
     * {@link #jvmCollectorsAndJavacReplay}'s). The test is compiled for Java 17 so both JDKs run it.
     */
    @Test
    @Timeout(1800)
    void jvmTableVersionAndAJUnitTestOnEachCollector(@TempDir Path dir) throws Exception {
        assertTrue(Files.isRegularFile(CONSOLE_LAUNCHER), CONSOLE_LAUNCHER.toAbsolutePath()
                + " is missing: the cli module's build copies it (mvn -pl cli generate-test-resources)");
        Path source = Files.writeString(dir.resolve("PoolTest.java"), POOL_TEST);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        int javac = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "--release", "17", "-cp",
                CONSOLE_LAUNCHER.toString(), "-d", classes.toString(), source.toString());
        assertEquals(0, javac, "compiling PoolTest against the ConsoleLauncher");
        List<Path> jdks = new ArrayList<>(List.of(dejaJdk()));
        if (Files.isExecutable(JDK17.resolve("bin/java"))) jdks.add(JDK17);
        // A JUnit JVM is about 80 000 calls, 40 s to record and replay on a loaded machine: the suite runs
        // it once (G1 on deja's JDK) and -version with Parallel on deja's and Serial on 17;
        // DEJA_FULL_JVM_TABLE=1 runs every cell of the table, Shenandoah's and ZGC's too (ZGC's replays take a
        // minute each).
        boolean full = System.getenv("DEJA_FULL_JVM_TABLE") != null;
        for (Path jdk : jdks) {
            String java = jdk.resolve("bin/java").toString();
            boolean first = jdk.equals(jdks.getFirst());
            List<String> gcs = full ? List.of("G1", "Serial", "Parallel", "Shenandoah", "Z") : List.of("G1", "Serial", "Parallel");
            for (String gc : gcs) {
                String label = jdk.getFileName() + "-" + gc;
                Duration replayLimit = gc.equals("Z") ? ZGC_REPLAY_LIMIT : REPLAY_LIMIT;
                // G1's -version is theJvmDejaRunsOn's and debiansJdk17's, ZGC's on deja's JDK zgcOnTheJdkDejaRunsOn's
                boolean versionCell = !gc.equals("G1") && !(gc.equals("Z") && first)
                        && (full || gc.equals(first ? "Parallel" : "Serial"));
                boolean junitCell = full || first && gc.equals("G1");
                if (versionCell) {
                    Recorded version = record(label + "-version", java, "-XX:+Use" + gc + "GC", "-version");
                    assertEquals(0, version.run().status(), label + " -version: " + version.run().stderr());
                    assertTrue(version.run().stderr().contains(" version \""), version.run().stderr());
                    replaysOnce(version, replayLimit);
                }
                if (!junitCell) continue;
                Recorded junit = record(label + "-junit", java, "-XX:+Use" + gc + "GC", "-jar", CONSOLE_LAUNCHER.toString(),
                        "execute", "--disable-banner", "--disable-ansi-colors", "--include-engine=junit-jupiter",
                        "--details=summary", "--class-path", classes.toString(), "--select-class", "PoolTest");
                assertEquals(0, junit.run().status(), label + " ConsoleLauncher: " + junit.run().out() + junit.run().stderr());
                assertTrue(junit.run().out().contains("1 tests successful"), label + ": " + junit.run().out());
                replaysOnce(junit, replayLimit);
            }
        }
    }

    // --- deja debug --------------------------------------------------------------------------------

    @Test
    @Timeout(180)
    void debugGoesForwardThroughTheRacyCounterWithoutAnInternalError() throws Exception {
        Recorded rec = racyCounter();
        Path script = Files.writeString(home.resolve("until.txt"), "until 1000\nuntil 2000\nquit\n");
        Run r = deja(REPLAY_LIMIT, "debug", "-x", script.toString(), rec.dir().toString());
        log(rec.name(), "debug", r);
        String all = r.out() + r.stderr();
        assertFalse(all.contains("internal error"), "deja debug (status " + r.status() + "):\n" + all);
        assertFalse(STACK_TRACE.matcher(all).find(), "a stack trace from deja debug (status " + r.status() + "):\n" + all);
    }
}
