package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deja debug} driven as CI drives it: commands on stdin (not a terminal) or in a {@code -x}
 * file, against recordings of the samples, live and offline. Every command of the shell is used;
 * going back with goto must land on the same registers and stack as going forward.
 */
class DebugIT {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.current());

    @TempDir
    static Path home;

    private static Path files;
    private static Path signals;
    private static Path threads;
    private static Path forkexec;
    private static String dump;

    @BeforeAll
    static void record() throws Exception {
        Path dir = Files.createDirectories(home.resolve("files-dir"));
        files = record("files", Samples.path("files"), dir.toString());
        signals = record("signals", Samples.path("signals"));
        threads = record("threads", Samples.path("threads"));
        forkexec = record("forkexec", Samples.path("forkexec"));
        dump = run("", "dump", "-n", files.toString()).stdout();
    }

    private static Path record(String name, String... command) throws Exception {
        return Runs.record(home, name, command);
    }

    /** Runs deja with {@code stdin} as its standard input (a file: not a terminal). */
    static Runs.Result run(String stdin, String... args) throws IOException, InterruptedException {
        return Runs.dejaPiped(home, Files.writeString(home.resolve("stdin.txt"), stdin), args);
    }

    /** The event number of the first dumped call whose text contains {@code text}. */
    private static long seqOf(String text) {
        for (String line : dump.lines().toList()) {
            if (line.contains(text)) return Long.parseLong(line.substring(1, line.indexOf(' ')));
        }
        throw new AssertionError("no call with " + text + " in\n" + dump);
    }

    /** The event number of the dumped call {@code by} lines after (or before) event {@code seq}. */
    private static long near(long seq, int by) {
        List<String> lines = dump.lines().filter(l -> l.startsWith("#")).toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("#" + seq + " ")) {
                String l = lines.get(i + by);
                return Long.parseLong(l.substring(1, l.indexOf(' ')));
            }
        }
        throw new AssertionError("no event " + seq);
    }

    private static Runs.Result debug(Path rec, String commands, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("debug"));
        args.addAll(List.of(options));
        args.add(rec.toString());
        return run(commands, args.toArray(String[]::new));
    }

    private static void contains(Runs.Result r, String... expected) {
        for (String e : expected) assertTrue(r.stdout().contains(e), "missing '" + e + "' in:\n" + r.stdout() + "\n" + r.stderr());
    }

    private static void matches(Runs.Result r, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(r.stdout()).find(),
                "no match for /" + regex + "/ in:\n" + r.stdout());
    }

    @Test
    void breakpointsOfEveryKindStopALiveReplay() throws Exception {
        long data = seqOf("openat(3, \"data.txt\"");
        long write4 = seqOf("write(4, ");
        long missing = seqOf("newfstatat(3, \"missing\"");
        long read = seqOf("read(4, \"recorded world");
        long dup3 = seqOf("dup3(4, 40");
        Runs.Result r = debug(files, String.join("\n",
                "break openat path=*data.txt",
                "break write fd=4",
                "info breakpoints",
                "continue",
                "continue",
                "break errno=ENOENT",
                "break read if arg2 == 64 && result > 0",
                "disable 2",
                "continue",
                "continue",
                "break event=" + dup3,
                "break %desc result=40",
                "continue",
                "delete",
                "info breakpoints",
                "continue",
                "quit", ""));
        assertEquals(0, r.status(), r.stderr());
        contains(r, "Breakpoint 1: openat path=*data.txt (1 recorded call match)",
                "Breakpoint 2: write fd=4 (", "1    y    0     openat path=*data.txt",
                "Breakpoint 1, #" + data + " [pid ", "Breakpoint 2, #" + write4 + " [pid ",
                "Breakpoint 4, #" + read + " [pid ", "Breakpoint 3, #" + missing + " [pid ",
                "Breakpoint 5, 6, #" + dup3 + " [pid ", "no breakpoints", "[the program exited with status 0]");
        // The program ran for real under the debugger: its output is there, up to each stop.
        contains(r, "openat data.txt O_CREAT -> fd 4", "files: ok");
        assertTrue(r.stdout().indexOf("openat dir -> fd 3") < r.stdout().indexOf("Breakpoint 1, #"), r.stdout());
    }

    @Test
    void signalPidAndTidBreakpoints() throws Exception {
        Runs.Result r = debug(signals, "break signal=SIGUSR1\ncontinue\ninfo\nquit\n");
        assertEquals(0, r.status(), r.stderr());
        matches(r, "^   #\\d+ \\[pid \\d+\\] --- SIGUSR1 \\{si_signo=SIGUSR1, si_code=SI_USER");
        matches(r, "^Breakpoint 1, #\\d+ \\[pid \\d+\\] rt_sigreturn");
        matches(r, "^  signal    SIGUSR1 delivered to the thread before this call \\(#\\d+\\)");

        Runs.Result procs = debug(forkexec, "break execve pid=0\nbreak %process\ncontinue\ncontinue\ncontinue\nprocesses\nquit\n");
        assertEquals(0, procs.status(), procs.stderr());
        contains(procs, "Breakpoint 1: execve pid=0 (0 recorded calls match)");
        Matcher child = Pattern.compile("^Breakpoint 2, #\\d+ \\[pid (\\d+)\\] execve\\(\"/bin/echo\"", Pattern.MULTILINE)
                .matcher(procs.stdout());
        assertTrue(child.find(), procs.stdout());
        // The focus is the process of the last stop; which call that is depends on how the recorded
        // run interleaved the parent's wait4 with the child's execve and exit_group.
        Matcher stop = Pattern.compile("^Breakpoint 2, #\\d+ \\[pid (\\d+)\\] ", Pattern.MULTILINE).matcher(procs.stdout());
        String last = null;
        while (stop.find()) last = stop.group(1);
        matches(procs, "^\\* pid " + last + " forkexec \\(1 thread, live pid \\d+\\)  next #\\d+ ");
        Runs.Result byPid = debug(forkexec, "break pid=" + child.group(1) + "\ncontinue\nquit\n");
        matches(byPid, "^Breakpoint 1, #\\d+ \\[pid " + child.group(1) + "\\] ");

        Runs.Result t = debug(threads, "break clone3\ncontinue\nnext\nthreads\nnext -t 2\nquit\n");
        assertEquals(0, t.status(), t.stderr());
        Matcher worker = Pattern.compile("^#\\d+ \\[pid (\\d+)\\] ", Pattern.MULTILINE).matcher(t.stdout());
        List<String> tids = new ArrayList<>();
        while (worker.find()) tids.add(worker.group(1));
        // "next -t 2" stays on the thread "next" landed on.
        assertEquals(tids.get(tids.size() - 2), tids.getLast(), t.stdout());
        matches(t, "^\\* tid " + tids.getLast() + " \\(pid \\d+\\)  #\\d+ ");
        matches(t, "^  tid \\d+ \\(pid \\d+\\)  not started yet; first call #\\d+ ");
        Runs.Result byTid = debug(threads, "break tid=" + tids.getLast() + "\ncontinue\nquit\n");
        matches(byTid, "^Breakpoint 1, #\\d+ \\[pid " + tids.getLast() + "\\] ");
    }

    @Test
    void movingForwardAndBack() throws Exception {
        long data = seqOf("openat(3, \"data.txt\"");
        long lseek = seqOf("lseek(4, 0, SEEK_CUR)"); // the last lseek before the newfstatat
        long missing = seqOf("newfstatat(3, \"missing\"");
        Runs.Result r = debug(files, String.join("\n",
                "step",
                "step 2",
                "next 3",
                "until " + data,
                "until 1",
                "goto " + missing,
                "reverse-step",
                "break lseek",
                "reverse-continue",
                "goto " + data,
                "finish process",
                "continue",
                "step",
                "run",
                "quit", ""));
        assertEquals(0, r.status(), r.stderr());
        List<String> stops = r.stdout().lines().filter(l -> l.matches("(Breakpoint \\d+, )?#\\d+ \\[pid \\d+\\] .*")).toList();
        String start = stops.getFirst();
        assertTrue(start.contains("execve("), start);
        assertTrue(stops.get(4).startsWith("#" + data + " "), stops.toString());
        contains(r, "error: event 1 is behind the current one (#" + data + "); 'goto 1' goes back");
        assertTrue(stops.get(5).startsWith("#" + missing + " "), stops.toString());
        assertTrue(stops.get(6).startsWith("#" + near(missing, -1) + " "), stops.toString());
        assertTrue(stops.get(7).startsWith("Breakpoint 1, #" + lseek + " "), stops.toString());
        contains(r, "going back: re-running the replay from the start to #" + near(missing, -1),
                "going back: re-running the replay from the start to #" + lseek);
        assertTrue(stops.get(9).contains("exit_group(0)"), stops.toString());
        contains(r, "[the program exited with status 0]",
                "error: the run is over; 'run' starts it again, 'goto EVENT' goes back (step)",
                "restarting the replay from its first event");
        assertEquals(start, stops.getLast());
    }

    @Test
    void gotoBackwardsLandsOnTheStateGoingForwardReached() throws Exception {
        long data = seqOf("openat(3, \"data.txt\"");
        long later = seqOf("newfstatat(3, \"missing\"");
        Runs.Result r = debug(files, String.join("\n",
                "goto " + data, "regs", "x/16xg $rsp", "x/s $rsi",
                "goto " + later,
                "goto " + data, "regs", "x/16xg $rsp", "x/s $rsi",
                "quit", ""));
        assertEquals(0, r.status(), r.stderr());
        List<String> regs = r.stdout().lines().filter(l -> l.matches("[a-z0-9_]+ +0x[0-9a-f]{16}  -?\\d+")).toList();
        assertEquals(2 * 27, regs.size(), r.stdout());
        assertEquals(regs.subList(0, 27), regs.subList(27, 54));
        assertTrue(regs.stream().anyMatch(l -> l.startsWith("orig_rax  0x0000000000000101")), regs.toString());
        List<String> stack = r.stdout().lines().filter(l -> l.matches("0x[0-9a-f]+:\t.*")).toList();
        assertEquals(2 * 9, stack.size(), r.stdout());
        assertEquals(stack.subList(0, 9), stack.subList(9, 18));
        assertTrue(stack.get(8).endsWith(":\t\"data.txt\""), stack.get(8));
    }

    @Test
    void inspectingTheLiveProcessAndTheRecordedCall() throws Exception {
        long data = seqOf("openat(3, \"data.txt\"");
        long read = seqOf("read(4, \"recorded world");
        Runs.Result r = debug(files, String.join("\n",
                "goto " + data, "info", "print", "print arg1", "p $orig_rax", "fds", "maps", "regs",
                "x/8xb $rsp", "x/2dw $rsp", "x/3c $rsi", "x/2ug $rsp+8", "x/1tb $rsi", "x/1ob $rsi", "x/1xh $rsi", "x/1a $rsp",
                "goto " + read, "print outputs", "print result", "fds",
                "list -2 +2", "list " + data, "search /ENOENT/", "/EINVAL/",
                "threads", "processes", "info event", "help", "help break", "quit", ""));
        assertEquals(0, r.status(), r.stderr());
        contains(r, "  call      openat (nr 257)", "  result    4 (0x4)",
                "  state     held at the call's entry; the replay has not made it yet",
                "  input arg1 at 0x", "    0000  64 61 74 61 2e 74 78 74  00", "|data.txt.|",
                "$orig_rax = 0x101 (257)", "orig_rax  0x0000000000000101  257", "[stack]",
                "outputs:", "  output arg1 at 0x", "\"recorded world\\n\"", "result = 15 (0xf)",
                "    4  " + home.resolve("files-dir") + "/data.txt", "opened at #" + data + ", close-on-exec",
                "Commands (abbreviations in parentheses)", "break [SYSCALLS] [TERM...] [if COND]   (also: b)",
                "  b errno=ENOENT");
        matches(r, "^    3  " + Pattern.quote(home.resolve("files-dir").toString()) + " +opened at #\\d+, close-on-exec$");
        matches(r, "^0x7f[0-9a-f]+:\t0x[0-9a-f]{2}\t0x[0-9a-f]{2}\t0x[0-9a-f]{2}\t0x[0-9a-f]{2}\t0x[0-9a-f]{2}\t0x[0-9a-f]{2}\t0x[0-9a-f]{2}\t0x[0-9a-f]{2}$");
        matches(r, "^0x[0-9a-f]+:\t100 'd'\t97 'a'\t116 't'$");
        matches(r, "^0x[0-9a-f]+:\t01100100$");
        matches(r, "^0x[0-9a-f]+:\t0144$");
        matches(r, "^0x[0-9a-f]+:\t0x6164$");
        matches(r, "^=> #" + read + " \\[pid \\d+\\] read\\(4, ");
        matches(r, "^   #" + near(read, -2) + " \\[pid \\d+\\] ");
        matches(r, "^   #\\d+ \\[pid \\d+\\] newfstatat\\(3, \"missing\".* = -1 ENOENT");
        matches(r, "^\\d+ matches$");
        matches(r, "^   #\\d+ \\[pid \\d+\\] dup3\\(4, 4, 0\\) = -1 EINVAL");
        matches(r, "^\\* tid \\d+ \\(pid \\d+\\)  #" + read + " ");
        matches(r, "^\\* pid \\d+ files \\(1 thread, live pid \\d+\\)  next #" + read + " ");
    }

    @Test
    void badCommandsSayWhatIsWrongAndTheSessionGoesOn() throws Exception {
        Runs.Result r = debug(files, String.join("\n",
                "frobnicate", "break nosuchcall", "break openat color=red", "break errno=ENOPE", "break read if arg9 > 1",
                "x/4q $rsp", "x/4x $nosuch", "goto", "until xyz", "delete 7", "info nonsense", "print arg7", "help nothing",
                "step", "quit", ""));
        assertEquals(0, r.status(), r.stderr());
        contains(r, "error: unknown command 'frobnicate' (try 'help')", "error: unknown syscall 'nosuchcall'",
                "error: unknown breakpoint term 'color=' (known: path fd result errno pid tid signal event)",
                "error: errno: unknown error name 'ENOPE'", "error: bad condition 'arg9 > 1'", "error: x: bad format '/4q'",
                "error: x: unknown register '$nosuch'", "error: which event? e.g. 'goto 1042'",
                "error: event: 'xyz' is not a number", "error: no breakpoint 7", "error: info: unknown subject 'nonsense'",
                "error: print: unknown 'arg7'", "error: help: no command 'nothing'");
        matches(r, "^#\\d+ \\[pid \\d+\\] brk\\(NULL\\)");
    }

    @Test
    void offlineBrowsingRunsNothing() throws Exception {
        long data = seqOf("openat(3, \"data.txt\"");
        long missing = seqOf("newfstatat(3, \"missing\"");
        Runs.Result r = debug(files, String.join("\n",
                "break errno=ENOENT", "continue", "continue", "info", "goto " + data, "print arg1", "fds", "regs", "x/4x $rsp",
                "maps", "reverse-step", "next 2", "list -1 +1", "search /data.txt/", "finish process", "step", "quit", ""), "--no-exec");
        assertEquals(0, r.status(), r.stderr());
        contains(r, "offline (--no-exec: nothing runs)", "Breakpoint 1, #" + missing + " [pid ",
                "  state     offline: as recorded", "#" + data + " [pid ", "#" + near(data, -1) + " [pid ", "#" + near(data, 1) + " [pid ",
                "error: regs needs a live replay: this session browses the recording only (--no-exec)",
                "error: x needs a live replay", "error: maps needs a live replay",
                "[end of the recording: the program exited with status 0]");
        assertFalse(r.stdout().contains("going back"), r.stdout());
        assertFalse(r.stdout().contains("files: ok"), "the program ran offline:\n" + r.stdout());
        matches(r, "^Breakpoint 1, #\\d+ \\[pid \\d+\\] access\\(\"/etc/ld.so.preload\", R_OK\\) = -1 ENOENT");
    }

    @Test
    void diffComparesThisRecordingWithAnother() throws Exception {
        Path missing = home.resolve("no-such-recording");
        Runs.Result r = debug(files, String.join("\n", "diff " + files, "diff " + threads + " -C 1", "diff",
                "diff " + missing, "diff " + files + " -C x", "quit", ""), "--no-exec");
        assertEquals(0, r.status(), r.stderr());
        contains(r, "--- A " + files, "+++ B " + files, "the runs are the same", "+++ B " + threads,
                "thread only in one run (created in B only)", "error: diff: which recording?",
                "error: diff: no recording at " + missing, "error: count: 'x' is not a number");
    }

    @Test
    void aCommandFileRunsFirstAndStartingAtAnEvent() throws Exception {
        long data = seqOf("openat(3, \"data.txt\"");
        Path script = Files.writeString(home.resolve("cmds.txt"), "# a comment\n\nbreak lseek\ncontinue\ninfo breakpoints\n");
        Runs.Result r = debug(files, "print result\n", "-x", script.toString(), "-g", Long.toString(data));
        assertEquals(0, r.status(), r.stderr());
        matches(r, "^#" + data + " \\[pid \\d+\\] openat");
        matches(r, "^Breakpoint 1, #\\d+ \\[pid \\d+\\] lseek\\(4, 7, SEEK_SET\\) = 7$");
        contains(r, "1    y    1     lseek", "result = 7 (0x7)");
        Runs.Result quits = debug(files, "print result\n", "-x", Files.writeString(home.resolve("q.txt"), "quit\n").toString());
        assertFalse(quits.stdout().contains("result ="), quits.stdout());
        Runs.Result missing = run("", "debug", "-x", home.resolve("none.txt").toString(), files.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, missing.status());
        assertTrue(missing.stderr().startsWith("deja: cannot read the command file "), missing.stderr());
    }

    /** A copy of the files recording whose lseek to 7 says 8: its replay diverges there. */
    private static Path tampered(long lseek, String name) throws Exception {
        Path tampered = home.resolve(name);
        int nr = TABLE.number("lseek").orElseThrow();
        try (Recording in = Recording.open(files); EventReader events = in.events();
             RecordingWriter out = RecordingWriter.create(tampered, in.header())) {
            Event e;
            while ((e = events.next()) != null) {
                if (e instanceof SyscallEvent s && s.seq() == lseek && s.nr() == nr) {
                    long[] args = s.args();
                    args[1] = 8;
                    e = new SyscallEvent(s.seq(), s.pid(), s.tid(), s.timeNs(), s.exitTimeNs(), s.nr(), args, s.inputs(),
                            s.result(), s.outputs(), s.flags());
                } else if (e instanceof ExecEvent x && !x.exeBlob().isEmpty()) {
                    out.storeBlob(in.blob(x.exeBlob()));
                } else if (e instanceof MappingEvent m && !m.blob().isEmpty()) {
                    out.storeBlob(in.blob(m.blob()));
                }
                out.append(e);
            }
            RecordingSummary summary = in.summary().orElseThrow();
            out.finish(new RecordingSummary(RecordingStatus.COMPLETE, summary.endTimeNs(), summary.exitStatus(),
                    summary.eventCount(), summary.processCount()));
        }
        return tampered;
    }

    @Test
    void aDivergenceEndsTheRunWithStatus124() throws Exception {
        long lseek = seqOf("lseek(4, 7, SEEK_SET)");
        Path tampered = tampered(lseek, "tampered");
        Runs.Result r = debug(tampered, "until " + lseek + "\ninfo\ncontinue\ninfo\nlist -1 +0\nquit\n");
        assertEquals(ExitCodes.DIVERGENCE, r.status(), r.stdout() + r.stderr());
        contains(r, "#" + lseek + " [pid ", "deja: the replay diverged from the recording: ",
                "error: the run is over: no current event ('goto EVENT' or 'run')");
        matches(r, "^deja:   #\\d+ \\[pid \\d+\\] ");
    }

    /** Issue 15: 'until' past a divergence was an IndexOutOfBoundsException; the shell stays usable. */
    @Test
    void theShellStaysUsableAfterADivergence() throws Exception {
        long lseek = seqOf("lseek(4, 7, SEEK_SET)");
        Path tampered = tampered(lseek, "tampered-until");
        long after = near(lseek, 3);
        Runs.Result r = debug(tampered, "until " + after + "\nuntil " + (after + 5) + "\nstep\ngoto 1\ninfo\nquit\n");
        assertFalse(r.stdout().contains("internal error") || r.stderr().contains("internal error"), r.stdout() + r.stderr());
        contains(r, "deja: the replay diverged from the recording: ",
                "error: the run is over (the replay diverged); 'goto " + (after + 5) + "' re-runs it from the start",
                "error: the run is over; 'run' starts it again",
                "#1 [pid ");
    }

    /** docs/debug.md's session: the files sample fails three calls with ENOENT (its search shows them). */
    @Test
    void searchFindsTheThreeFailuresDebugMdShows() throws Exception {
        Runs.Result r = debug(files, "search /ENOENT/\nquit\n", "--no-exec");
        contains(r, "access(\"/etc/ld.so.preload\", R_OK) = -1 ENOENT", "newfstatat(3, \"missing\"",
                "unlink(\"renamed.txt\") = -1 ENOENT", "3 matches");
    }

    /** Issue 15: typos get the likely command or syscall; gdb habits get what to use in deja. */
    @Test
    void mistakesGetHelp() throws Exception {
        Runs.Result r = debug(files, "contine\nbreak opnat\nbreak open\nbt\nwatch x\nstepi\ninfo frame\n"
                + "info sharedlibrary\ncheckpoint\nwhen\nquit\n", "--no-exec");
        contains(r, "error: unknown command 'contine' (did you mean 'continue'?)",
                "error: unknown syscall 'opnat' (did you mean 'openat'?)",
                "  open is never called in this recording; it calls openat (",
                "error: bt needs a live replay: this session browses the recording only (--no-exec)",
                "error: 'watch' is not a deja command: the shell stops at system calls",
                "error: 'stepi' is not a deja command: deja moves by system calls",
                "error: 'info frame' is not a deja command: deja has no frame selection: 'bt' lists the frames",
                "error: 'info sharedlibrary' is not a deja command: 'maps' lists",
                "error: checkpoint needs a live replay (not --no-exec)",
                "error: 'when' is not a deja command: the prompt shows the current event number");
        Runs.Result typo = run("", "replya", files.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, typo.status());
        assertTrue(typo.stderr().startsWith("deja: unknown command 'replya'; did you mean 'deja replay'?"), typo.stderr());
    }

    /** Issue 15: maps names the files the program mapped before deja's copies; info decodes arguments as the event line. */
    @Test
    void mapsAndInfoShowWhatTheProgramSaw() throws Exception {
        Runs.Result r = debug(files, "break openat path=*data.txt\ncontinue\ninfo\nmaps\nquit\n");
        contains(r, "O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC", "0640");
        matches(r, "(?m)^  arg2      flags.*= 0x[0-9a-f]+ \\(\\d+\\) O_RDWR\\|O_CREAT\\|O_EXCL\\|O_CLOEXEC$");
        matches(r, "(?m)^[0-9a-f]+-[0-9a-f]+ r-xp .* " + Pattern.quote(Samples.path("files").toString()) + "   \\(deja's copy: /.*\\)$");
        matches(r, "(?m)^[0-9a-f]+-[0-9a-f]+ r-xp .* /\\S*libc\\S*\\.so\\S*   \\(deja's copy: /.*/blobs/.*\\)$");
    }

    /** Issue 15: moves past either end say where they stopped and why. */
    @Test
    void movesPastEitherEndSaySo() throws Exception {
        Runs.Result r = debug(files, "reverse-step\ngoto -5\nstep 3\nreverse-step 9\ngoto 99999999\nstep\nquit\n");
        contains(r, "already at the first call (#1): nothing before it",
                "goto -5: events are numbered from 1: going to the first call (#1)",
                "reverse-step 9: only 3 calls before this one: going to the first (#1)",
                "goto 99999999: the recording's last event is #",
                "error: the run is over; 'run' starts it again");
        Runs.Result g = run("", "debug", "-g", "99999999", files.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, g.status(), g.stderr());
        assertTrue(g.stderr().contains("the recording has no event 99999999 (its events are numbered 1 to "), g.stderr());
    }
}
