package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of {@code deja debug}: going back by a checkpoint lands on the same registers and
 * memory as going forward did, in a single-threaded and a multi-threaded process; a process tree is
 * checkpointed with every process alive (a fork and exec, a shell pipeline of three commands) and
 * replays the same from there; a writable shared mapping's bytes are put back when going back; the
 * checkpoints' stopped copies are gone once the shell quits. Each sample runs from a copy of its own, so that
 * its processes are told apart from other runs of the same sample on the machine.
 */
class CheckpointIT {
    @TempDir
    static Path home;

    private static Path files;
    private static Path forked;
    private static Path shared;
    private static Path threads;
    private static Path kinds;
    private static Path altstack;
    private static Path pipeline;
    private static Path masked;
    private static Path pipelineDir;
    private static Path filesExe;
    private static Path forkExe;

    @BeforeAll
    static void record() throws Exception {
        Path dir = Files.createDirectories(home.resolve("files-dir"));
        filesExe = ownCopy("files");
        forkExe = ownCopy("heisen_fork");
        files = Runs.record(home, "files", filesExe.toString(), dir.toString());
        forked = Runs.record(home, "fork", forkExe.toString());
        shared = Runs.record(home, "shared", ownCopy("proc_shared_counter").toString(), "1000");
        threads = Runs.record(home, "threads", Samples.path("threads"));
        masked = Runs.record(home, "masked", Samples.path("masked_wait"));
        kinds = Runs.record(home, "kinds", Samples.path("thr_checkpoint"));
        altstack = Runs.record(home, "altstack", Samples.path("thr_altstack"));
        pipelineDir = Files.createDirectories(home.resolve("pipeline-" + ProcessHandle.current().pid()));
        for (String f : List.of("apple", "pear", "plum", "quince")) Files.writeString(pipelineDir.resolve(f), f);
        pipeline = Runs.record(home, "pipeline", "/bin/sh", "-c", "ls -1 " + pipelineDir + " | sort -r | head -2; echo done");
    }

    /** A copy of sample {@code name} under a name of this test run's own. */
    private static Path ownCopy(String name) throws IOException {
        Path copy = home.resolve("ckpt-" + name + "-" + ProcessHandle.current().pid());
        Files.copy(Path.of(Samples.path(name)), copy, StandardCopyOption.COPY_ATTRIBUTES);
        return copy;
    }

    private static Runs.Result debug(Path rec, String... commands) throws Exception {
        List<String> lines = new ArrayList<>(List.of(commands));
        lines.add("quit");
        lines.add("");
        Path stdin = Files.writeString(home.resolve("stdin.txt"), String.join("\n", lines));
        return Runs.dejaPiped(home, stdin, "debug", rec.toString());
    }

    /** The event number of the first call of {@code rec}'s dump whose text contains {@code text}. */
    private static long seqOf(Path rec, String text) throws Exception {
        for (String line : Runs.deja(home, "dump", "-n", rec.toString()).stdout().lines().toList()) {
            if (line.startsWith("#") && line.contains(text)) return Long.parseLong(line.substring(1, line.indexOf(' ')));
        }
        throw new AssertionError("no call with " + text + " in " + rec);
    }

    private static void contains(Runs.Result r, String... expected) {
        for (String e : expected) assertTrue(r.stdout().contains(e), "missing '" + e + "' in:\n" + r.stdout() + "\n" + r.stderr());
    }

    private static List<String> registers(Runs.Result r) {
        return r.stdout().lines().filter(l -> l.matches("[a-z0-9_]+ +0x[0-9a-f]{16}  -?\\d+")).toList();
    }

    /** {@code lines} are {@code times} runs of {@code each} lines (a state shown each time), all the same as the first. */
    private static void sameEachTime(List<String> lines, int times, int each, Runs.Result r) {
        assertEquals(times * each, lines.size(), r.stdout());
        for (int k = 1; k < times; k++) assertEquals(lines.subList(0, each), lines.subList(k * each, (k + 1) * each));
    }

    private static List<String> memory(Runs.Result r) {
        return r.stdout().lines().filter(l -> l.matches("0x[0-9a-f]+:\t.*")).toList();
    }

