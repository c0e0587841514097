package dev.deja.cli;

import static dev.deja.cli.GdbReplays.GDB;
import static dev.deja.cli.GdbReplays.awaitAddress;
import static dev.deja.cli.GdbReplays.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.deja.samples.Samples;
import dev.deja.cli.GdbReplays.Session;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gdb on a threaded replay, with the real gdb in batch mode: every thread listed with its recorded
 * name, breakpoints hit by workers reported on them, each thread's stack, steps of a thread the
 * replay holds; python's threads; and {@code deja debug}'s {@code gdb} command handing a stop to gdb
 * and getting it back.
 */
class GdbThreadsIT {
    private static final Pattern HIT = Pattern.compile("Thread (\\d+) \"worker-(\\d)\" hit Breakpoint 1, work \\(id=(\\d)\\)");

    @TempDir
    Path dir;

    @Test
    void everyThreadOfACProgramIsListedNamedAndUnwound() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path rec = dir.resolve("rec");
        String exe = Samples.path("gdb_threads");
        GdbReplays.record(dir, rec, 6, exe);

        Session s = gdb(rec, exe, """
                break work
                continue
                info threads
                thread apply all bt
                print id
                echo ==step of a held thread==\\n
                thread 1
                stepi
                echo ==locked==\\n
                delete
                set scheduler-locking on
                thread 1
                stepi
                info threads
                set scheduler-locking off
                continue
                """);
        String g = s.gdb();
        // the first stop: a worker hit the breakpoint, reported on that worker
        Matcher hit = HIT.matcher(g);
        assertTrue(hit.find(), g);
        assertEquals(hit.group(2), hit.group(3), "the stop names the thread that hit it: " + g);
        String first = hit.group(2);
        String listing = g.substring(hit.end(), g.indexOf("==step of a held thread=="));
        // info threads: all four, the recorded names, the stopped worker current
        assertTrue(Pattern.compile("(?m)^  1 +Thread \\d+\\.\\d+ \"gdb_threads\" ").matcher(listing).find(), g);
        for (String w : List.of("1", "2", "3")) {
            assertTrue(Pattern.compile("(?m)^[* ] \\d +Thread \\d+\\.\\d+ \"worker-" + w + "\" ").matcher(listing).find(), g);
        }
        assertTrue(Pattern.compile("(?m)^\\* " + hit.group(1) + " +Thread \\d+\\.\\d+ \"worker-" + first
                + "\" \\(recorded tid \\d+\\) +work \\(id=" + first + "\\)").matcher(listing).find(), g);
        // thread apply all bt: each worker's stack through start_thread, main's through main
        assertEquals(3, count(listing, " in start_thread ("), g);
        assertEquals(4, count(listing, "\nThread "), g);
        assertTrue(Pattern.compile("#\\d+ +0x[0-9a-f]+ in main \\(\\) at gdb_threads\\.c:\\d+").matcher(listing).find(), g);
        assertTrue(listing.contains("$1 = " + first + "\n"), g);
        // stepi on main, held in pthread_join: the replay runs the threads before it in the recorded order, and
        // another worker's breakpoint comes first (all-stop: gdb's step of main ends there)
        String stepped = g.substring(g.indexOf("==step of a held thread=="), g.indexOf("==locked=="));
        Matcher second = HIT.matcher(stepped);
        assertTrue(second.find(), g);
        assertEquals(second.group(2), second.group(3), g);
        assertFalse(second.group(2).equals(first), g);
        // with scheduler-locking and no breakpoint: main's step completes, the others having run as recorded
        String locked = g.substring(g.indexOf("==locked=="));
        assertTrue(Pattern.compile("(?m)^\\* 1 +Thread \\d+\\.\\d+ \"gdb_threads\" ").matcher(locked).find(), g);
        assertTrue(g.contains("exited with code 06"), g);
        assertEquals(6, s.deja().status(), s.deja().stderr());
        assertTrue(s.deja().stdout().endsWith("sum 6\n"), s.deja().stdout());
    }

    @Test
    void aNewThreadTheReplayHoldsStepsWhenTheReplayReleasesIt() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path rec = dir.resolve("rec");
        String exe = Samples.path("gdb_threads");
        GdbReplays.record(dir, rec, 6, exe);
        // After the first clone3 returns in main, the new thread exists, held by the replay: at its start, or
        // (when the recording ran it first) at a call of its own, whose step is that call.
        Session s = gdb(rec, exe, """
                catch syscall clone3
                continue
                continue
                delete
                thread 2
                x/i $pc
                stepi
                x/i $pc
                stepi
                x/i $pc
                info threads
                kill
                """);
        String g = s.gdb();
        assertTrue(g.contains("(returned from syscall clone3)"), g);
        Matcher pcs = Pattern.compile("(?m)^=> 0x([0-9a-f]+) <").matcher(g);
        long[] pc = new long[3];
        for (int i = 0; i < 3; i++) {
            assertTrue(pcs.find(), g);
            pc[i] = Long.parseLong(pcs.group(1), 16);
        }
        // the thread moved (a step at a call is the call: the pc stays; the next one runs an instruction),
        // and the steps stopped on it, not on the thread gdb stopped first
        assertTrue(pc[1] != pc[0] || pc[2] != pc[1], g);
        assertTrue(Pattern.compile("(?m)^\\* 2 +Thread \\d+\\.\\d+ ").matcher(g).find(), g);
        assertFalse(g.contains("[Switching to Thread"), g);
        assertEquals(GdbReplay.KILLED_BY_GDB, s.deja().status(), s.deja().stderr());
    }

    @Test
    void pythonThreadsAreListedWithTheirStacks() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Runs.Result which = Runs.nativeRun("python3", "-c", "import sys; print(sys.executable)");
        assumeTrue(which.status() == 0, "no python3");
        // The interpreter itself (python3 may be a wrapper script that execs it: gdb follows one program).
        String python = Path.of(which.stdout().strip()).toRealPath().toString();
        Path script = dir.resolve("threads.py");
        Files.writeString(script, """
                import threading, time
                go = threading.Event()
                def work(i):
                    go.wait()
                    print("worker", i, flush=True)
                ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
                for t in ts: t.start()
                time.sleep(0.1)
                go.set()
                for t in ts: t.join()
                print("done")
                """);
        Path rec = dir.resolve("rec");
        GdbReplays.record(dir, rec, 0, python, script.toString());
        // At the main thread's sleep both workers exist, waiting for the event.
        Session s = gdb(rec, python, """
                catch syscall clock_nanosleep
                continue
                info threads
                thread apply all bt 1
                delete
                continue
                """);
        String g = s.gdb();
        assertTrue(g.contains("hit Catchpoint 1 (call to syscall clock_nanosleep)"), g);
        Set<String> ids = new HashSet<>();
        Matcher threads = Pattern.compile("(?m)^[* ] (\\d) +Thread \\d+\\.\\d+ \"").matcher(g);
        while (threads.find()) ids.add(threads.group(1));
        assertEquals(Set.of("1", "2", "3"), ids, g);
        assertEquals(3, count(g, "\n#0  "), g);
        assertTrue(g.contains("exited normally"), g);
        assertEquals(0, s.deja().status(), s.deja().stderr());
    }

    @Test
    void theShellsGdbCommandHandsTheStopToGdbAndTakesItBack() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path rec = dir.resolve("rec");
        String exe = Samples.path("gdb_threads");
        GdbReplays.record(dir, rec, 6, exe);
        Process deja = new ProcessBuilder(Runs.launcher().toString(), "debug", rec.toString()).redirectErrorStream(true).start();
        StringBuffer shell = new StringBuffer();
        Thread reader = Thread.ofPlatform().start(() -> copy(deja.getInputStream(), shell));
        try {
            PrintStream toShell = new PrintStream(deja.getOutputStream(), true, StandardCharsets.UTF_8);
            toShell.println("break write fd=1\ncontinue\ngdb 0");
            String address = awaitAddress(deja, shell);
            Path commands = dir.resolve("script.gdb");
            Files.writeString(commands, "set pagination off\nset confirm off\ntarget extended-remote " + address + "\n"
                    + "bt\ninfo threads\nbreak work\ncontinue\nbt 2\ndetach\n");
            Runs.Result gdb = Runs.run(null, List.of(GDB.toString(), "-nx", "-batch", "-x", commands.toString(), exe),
                    java.time.Duration.ofSeconds(120));
            toShell.println("info threads\ndelete\ncontinue\nquit");
            toShell.close();
            assertTrue(deja.waitFor(60, TimeUnit.SECONDS), "the shell did not end: " + shell);
            reader.join();
            String g = gdb.stdout() + gdb.stderr();
            String out = shell.toString();
            // gdb starts at the shell's stop: a worker's write, inside libc's write called by work()
            Matcher stop = Pattern.compile("Breakpoint 1, #(\\d+) \\[pid (\\d+)\\] write\\(1, \"worker (\\d) works").matcher(out);
            assertTrue(stop.find(), out);
            assertTrue(Pattern.compile("(?m)^#\\d +0x[0-9a-f]+ in work \\(id=" + stop.group(3) + "\\) at gdb_threads\\.c:\\d+")
                    .matcher(g).find(), g);
            assertTrue(g.contains(" in start_thread ("), g);
            // the thread gdb starts on is the shell's, by name and by recorded tid
            assertTrue(Pattern.compile("(?m)^\\* \\d +Thread \\d+\\.\\d+ \"worker-" + stop.group(3) + "\" \\(recorded tid "
                    + stop.group(2) + "\\) ").matcher(g).find(), g);
            assertTrue(HIT.matcher(g).find(), g);
            assertTrue(Pattern.compile("\\[Inferior 1 \\(process \\d+\\) detached\\]").matcher(g).find(), g);
            // the shell has its stop back, later in the run, and goes on from there
            assertTrue(out.contains("deja: gdb detached: the shell stops at the replay's next call"), out);
            Matcher back = Pattern.compile("the shell stops at the replay's next call\n(?:worker \\d works\n)*#(\\d+) \\[pid").matcher(out);
            assertTrue(back.find(), out);
            assertTrue(Long.parseLong(back.group(1)) > Long.parseLong(stop.group(1)), out);
            assertTrue(out.contains("[the program exited with status 6]"), out);
            assertEquals(0, deja.exitValue(), out);
        } finally {
            deja.descendants().forEach(ProcessHandle::destroyForcibly);
            deja.destroyForcibly();
        }
    }

    private static void copy(InputStream in, StringBuffer to) {
        byte[] buf = new byte[4096];
        try (in) {
            for (int n; (n = in.read(buf)) > 0; ) to.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        } catch (IOException e) {
            to.append("\n[reading the shell failed: ").append(e.getMessage()).append("]\n");
        }
    }

    private Session gdb(Path rec, String exe, String script) throws IOException, InterruptedException {
        return GdbReplays.run(dir, rec, exe, script);
    }
}
