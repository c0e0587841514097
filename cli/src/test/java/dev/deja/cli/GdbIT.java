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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deja replay --gdb} with the real gdb in batch mode: a program that reads a header through a
 * recorded read and parses it (samples/c/gdb_header.c) is recorded, its input changed and its output
 * removed, then replayed under gdb, which must see the recorded bytes, the real stack, the shared
 * libraries and the recorded exit status, while the replay writes nothing.
 */
class GdbIT {

    @TempDir
    Path dir;

    @Test
    void gdbBreaksStepsAndReadsTheRecordedValues() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path input = dir.resolve("hdr.bin");
        Path output = dir.resolve("out.txt");
        Files.write(input, new byte[] {'D', 'E', 'J', 'A', 16, 0, 0, 0, 7, 0, 0, 0, 'r', 'e', 's', 't'});
        Path rec = dir.resolve("rec");
        String exe = Samples.path("gdb_header");
        GdbReplays.record(dir, rec, 7, exe, input.toString(), output.toString());
        assertEquals("version 7\n", Files.readString(output));
        // The replay must not read the file again, nor write its output again.
        Files.writeString(input, "XXXX");
        Files.delete(output);

        Session s = debug(rec, exe, """
                break parse_header
                continue
                bt
                print n
                print buf[0]@4
                print/x buf[8]
                python
                try:
                    gdb.execute("set var n = 1")
                except gdb.error as e:
                    print("write refused: " + str(e))
                end
                print n
                next
                x/i $pc
                stepi
                x/i $pc
                set can-use-hw-watchpoints 0
                watch hdr->version
                continue
                delete 2
                info sharedlibrary
                info threads
                monitor when
                continue
                """);
        String g = s.gdb();
        assertTrue(g.contains("Breakpoint 1, parse_header (buf=") && g.contains("n=16"), g);
        assertTrue(Pattern.compile("(?m)^#0  parse_header \\(.*\\) at gdb_header\\.c:\\d+$").matcher(g).find(), g);
        assertTrue(Pattern.compile("(?m)^#1  0x[0-9a-f]+ in main \\(argc=3, .*\\) at gdb_header\\.c:\\d+$").matcher(g).find(), g);
        assertTrue(g.contains("$1 = 16\n"), g);
        assertTrue(g.contains("$2 = \"DEJA\"\n"), g);
        assertTrue(g.contains("$3 = 0x7\n"), g);
        assertTrue(g.contains("write refused: Cannot access memory"), g);
        assertTrue(g.contains("$4 = 16\n"), g);
        assertTrue(Pattern.compile("(?m)^24\\t    memcpy\\(hdr->magic, buf, 4\\);$").matcher(g).find(), g);
        Matcher pcs = Pattern.compile("(?m)^=> (0x[0-9a-f]+) <parse_header\\+\\d+>").matcher(g);
        assertTrue(pcs.find(), g);
        String beforeStep = pcs.group(1);
        assertTrue(pcs.find(), g);
        assertFalse(beforeStep.equals(pcs.group(1)), "stepi moved the pc: " + g);
        // gdb's software watchpoint: it single-steps, the server steps
        assertTrue(g.contains("Old value = 0\nNew value = 7\n"), g);
        assertTrue(Pattern.compile("(?m)^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +\\S*libc\\.so\\.6$").matcher(g).find(), g);
        assertTrue(Pattern.compile("(?m)^\\* 1 +Thread \\d+\\.\\d+ \"gdb_header\"").matcher(g).find(), g);
        assertTrue(g.contains("Current event: "), g);
        assertTrue(g.contains("exited with code 07"), g);