    /** Live processes running {@code exe} (the program, or a copy of it a checkpoint holds). */
    private static List<Long> processesOf(Path exe) {
        try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
            return all.filter(p -> p.info().command().map(c -> c.equals(exe.toString())).orElse(false)
                    || cmdline(p.pid()).contains(exe.toString())).map(ProcessHandle::pid).toList();
        }
    }

    private static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void goingBackByCheckpointLandsOnTheStateGoingForwardReached() throws Exception {
        long early = seqOf(files, "openat(AT_FDCWD, \"" + home.resolve("files-dir"));
        long data = seqOf(files, "openat(3, \"data.txt\"");
        long later = seqOf(files, "newfstatat(3, \"missing\"");
        Runs.Result r = debug(files,
                "goto " + early, "checkpoint",
                "goto " + data, "regs", "x/64xg $rsp", "x/s $rsi",
                "goto " + later, "info checkpoints",
                "goto " + data, "regs", "x/64xg $rsp", "x/s $rsi",
                "restart 1", "info checkpoints", "delete checkpoint 1", "info checkpoints",
                "goto " + later, "goto " + data, "regs", "x/64xg $rsp", "x/s $rsi");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "checkpoint 1 at #" + early + " [pid ",
                "going back: from checkpoint 1 (#" + early + ") to #" + data,
                "to checkpoint 1 (#" + early + ")", "deleted checkpoint 1", "no checkpoints",
                "going back: re-running the replay from the start to #" + data);
        assertTrue(r.stdout().matches("(?s).*\n1    #" + early + " +pid \\d+ +\\d+\\.\\d MiB, \\d+\\.\\d MiB +by 'checkpoint' in .*"),
                r.stdout());
        // Forward, back by the checkpoint, and by a re-run from the start: the same registers and stack.
        sameEachTime(registers(r), 3, 27, r);
        List<String> stack = memory(r);
        sameEachTime(stack, 3, 33, r);
        assertTrue(stack.get(32).endsWith(":\t\"data.txt\""), stack.get(32));
        // The program's own output is reproduced again after going back, as after a re-run.
        assertTrue(r.stdout().split("openat data.txt O_CREAT -> fd 4", -1).length >= 3, r.stdout());
        assertEquals(List.of(), processesOf(filesExe));
    }

    /**
     * heisen_fork (a fork whose child execs /bin/sh): a checkpoint before the fork, one at the child's exec
     * (two processes alive: the parent blocked in wait4, the child at its exec) and one after the child's end.
     * Going back lands on the same state as going forward; going back to the one taken with both processes
     * runs the child again, and the parent's wait gets the child's recorded status (the copy is not the
     * parent copy's child: the replay answers the wait from the recording).
     */
    @Test
    void aProcessTreeIsCheckpointedWithEveryProcessAndRunsAgainFromThere() throws Exception {
        long early = seqOf(forked, "prlimit64(");
        long clone = seqOf(forked, "clone(");
        long childExec = seqOf(forked, "execve(\"/bin/sh\"");
        long report = seqOf(forked, "write(1, \"heisen_fork: child exited with");
        Runs.Result r = debug(forked,
                "goto " + early, "checkpoint",
                "goto " + childExec, "checkpoint",
                "goto " + report, "checkpoint", "regs", "x/s $rsi", "x/8xg $rsp",
                "goto " + clone, "info",
                "goto " + report, "regs", "x/s $rsi", "x/8xg $rsp",
                "info checkpoints", "restart 2", "continue", "processes");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "checkpoint 1 at #" + early + " [pid ",
                "checkpoint 2 at #" + childExec + " [pid ", ", 2 processes)",
                "checkpoint 3 at #" + report + " [pid ",
                "going back: from checkpoint 1 (#" + early + ") to #" + clone,
                " +1 ", "to checkpoint 2 (#" + childExec + ")");
        assertTrue(!r.stdout().contains("diverge") && !r.stderr().contains("diverge"), r.stdout() + r.stderr());
        sameEachTime(registers(r), 2, 27, r);
        List<String> mem = memory(r);
        sameEachTime(mem, 2, 5, r);
        assertTrue(mem.getFirst().contains("\"heisen_fork: child exited with "), mem.getFirst());
        // From checkpoint 2 the child ran again, and the parent reported its status as recorded.
        String recorded = Runs.deja(home, "replay", forked.toString()).stdout();
        List<String> reports = r.stdout().lines().filter(l -> l.startsWith("heisen_fork: child exited with")).toList();
        assertEquals(recorded.lines().filter(l -> l.startsWith("heisen_fork: child exited with")).toList(), reports, r.stdout());
        assertEquals(1, r.stdout().lines().filter(l -> l.startsWith("[the program exited with status")).count(), r.stdout());
        assertEquals(List.of(), processesOf(forkExe));
    }

    /**
     * masked_wait, as make waits for its jobs: the parent blocks SIGCHLD and waits in pselect6 (then ppoll)
     * under an empty mask until its child's SIGCHLD ends the wait. Checkpoints at each child's exit_group
     * copy the parent at its wait's exit, the signal pending and the wait's mask applied (a copy forked
     * through it once put the outer mask back: the handler never ran, and the original diverged). The run
     * goes on from there three times with the recorded output.
     */
    @Test
    void aProcessAtTheExitOfAWaitUnderItsOwnMaskIsCheckpointed() throws Exception {
        List<Long> exits = new ArrayList<>();
        for (String line : Runs.deja(home, "dump", "-n", masked.toString()).stdout().lines().toList()) {
            if (line.contains("exit_group(3)") || line.contains("exit_group(4)")) {
                exits.add(Long.parseLong(line.substring(1, line.indexOf(' '))));
            }
        }
        assertEquals(2, exits.size(), exits.toString());
        Runs.Result r = debug(masked, "goto " + exits.get(0), "checkpoint", "goto " + exits.get(1), "checkpoint", "continue",
                "restart 1", "continue", "restart 2", "continue");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "checkpoint 1 at #" + exits.get(0) + " [pid ", ", 2 processes)", "checkpoint 2 at #" + exits.get(1),
                "to checkpoint 1 (#", "to checkpoint 2 (#");
        assertTrue(!r.stdout().contains("diverge") && !r.stderr().contains("diverge"), r.stdout() + r.stderr());
        List<String> waits = r.stdout().lines().filter(l -> l.startsWith("pselect ->") || l.startsWith("ppoll ->")).toList();
        assertEquals(List.of("pselect -> -1 (Interrupted system call), handler ran 1 times",
                "ppoll -> -1 (Interrupted system call), handler ran 2 times",
                "pselect -> -1 (Interrupted system call), handler ran 1 times",
                "ppoll -> -1 (Interrupted system call), handler ran 2 times",
                "ppoll -> -1 (Interrupted system call), handler ran 2 times"), waits, r.stdout());
        assertEquals(3, r.stdout().lines().filter(l -> l.equals("[the program exited with status 0]")).count(), r.stdout());
    }

    /**
     * A shell pipeline ({@code ls | sort -r | head -2}): checkpoints while its four processes live (the shell
     * in wait4, the three commands wherever the replay has them: at a call, back from one, or in their own
     * code), each restored to the end twice; the pipeline's output and status are the recorded ones each time.
     */
    @Test
    void aShellPipelineIsCheckpointedWhileItsProcessesRun() throws Exception {
        // After the three execs: a process deja lets run beside the one at the checkpoint may be in the middle of
        // its exec then, which no copy can be taken in (refused, the next call can); the commands all run until
        // the first of them ends, some 450 calls later.
        long lastExec = Math.max(seqOf(pipeline, "execve(\"/usr/bin/sort\""),
                Math.max(seqOf(pipeline, "execve(\"/usr/bin/ls\""), seqOf(pipeline, "execve(\"/usr/bin/head\"")));
        long first = lastExec + 20;
        long later = lastExec + 150; // goto stops at the first call at or after it
        Runs.Result r = debug(pipeline, "goto " + first, "checkpoint", "goto " + later, "checkpoint", "info checkpoints",
                "continue", "restart 1", "continue", "restart 2", "continue");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "checkpoint 1 at #", "checkpoint 2 at #", "to checkpoint 1 (#", "to checkpoint 2 (#");
        assertEquals(2, r.stdout().lines().filter(l -> l.matches("checkpoint \\d at #\\d+ \\[pid \\d+\\] \\(.*, 4 processes\\)")).count(),
                r.stdout());
        assertTrue(!r.stdout().contains("diverge") && !r.stderr().contains("diverge"), r.stdout() + r.stderr());
        List<String> out = r.stdout().lines().filter(l -> l.equals("quince") || l.equals("plum") || l.equals("done")).toList();
        assertEquals(List.of("quince", "plum", "done", "quince", "plum", "done", "quince", "plum", "done"), out, r.stdout());
        assertEquals(3, r.stdout().lines().filter(l -> l.equals("[the program exited with status 0]")).count(), r.stdout());
        assertEquals(List.of(), processesOf(pipelineDir));
    }

    /**
     * The pipeline stopped at the shell's first call after {@code sort}'s execve was let go: while the user
     * thinks (half a second here), sort reaches its exec stop, which the loop cannot take while the debugger
     * holds it. The checkpoint takes that stop as the loop would and copies sort at its execve's exit; going back
     * to it runs the pipeline to its recorded end.
     */
    @Test
    void aProcessCaughtInItsExecIsCheckpointedAtTheExecsReturn() throws Exception {
        long sortExec = seqOf(pipeline, "execve(\"/usr/bin/sort\"");
        String script = "{ printf 'goto %s\\n' \"$2\"; sleep 0.5; printf 'checkpoint\\ncontinue\\nrestart 1\\ncontinue\\nquit\\n'; }"
                + " | \"$0\" debug \"$1\"";
        Runs.Result r = Runs.run(home, List.of("/bin/sh", "-c", script, Runs.launcher().toString(), pipeline.toString(),
                Long.toString(sortExec + 1)));
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "checkpoint 1 at #", "to checkpoint 1 (#");
        assertTrue(!r.stdout().contains("diverge") && !r.stderr().contains("diverge"), r.stdout() + r.stderr());
        List<String> out = r.stdout().lines().filter(l -> l.equals("quince") || l.equals("plum") || l.equals("done")).toList();
        assertEquals(List.of("quince", "plum", "done", "quince", "plum", "done"), out, r.stdout());
        assertEquals(2, r.stdout().lines().filter(l -> l.equals("[the program exited with status 0]")).count(), r.stdout());
        assertEquals(List.of(), processesOf(pipelineDir));
    }

    /**
     * thr_checkpoint: checkpoints at calls of its "caller" thread while the spinner and the first thread
     * compute in registers (held in user code at recorded preemptions, an xmm register live) and later
     * while the first thread waits to join: going back to each runs to the recorded end with the same
     * results, which a copy that lost a thread's registers or extended state would not print.
     */
    @Test
    void threadsHeldInUserCodeAtAPreemptionAreCopiedWithTheirExtendedState() throws Exception {
        List<String> all = Runs.deja(home, "dump", "-a", "-n", kinds.toString()).stdout().lines().toList();
        String start = all.stream().filter(l -> l.contains("deja: thread starts")).toList().getLast();
        String caller = start.substring(start.indexOf(" [pid "), start.indexOf(']') + 1);
        List<Long> callerCalls = all.stream().filter(l -> l.startsWith("#") && l.contains(caller) && !l.contains("deja:")
                && !l.contains("+++")).map(l -> Long.parseLong(l.substring(1, l.indexOf(' ')))).sorted().toList();
        long early = callerCalls.get(2);
        long late = callerCalls.get(callerCalls.size() / 2);
        Runs.Result r = debug(kinds, "goto " + early, "checkpoint", "goto " + late, "checkpoint", "continue",
                "restart 1", "continue", "restart 2", "continue");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "checkpoint 1 at #" + early + caller, "checkpoint 2 at #" + late + caller);
        assertTrue(!r.stdout().contains("error") && !r.stderr().contains("diverged"), r.stdout() + r.stderr());
        List<String> results = r.stdout().lines().filter(l -> l.matches("(spinner|main|caller) .*")).toList();
        assertEquals(9, results.size(), r.stdout());
        assertEquals(results.subList(0, 3), results.subList(3, 6));
        assertEquals(results.subList(0, 3), results.subList(6, 9));
        assertEquals(results.get(0).substring(8), results.get(1).substring(5), "the spinner's and main's spins agree");
        assertEquals(3, r.stdout().lines().filter(l -> l.equals("[the program exited with status 0]")).count(), r.stdout());
    }

    /**
     * thr_altstack: a checkpoint at a call of the thread that set an alternate signal stack; going back
     * re-creates the thread with that stack, where its SA_ONSTACK handler runs again ("onalt 1").
     */
    @Test
    void aReCreatedThreadKeepsItsAlternateSignalStack() throws Exception {
        List<String> calls = Runs.deja(home, "dump", "-n", altstack.toString()).stdout().lines()
                .filter(l -> l.startsWith("#") && l.contains("getppid()")).toList();
        String call = calls.get(calls.size() / 2);
        long at = Long.parseLong(call.substring(1, call.indexOf(' ')));
        Runs.Result r = debug(altstack, "goto " + at, "checkpoint", "continue", "restart 1", "continue");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "checkpoint 1 at #" + at, "to checkpoint 1 (#" + at + ")");
        assertEquals(List.of("onalt 1", "onalt 1"), r.stdout().lines().filter(l -> l.startsWith("onalt")).toList(),
                r.stdout() + r.stderr());
    }

    /**
     * A writable shared mapping (MAP_SHARED anonymous memory the program's fork child will share): the
     * checkpoint's copy shares it with the running replay, so the checkpoint keeps its bytes and going
     * back puts them back; without, the counter would hold the first run's total and the second diverge.
     */
    @Test
    void aWritableSharedMappingIsPutBackWhenGoingBack() throws Exception {
        long fork = seqOf(shared, "clone(");
        String map = Runs.deja(home, "dump", "-n", shared.toString()).stdout().lines()
                .filter(l -> l.contains("MAP_SHARED|MAP_ANONYMOUS")).findFirst().orElseThrow();
        String counter = map.substring(map.lastIndexOf("= ") + 2).trim();
        Runs.Result r = debug(shared, "goto " + fork, "checkpoint", "x/1xg " + counter, "continue", "restart 1",
                "x/1xg " + counter, "continue");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "checkpoint 1 at #" + fork, "to checkpoint 1 (#" + fork + ")");
        assertEquals(List.of(counter + ":\t0x0000000000000000", counter + ":\t0x0000000000000000"), memory(r), r.stdout());
        // The program's run after going back is the recorded one again: the same total, the same end.
        List<String> totals = r.stdout().lines().filter(l -> l.startsWith("total=")).toList();
        assertEquals(2, totals.size(), r.stdout());
        assertEquals(totals.get(0), totals.get(1));
        assertEquals(2, r.stdout().lines().filter(l -> l.equals("[the program exited with status 0]")).count(), r.stdout());
    }

    @Test
    void reverseStepFromTheEndGoesBackByACheckpoint() throws Exception {
        long early = seqOf(files, "openat(AT_FDCWD, \"" + home.resolve("files-dir"));
        long exit = seqOf(files, "exit_group(");
        Runs.Result r = debug(files, "goto " + exit, "regs", "goto " + early, "checkpoint", "continue", "reverse-step", "regs",
                "info checkpoints");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "[the program exited with status 0]", "going back: from checkpoint 1 (#" + early + ") to #" + exit);
        sameEachTime(registers(r), 2, 27, r);
        assertEquals(List.of(), processesOf(filesExe));
    }

    /** SIGTERM to deja (as Ctrl-C's kill or a CI timeout sends) leaves neither the program nor a checkpoint's copy. */
    @Test
    void sigtermLeavesNoCopyBehind() throws Exception {
        long early = seqOf(files, "openat(AT_FDCWD, \"" + home.resolve("files-dir"));
        ProcessBuilder pb = new ProcessBuilder(Runs.launcher().toString(), "debug", files.toString());
        pb.environment().put("DEJA_HOME", home.toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()))) {
            p.getOutputStream().write(("goto " + early + "\ncheckpoint\n").getBytes());
            p.getOutputStream().flush();
            String line;
            while ((line = in.readLine()) != null && !line.startsWith("checkpoint 1 at")) {
                assertTrue(!line.startsWith("error"), line);
            }
            assertTrue(line != null, "no checkpoint taken");
            assertEquals(2, processesOf(filesExe).size(), "the program and its checkpoint's copy");
            p.destroy();
            // Under the 10 s deja's shutdown hooks wait for a tracing thread at most: the thread parked for
            // the shell leaves at once (it waited out those 10 s once, and more under load).
            assertTrue(p.waitFor(8, java.util.concurrent.TimeUnit.SECONDS), "deja debug still running 8 s after SIGTERM");
        } finally {
            p.destroyForcibly();
        }
        long until = System.nanoTime() + 5_000_000_000L;
        while (!processesOf(filesExe).isEmpty() && System.nanoTime() < until) Thread.sleep(50);
        assertEquals(List.of(), processesOf(filesExe));
    }

    /**
     * A multi-threaded process: the checkpoint is taken at a call of a thread that is not the first (the
     * copy is forked from the first, held elsewhere; the others are re-created from their images), and
     * going back by it lands on the registers and stack going forward reached, then runs to the end.
     */
    @Test
    void aMultiThreadedProcessGoesBackByACheckpointToTheSameState() throws Exception {
        List<String> calls = Runs.deja(home, "dump", "-n", threads.toString()).stdout().lines()
                .filter(l -> l.startsWith("#") && l.contains(" [pid ")).toList();
        String main = calls.getFirst().substring(calls.getFirst().indexOf(" [pid "), calls.getFirst().indexOf(']') + 1);
        List<String> others = calls.stream().filter(l -> !l.contains(main)).toList();
        String first = others.get(others.size() / 3);
        String thread = first.substring(first.indexOf(" [pid "), first.indexOf(']') + 1);
        long at = Long.parseLong(first.substring(1, first.indexOf(' ')));
        String laterLine = others.stream().filter(l -> l.contains(thread) && Long.parseLong(l.substring(1, l.indexOf(' '))) > at + 10)
                .findFirst().orElseThrow();
        long later = Long.parseLong(laterLine.substring(1, laterLine.indexOf(' ')));
        long last = Long.parseLong(calls.getLast().substring(1, calls.getLast().indexOf(' ')));
        Runs.Result r = debug(threads,
                "goto " + at, "checkpoint",
                "goto " + later, "regs", "x/16xg $rsp",
                "goto " + last,
                "goto " + later, "regs", "x/16xg $rsp",
                "continue");
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        contains(r, "checkpoint 1 at #" + at + thread, "going back: from checkpoint 1 (#" + at + ") to #" + later,
                "barrier generations: 2", "[the program exited with status 0]");
        assertTrue(!r.stdout().contains("error"), r.stdout());
        sameEachTime(registers(r), 2, 27, r);
        sameEachTime(memory(r), 2, 8, r);
    }

    /**
     * On a terminal, Ctrl-C reaches the whole process group: the checkpoint's stopped copy gets the
     * SIGINT too, and going back to it must still work (the signal is dropped, as the replay drops
     * every signal from outside).
     */
    @Test
    void ctrlCOnATerminalLeavesTheCheckpointsUsable() throws Exception {
        // Long enough that the continue still runs when Ctrl-C comes (about 1.2 s here).
        Path loop = Runs.record(home, "loop", Samples.path("getppid_loop"), "100000");
        Path driver = Path.of(CheckpointIT.class.getResource("/ptydrive.py").toURI());
        ProcessBuilder pb = new ProcessBuilder("python3", driver.toString(), Runs.launcher().toString(), "debug", loop.toString())
                .redirectErrorStream(true);
        pb.environment().put("DEJA_HOME", home.toString());
        pb.environment().put("TERM", "xterm");
        Process p = pb.start();
        List<String> steps = List.of("expect deja #1 ", "send goto 1000\\r", "expect deja #1000 ", "send checkpoint\\r",
                "expect checkpoint 1 at #1000", "send continue\\r", "sleep 0.3", "send \\x03",
                // Stopped by it, or at the end already: the copy got the SIGINT either way. At the prompt, JLine
                // takes a Ctrl-C as a signal, late: the pause keeps it from cutting the next line in two.
                "expect (interrupted|exited with status 0)", "expect deja (#\\d+ |\\(end\\))", "sleep 0.5", "send restart 1\\r", "expect to checkpoint 1 \\(#1000\\)", "expect deja #1000 ",
                "send print $orig_rax\\r", "expect \\$orig_rax = 0x6e \\(110\\)", "send quit\\r");
        try (var in = p.getOutputStream()) {
            in.write((String.join("\n", steps) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(240, java.util.concurrent.TimeUnit.SECONDS), out);
        assertTrue(!out.contains("TIMEOUT waiting for") && out.endsWith("EXIT 0\n"), out);
    }
}
