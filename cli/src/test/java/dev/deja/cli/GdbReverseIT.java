package dev.deja.cli;

import static dev.deja.cli.GdbReplays.GDB;
import static dev.deja.cli.GdbReplays.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.deja.cli.GdbReplays.Session;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reverse execution over gdb on {@code deja replay --gdb}, with the real gdb in batch mode: every move back
 * re-runs the replay from a checkpoint. The program (samples/c/gdb_reverse.c) calls step() twice per round,
 * each round after a recorded clock_gettime. Going back must land where going forward was, in the same
 * state (every register and the stack compared as gdb prints them), and the replay must go on forward
 * from there to the recorded end.
 */
class GdbReverseIT {
    /** The rounds, spelled so that this test's processes are recognisable in the process table. */
    private static final String ROUNDS = "0005";

    @TempDir
    Path dir;

    private Path rec;
    private String recordedOutput;

    @BeforeEach
    void record() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        rec = dir.resolve("rec");
        Runs.Result recorded = Runs.deja(dir, "record", "-o", rec.toString(), "--", Samples.path("gdb_reverse"), ROUNDS);
        assertEquals(0, recorded.status(), recorded.stderr());
        recordedOutput = recorded.stdout();
        assertTrue(recordedOutput.startsWith("total "), recordedOutput);
    }

    @Test
    void reverseContinueGoesBackHitByHitToTheStartThenForwardToTheRecordedEnd() throws Exception {
        Session s = debug("""
                break step
                continue
                continue
                continue
                continue
                print round
                reverse-continue
                print round
                reverse-continue
                print round
                reverse-continue
                print round
                reverse-continue
                continue
                print round
                continue
                print round
                delete
                continue
                """);
        String g = s.gdb();
        // 101 (round 1's second call), then back: 1 (across no call), 100 (across round 1's clock_gettime), 0.
        assertTrue(g.contains("$1 = 101\n"), g);
        assertTrue(g.contains("$2 = 1\n"), g);
        assertTrue(g.contains("$3 = 100\n"), g);
        assertTrue(g.contains("$4 = 0\n"), g);
        assertTrue(g.contains("No more reverse-execution history."), g);
        // From the start of the history forward again: the same hits in the same order, then the recorded end.
        assertTrue(g.contains("$5 = 0\n"), g);
        assertTrue(g.contains("$6 = 100\n"), g);
        assertTrue(Pattern.compile("\\[Inferior 1 \\(process \\d+\\) exited normally\\]").matcher(g).find(), g);
        assertEquals(0, s.deja().status(), s.deja().stderr());
        assertEquals(recordedOutput, s.deja().stdout(), s.deja().stderr());
        assertNoCopiesLeft();
    }

    @Test
    void goingBackLandsInTheStateGoingForwardHad() throws Exception {
        Session s = debug("""
                break step
                continue
                continue
                continue
                echo ==A==\\n
                info registers
                x/32gx $sp
                echo ==end==\\n
                stepi
                stepi
                stepi
                echo ==B==\\n
                info registers
                x/32gx $sp
                echo ==end==\\n
                reverse-stepi
                reverse-stepi
                reverse-stepi
                echo ==A==\\n
                info registers
                x/32gx $sp
                echo ==end==\\n
                stepi
                stepi
                stepi
                echo ==B==\\n
                info registers
                x/32gx $sp
                echo ==end==\\n
                continue
                print round
                reverse-continue
                echo ==A==\\n
                info registers
                x/32gx $sp
                echo ==end==\\n
                kill
                """);
        String g = s.gdb();
        List<String> a = blocks(g, "A");
        List<String> b = blocks(g, "B");
        assertEquals(3, a.size(), g);
        assertEquals(2, b.size(), g);
        assertTrue(a.get(0).contains("rip            0x") && a.get(0).contains("<step+"), g);
        // stepi, reverse-stepi and stepi again: the very same registers and stack each time.
        assertEquals(a.get(0), a.get(1), "three reverse-stepi after three stepi:\n" + g);
        assertEquals(b.get(0), b.get(1), "three stepi after three reverse-stepi:\n" + g);
        assertFalse(a.get(0).equals(b.get(0)), g);
        // reverse-continue from the next hit: back at this one, in the same state.
        assertTrue(g.contains("$1 = 101\n"), g);
        assertEquals(a.get(0), a.get(2), "reverse-continue back to round 1's first hit:\n" + g);
        assertNoCopiesLeft();
    }

    @Test
    void reverseNextReverseStepAndReverseFinishWalkTheSourceBack() throws Exception {
        Session s = debug("""
                break step
                continue
                continue
                continue
                next
                next
                reverse-next
                reverse-next
                print round
                finish
                reverse-step
                delete
                reverse-finish
                print round
                kill
                """);
        String g = s.gdb();
        // next, next: lines 18 and 19; back by line: 18, then 17 (the line the breakpoint is on).
        assertTrue(g.contains("18\t    total += v;\n19\t    return v;\n18\t    total += v;\n"), g);
        assertTrue(g.contains("$1 = 1\n"), g);
        // finish returns to main; reverse-step goes back into step's last line; reverse-finish back to the call.
        assertTrue(Pattern.compile("main \\(.*\\) at gdb_reverse\\.c:32\n32\t.*\nValue returned is \\$\\d+ = \\d+\n").matcher(g).find(), g);
        assertTrue(Pattern.compile("step \\(round=1, nanos=\\d+\\) at gdb_reverse\\.c:20\n20\t}\n").matcher(g).find(), g);
        assertTrue(Pattern.compile("0x[0-9a-f]+ in main \\(.*\\) at gdb_reverse\\.c:31\n31\t        step\\(round, ts\\.tv_nsec\\);\n")
                .matcher(g).find(), g);
        assertTrue(g.contains("$3 = 1\n"), g); // ($2: the value finish printed)
        assertNoCopiesLeft();
    }

    @Test
    void monitorCheckpointRestartAndInfoCheckpoints() throws Exception {
        Session s = debug("""
                break step
                continue
                continue
                continue
                monitor checkpoint
                echo ==A==\\n
                info registers
                x/32gx $sp
                echo ==end==\\n
                continue
                continue
                print round
                monitor info checkpoints
                monitor restart 1
                maint flush register-cache
                maint flush dcache
                print round
                echo ==A==\\n
                info registers
                x/32gx $sp
                echo ==end==\\n
                continue
                print round
                monitor delete checkpoint 1
                monitor restart 1
                monitor help
                delete
                continue
                """);
        String g = s.gdb();
        assertTrue(Pattern.compile("Checkpoint 1 at event #\\d+ \\(after the call, in code\\), pc 0x[0-9a-f]+").matcher(g).find(), g);
        assertTrue(g.contains("$1 = 2\n"), g);
        assertTrue(Pattern.compile("\n  1  event #\\d+ \\(after the call, in code\\), pc 0x[0-9a-f]+\n").matcher(g).find(), g);
        assertTrue(Pattern.compile("deja holds \\d+ process copies to go back from \\(events #\\d+").matcher(g).find(), g);
        assertTrue(g.contains("deja: at event #"), g);
        // Back at round 1's first hit, in the same state; forward from there as recorded.
        assertTrue(g.contains("$2 = 1\n"), g);
        List<String> a = blocks(g, "A");
        assertEquals(2, a.size(), g);
        assertEquals(a.get(0), a.get(1), g);
        assertTrue(g.contains("$3 = 101\n"), g);
        assertTrue(g.contains("Deleted checkpoint 1\n"), g);
        assertTrue(g.contains("deja: no checkpoint 1 ('monitor info checkpoints' lists them)"), g);
        assertTrue(g.contains("restart N"), g);
        assertEquals(1, count(g, "exited normally"), g);
        assertEquals(0, s.deja().status(), s.deja().stderr());
        assertEquals(recordedOutput, s.deja().stdout(), s.deja().stderr());
        assertNoCopiesLeft();
    }

    @Test
    void reverseContinueStopsAtCaughtSyscallsGoingBack() throws Exception {
        // Each round's clock_gettime is caught at its entry and its return; going back from round 1's return
        // meets, in turn, round 1's entry, round 0's return and round 0's entry, then the start of the history.
        Session s = debug("""
                catch syscall clock_gettime
                continue
                continue
                continue
                continue
                echo ==forward==\\n
                reverse-continue
                reverse-continue
                up
                print round
                down
                reverse-continue
                reverse-continue
                echo ==back-at-start==\\n
                continue
                continue
                up
                print round
                delete
                continue
                """);
        String g = s.gdb();
        String back = g.substring(g.indexOf("==forward=="), g.indexOf("==back-at-start=="));
        List<String> stops = Pattern.compile("Catchpoint 1 \\((call to|returned from) syscall clock_gettime\\)").matcher(back)
                .results().map(r -> r.group(1)).toList();
        assertEquals(List.of("call to", "returned from", "call to"), stops, g);
        assertTrue(back.contains("$1 = 0\n"), g); // round 0's return
        assertTrue(back.contains("No more reverse-execution history."), g);
        String after = g.substring(g.indexOf("==back-at-start=="));
        List<String> forward = Pattern.compile("Catchpoint 1 \\((call to|returned from) syscall clock_gettime\\)").matcher(after)
                .results().map(r -> r.group(1)).toList();
        assertEquals(List.of("call to", "returned from"), forward, g); // forward again: round 0's entry, then its return
        assertTrue(after.contains("$2 = 0\n"), g);
        assertEquals(1, count(g, "exited normally"), g);
        assertEquals(0, s.deja().status(), s.deja().stderr());
        assertEquals(recordedOutput, s.deja().stdout(), s.deja().stderr());
        assertNoCopiesLeft();
    }

    @Test
    void monitorGotoMovesToARecordedCallBackAndForward() throws Exception {
        // Round 1's clock_gettime and round 3's, by their event numbers in the recording.
        List<Long> clocks = Runs.events(rec).stream()
                .filter(e -> e instanceof SyscallEvent c && c.nr() == 228 /* clock_gettime */).map(e -> e.seq()).toList();
        long round1 = clocks.get(1);
        long round3 = clocks.get(3);
        Session s = debug("""
                catch syscall clock_gettime
                continue
                continue
                continue
                echo ==A==\\n
                info registers
                echo ==end==\\n
                delete
                break report
                continue
                monitor goto %d
                maint flush register-cache
                maint flush dcache
                monitor when
                echo ==A==\\n
                info registers
                echo ==end==\\n
                monitor goto %d
                monitor when
                monitor goto 1000000
                monitor goto x
                continue
                delete
                continue
                """.formatted(round1, round3));
        String g = s.gdb();
        assertTrue(g.contains("deja: at event #" + round1 + " (at the call's entry)"), g);
        assertTrue(g.contains("Current event: " + round1 + " "), g);
        List<String> a = blocks(g, "A");
        assertEquals(2, a.size(), g);
        assertEquals(a.get(0), a.get(1), g); // the entry reached by goto is the one catch syscall stopped at
        assertTrue(g.contains("Current event: " + round3 + " "), g);
        assertTrue(g.contains("deja: no call of this process at or after event #1000000"), g);
        assertTrue(g.contains("deja: monitor goto N needs an event number"), g);
        assertEquals(2, count(g, "Breakpoint 2, report"), g); // and forward from round 3 to the end, as recorded
        assertEquals(1, count(g, "exited normally"), g);
        assertEquals(0, s.deja().status(), s.deja().stderr());
        assertEquals(recordedOutput, s.deja().stdout(), s.deja().stderr());
        assertNoCopiesLeft();
    }

    @Test
    void reverseContinueWithAWatchpointStopsBeforeEachStoreThatChangedIt() throws Exception {
        // Round 1's first step(), then three stores into total: step's (total += v), and the loop's k = 1 and
        // k = 2 (k = 0 adds nothing: no stop). Back: before k = 2's store, before k = 1's, before step's; forward again.
        Session s = debug("""
                break step
                continue
                continue
                continue
                delete
                watch -l total
                continue
                continue
                continue
                reverse-continue
                print total
                reverse-continue
                print total
                reverse-continue
                print total
                continue
                reverse-stepi
                print total
                continue
                kill
                """);
        String g = s.gdb();
        Matcher m = Pattern.compile("Hardware watchpoint 2: -location total\n\nOld value = (-?\\d+)\nNew value = (-?\\d+)\n"
                + "(?:0x[0-9a-f]+ in )?(\\w+) \\(.*\\) at gdb_reverse\\.c:(\\d+)\n").matcher(g);
        List<String> stops = new java.util.ArrayList<>();
        List<Long> olds = new java.util.ArrayList<>();
        List<Long> news = new java.util.ArrayList<>();
        while (m.find()) {
            olds.add(Long.parseLong(m.group(1)));
            news.add(Long.parseLong(m.group(2)));
            stops.add(m.group(3) + ":" + m.group(4));
        }
        // Forward, each stop after its store; back, each stop on its store's line, before it ran (gdb shows the
        // value before the store as the new one, as with rr or gdb's own record); forward again after it; a
        // reverse-stepi over that store is a watch stop too (gdb keeps the value), and forward stops after it again.
        assertEquals(List.of("step:19", "main:32", "main:32", "main:32", "main:32", "step:18", "step:19", "step:18",
                "step:19"), stops, g);
        long before = olds.get(0);
        long afterStep = news.get(0);
        assertTrue(afterStep > before, g);
        assertEquals(List.of(before, afterStep, afterStep + 1, afterStep + 3, afterStep + 1, afterStep, before, afterStep,
                before), olds, g);
        assertEquals(List.of(afterStep, afterStep + 1, afterStep + 3, afterStep + 1, afterStep, before, afterStep, before,
                afterStep), news, g);
        assertTrue(g.contains("$1 = " + (afterStep + 1) + "\n"), g);
        assertTrue(g.contains("$2 = " + afterStep + "\n"), g);
        assertTrue(g.contains("$3 = " + before + "\n"), g);
        assertTrue(g.contains("$4 = " + before + "\n"), g);
        assertTrue(g.contains("32\t        for (int k = 0; k < 3; k++) total += k * round;\n"), g);
        assertTrue(g.contains("18\t    total += v;\n"), g);
        assertFalse(g.contains("deja cannot go back"), g);
        assertFalse(g.contains("did not find the place again"), g);
        assertNoCopiesLeft();
    }

    @Test
    void reverseContinueFindsTheRecordedReadThatWroteTheWatchedField() throws Exception {
        // gdb_watch: set_len stores 8 into len, add_len 12, add_len(0) the same 12, then a recorded read of the
        // 12-byte header DEJA/16/7 writes 16; then 300 stores into the same page (not into len) before checksum().
        Path input = dir.resolve("hdr.bin");
        Files.write(input, new byte[] {'D', 'E', 'J', 'A', 16, 0, 0, 0, 7, 0, 0, 0});
        Path watchRec = dir.resolve("watch-rec");
        GdbReplays.record(dir, watchRec, 7, Samples.path("gdb_watch"), input.toString(), "300");
        Session s = GdbReplays.run(dir, watchRec, Samples.path("gdb_watch"), """
                break load
                break checksum
                continue
                watch -l hdr->len
                continue
                continue
                continue
                continue
                reverse-continue
                bt 2
                print the_header.len
                reverse-continue
                print the_header.len
                reverse-stepi
                print the_header.len
                reverse-next
                continue
                reverse-continue
                reverse-continue
                reverse-continue
                continue
                kill
                """);
        String g = s.gdb();
        // From checksum's breakpoint (after the 300 stores that left len alone), the last change of len was the
        // read: the stop is that call, before it ran (len still 12), in read, called from load's line 37.
        assertTrue(g.contains("Breakpoint 2, checksum ("), g);
        assertTrue(Pattern.compile("Breakpoint 2, checksum \\(.*\\n.*\\n\\nHardware watchpoint 3: -location hdr->len\n\n"
                + "Old value = 16\nNew value = 12\n0x[0-9a-f]+ in \\S*read \\(").matcher(g).find(), g);
        assertTrue(Pattern.compile("(?m)^#1  0x[0-9a-f]+ in load \\(.*\\) at gdb_watch\\.c:37$").matcher(g).find(), g);
        assertTrue(g.contains("$1 = 12\n"), g);
        // Then add_len's store, before it ran; reverse-stepi and reverse-next work with the watchpoint set, and
        // going forward from there stops after that store again.
        assertTrue(Pattern.compile("Old value = 12\nNew value = 8\n0x[0-9a-f]+ in add_len \\(.*\\) at gdb_watch\\.c:28\n"
                + "28\t    hdr->len \\+= more;\n").matcher(g).find(), g);
        assertTrue(g.contains("$2 = 8\n"), g);
        assertTrue(g.contains("$3 = 8\n"), g); // one instruction before the store: not written yet
        assertTrue(Pattern.compile("Old value = 8\nNew value = 12\nadd_len \\(.*\\) at gdb_watch\\.c:29\n").matcher(g).find(), g);
        // Back again: add_len's store, set_len's, load's breakpoint; forward: set_len's store.
        assertEquals(2, count(g, "Old value = 12\nNew value = 8\n"), g);
        assertTrue(Pattern.compile("Old value = 8\nNew value = 0\n0x[0-9a-f]+ in set_len \\(.*\\) at gdb_watch\\.c:24\n"
                + "24\t    hdr->len = len;\n").matcher(g).find(), g);
        assertEquals(2, count(g, "Breakpoint 1, load ("), g);
        assertEquals(2, count(g, "Old value = 0\nNew value = 8\nset_len ("), g);
        assertFalse(g.contains("did not find the place again"), g);
        assertNoCopiesLeft(Samples.path("gdb_watch"), "300");
    }

    @Test
    void threadsGoBackFromTheCheckpointTakenBeforeTheyStarted() throws Exception {
        Path threads = dir.resolve("threads");
        String exe = Samples.path("gdb_threads");
        GdbReplays.record(dir, threads, 6, exe);
        Session s = GdbReplays.run(dir, threads, exe, """
                break work
                continue
                print id
                continue
                print id
                reverse-continue
                print id
                monitor info checkpoints
                delete
                continue
                """);
        String g = s.gdb();
        Matcher first = Pattern.compile("\\$1 = (\\d)\n").matcher(g);
        assertTrue(first.find(), g);
        Matcher second = Pattern.compile("\\$2 = (\\d)\n").matcher(g);
        assertTrue(second.find(), g);
        assertFalse(first.group(1).equals(second.group(1)), g);
        // back from the second worker's call of work() to the first's, by its name and id
        assertTrue(g.contains("$3 = " + first.group(1) + "\n"), g);
        assertEquals(2, count(g, "\"worker-" + first.group(1) + "\" hit Breakpoint 1, work (id=" + first.group(1) + ")"), g);
        // copies only from before the threads started (a forked copy would hold one thread): #12 and maybe more
        Matcher held = Pattern.compile("deja holds (\\d+) process copies to go back from \\(events #12[ )]").matcher(g);
        assertTrue(held.find(), g);
        assertTrue(g.contains("exited with code 06"), g);
        assertEquals(6, s.deja().status(), s.deja().stderr());
        assertNoCopiesLeft();
    }

    @Test
    void theShellsGdbCommandGoesBackToTheCallItHandedOver() throws Exception {
        Process deja = new ProcessBuilder(Runs.launcher().toString(), "debug", rec.toString()).redirectErrorStream(true).start();
        StringBuffer shell = new StringBuffer();
        Thread reader = Thread.ofPlatform().start(() -> {
            byte[] buf = new byte[4096];
            try (java.io.InputStream in = deja.getInputStream()) {
                for (int n; (n = in.read(buf)) > 0; ) shell.append(new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8));
            } catch (java.io.IOException e) {
                shell.append("\n[reading the shell failed: ").append(e.getMessage()).append("]\n");
            }
        });
        try {
            java.io.PrintStream toShell = new java.io.PrintStream(deja.getOutputStream(), true, java.nio.charset.StandardCharsets.UTF_8);
            // round 1's clock_gettime: gdb's history starts at this call
            toShell.println("break clock_gettime\ncontinue\ncontinue\ngdb 0");
            String address = GdbReplays.awaitAddress(deja, shell);
            Path commands = dir.resolve("script.gdb");
            Files.writeString(commands, "set pagination off\nset confirm off\ntarget extended-remote " + address + "\n" + """
                    break step
                    continue
                    continue
                    print round
                    reverse-continue
                    print round
                    reverse-continue
                    continue
                    print round
                    delete
                    detach
                    """);
            Runs.Result gdb = Runs.run(null, List.of(GDB.toString(), "-nx", "-batch", "-x", commands.toString(),
                    Samples.path("gdb_reverse")), java.time.Duration.ofSeconds(120));
            toShell.println("delete\ncontinue\nquit");
            toShell.close();
            assertTrue(deja.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the shell did not end: " + shell);
            reader.join();
            String g = gdb.stdout() + gdb.stderr();
            String out = shell.toString();
            assertTrue(g.contains("$1 = 101\n"), g);
            assertTrue(g.contains("$2 = 1\n"), g);
            assertTrue(g.contains("No more reverse-execution history.\n__GI___clock_gettime ("), g);
            assertTrue(g.contains("$3 = 1\n"), g);
            assertTrue(out.contains("deja: gdb detached: the shell stops at the replay's next call"), out);
            assertTrue(out.contains("[the program exited with status 0]"), out);
            assertTrue(out.contains(recordedOutput), out);
            assertEquals(0, deja.exitValue(), out);
        } finally {
            deja.descendants().forEach(ProcessHandle::destroyForcibly);
            deja.destroyForcibly();
        }
        assertNoCopiesLeft();
    }

    private Session debug(String script) throws Exception {
        return GdbReplays.run(dir, rec, Samples.path("gdb_reverse"), script);
    }

    /** The text between each {@code ==NAME==} line and the next {@code ==end==}. */
    private static List<String> blocks(String gdb, String name) {
        Matcher m = Pattern.compile("==" + name + "==\n(.*?)==end==", Pattern.DOTALL).matcher(gdb);
        List<String> found = new java.util.ArrayList<>();
        while (m.find()) found.add(m.group(1));
        return found;
    }

    /** deja has ended: no copy of the program (a checkpoint, a restored run) is left behind. */
    private static void assertNoCopiesLeft() throws InterruptedException {
        assertNoCopiesLeft(Samples.path("gdb_reverse"), ROUNDS);
    }

    /** As above, for {@code program} run with {@code lastArgument} last. */
    private static void assertNoCopiesLeft(String program, String lastArgument) throws InterruptedException {
        List<String> left = List.of();
        for (int i = 0; i < 20; i++) {
            left = ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                    .filter(c -> c.contains(program) && c.endsWith(" " + lastArgument) && !c.contains("deja")).toList();
            if (left.isEmpty()) return;
            Thread.sleep(100);
        }
        throw new AssertionError("processes left: " + left);
    }
}