        assertEquals(7, s.deja().status(), s.deja().stderr());
        assertEquals("header DEJA len 16 version 7\n", s.deja().stdout(), s.deja().stderr());
        assertTrue(s.deja().stderr().contains("gdb asked to write memory: refused"), s.deja().stderr());
        assertFalse(Files.exists(output), "the replay wrote the program's output file");
        assertEquals("XXXX", Files.readString(input));
    }

    @Test
    void anExecutableChangedSinceTheRecordingIsServedFromItsCopyAndQuittingGdbEndsTheReplay() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path input = dir.resolve("hdr.bin");
        Files.write(input, new byte[] {'D', 'E', 'J', 'A', 1, 0, 0, 0, 3, 0, 0, 0});
        Path exe = dir.resolve("gdb_header");
        Files.copy(Path.of(Samples.path("gdb_header")), exe);
        Path rec = dir.resolve("rec");
        GdbReplays.record(dir, rec, 3, exe.toString(), input.toString());
        // Rebuilt since: not the recorded program any more.
        Files.write(exe, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
        // No executable on gdb's command line: it takes the one the server names (qXfer:exec-file).
        Session s = debug(rec, null, """
                break main
                continue
                info inferiors
                """);
        assertTrue(s.gdb().contains("Breakpoint 1, main (argc=2"), s.gdb());
        assertTrue(Pattern.compile("connect with: gdb -ex 'target extended-remote [0-9.:]+' \\S*/blobs/\\S+\n")
                .matcher(s.deja().stderr()).find(), s.deja().stderr());
        assertTrue(Pattern.compile("(?m)^\\* 1 .*/blobs/").matcher(s.gdb()).find(), s.gdb());
        assertEquals(GdbReplay.KILLED_BY_GDB, s.deja().status(), s.deja().stderr());
        assertTrue(s.deja().stderr().contains("gdb killed the program: the replay ends"), s.deja().stderr());
        assertEquals("", s.deja().stdout());
        assertTrue(ProcessHandle.allProcesses().noneMatch(p -> p.info().command().orElse("").endsWith("/gdb_header")
                || p.info().arguments().map(a -> a.length > 0 && a[a.length - 1].equals(input.toString())).orElse(false)),
                "a replayed process outlived the replay");
    }

    @Test
    void catchSyscallThenDetachingLetsTheReplayRunToItsEnd() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path input = dir.resolve("hdr.bin");
        Files.write(input, new byte[] {'D', 'E', 'J', 'A', 1, 0, 0, 0, 4, 0, 0, 0});
        Path rec = dir.resolve("rec");
        String exe = Samples.path("gdb_header");
        GdbReplays.record(dir, rec, 4, exe, input.toString());
        // catch syscall: the loader's read of libc, then the program's read of the header, each at entry and return.
        Session s = debug(rec, exe, """
                catch syscall read
                continue
                continue
                continue
                continue
                print $rax
                print *(char (*)[4]) $rsi
                delete 1
                break parse_header
                continue
                detach
                """);
        assertEquals(2, count(s.gdb(), "(call to syscall read)"), s.gdb());
        assertEquals(2, count(s.gdb(), "(returned from syscall read)"), s.gdb());
        assertTrue(s.gdb().contains("$1 = 12\n"), s.gdb());
        assertTrue(s.gdb().contains("$2 = \"DEJA\"\n"), s.gdb());
        assertTrue(s.gdb().contains("Breakpoint 2, parse_header ("), s.gdb());
        assertTrue(Pattern.compile("\\[Inferior 1 \\(process \\d+\\) detached\\]").matcher(s.gdb()).find(), s.gdb());
        assertEquals(4, s.deja().status(), s.deja().stderr());
        assertEquals("header DEJA len 1 version 4\n", s.deja().stdout(), s.deja().stderr());
        assertTrue(s.deja().stderr().contains("gdb detached: the replay runs on to the end"), s.deja().stderr());
    }

    @Test
    void anInterruptFromGdbStopsTheProgramAtItsNextRecordedCall() throws Exception {
        assumeTrue(Files.isExecutable(GDB), "gdb is not installed");
        Path rec = dir.resolve("rec");
        String exe = Samples.path("getppid_loop");
        GdbReplays.record(dir, rec, 0, exe, "120000");
        Path out = dir.resolve("deja.out");
        Path err = dir.resolve("deja.err");
        Process deja = new ProcessBuilder(Runs.launcher().toString(), "replay", "--gdb=127.0.0.1:0", rec.toString())
                .redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            String address = awaitAddress(deja, err);
            // Not in batch mode: gdb reads its commands from a pipe and takes the stop between them.
            Process gdb = new ProcessBuilder(GDB.toString(), "-nx", "-q", exe).redirectErrorStream(true).start();
            var toGdb = new java.io.PrintStream(gdb.getOutputStream(), true, StandardCharsets.UTF_8);
            toGdb.println("set pagination off\nset confirm off\ntarget extended-remote " + address + "\ncontinue &");
            Thread.sleep(1000); // the replay of 120 000 calls takes several seconds: it is well under way
            toGdb.println("interrupt");
            Thread.sleep(1500);
            toGdb.println("bt 2\nmonitor when\nkill\nquit");
            assertTrue(gdb.waitFor(60, TimeUnit.SECONDS), "gdb did not end");
            String g = new String(gdb.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(g.contains("Program received signal SIGINT, Interrupt."), g);
            assertTrue(Pattern.compile("#1  0x[0-9a-f]+ in main \\(").matcher(g).find(), g);
            Matcher when = Pattern.compile("Current event: (\\d+) \\(the last recorded call the replay reached: #\\d+ getppid").matcher(g);
            assertTrue(when.find(), g);
            assertTrue(Long.parseLong(when.group(1)) > 30, g);
            assertTrue(deja.waitFor(60, TimeUnit.SECONDS), "deja did not end after gdb: " + Files.readString(err));
            assertEquals(GdbReplay.KILLED_BY_GDB, deja.exitValue(), Files.readString(err));
        } finally {
            deja.descendants().forEach(ProcessHandle::destroyForcibly);
            deja.destroyForcibly();
        }
    }

    private Session debug(Path rec, String exe, String script) throws IOException, InterruptedException {
        return GdbReplays.run(dir, rec, exe, script);
    }
}
