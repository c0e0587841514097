package dev.deja.cli.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shell's commands offline (no replay), over {@link Events}: exact output for the moving and listing commands. */
class DebuggerTest {
    private final StringWriter text = new StringWriter();
    private final Debugger d = new Debugger(Events.timeline(), new PrintWriter(text), Style.PLAIN, null);

    /** Runs the commands and returns what they printed. */
    private String run(String... commands) {
        text.getBuffer().setLength(0);
        for (String c : commands) assertTrue(d.execute(c), c);
        return text.toString();
    }

    private long at() {
        return d.timeline().stop(d.position()).seq();
    }

    @Test
    void startsAtTheFirstCallAndMoves() {
        d.start();
        assertTrue(text.toString().startsWith("deja: 14 calls, 2 process(es), 2 thread(s); offline (--no-exec: nothing runs)"), text.toString());
        assertEquals(2, at());
        assertEquals("deja #2 [100]> ", d.prompt());
        assertEquals("#3 [pid 100] openat(AT_FDCWD, \"/etc/app.conf\", O_RDONLY|O_CLOEXEC) = 3\n", run("step"));
        run("s 2");
        assertEquals(5, at());
        run("next 2");
        assertEquals(8, at(), "signals are not stops");
        run("n");
        assertEquals(9, at());
        run("goto 14");
        assertEquals(14, at());
        run("next -t");
        assertEquals(16, at(), "the next call of pid 200");
        run("rs");
        assertEquals(14, at());
        run("next -t 5");
        assertEquals(d.timeline().size(), d.position(), "the thread has no 5 more calls: the end");
        assertEquals("deja (end)> ", d.prompt());
        assertEquals("error: the run is over; 'run' starts it again, 'goto EVENT' goes back (step)\n", run("step"));
        assertEquals("#19 [pid 100] exit_group(0) = ?\n", run("reverse-step"));
        run("run");
        assertEquals(2, at());
        run("until 12");
        assertEquals(12, at());
        assertEquals("error: event 3 is behind the current one (#12); 'goto 3' goes back\n", run("until 3"));
        run("goto #3");
        assertEquals(3, at());
        run("finish process");
        assertEquals(19, at(), "the process's last call");
        run("goto 14", "finish process");
        assertEquals(16, at());
        run("finish process");
        assertEquals(18, at(), "from a process's last call, one on");
        assertEquals("goto 1000: the recording's last event is #20: going to the end of the run\n"
                + "[end of the recording: the program exited with status 0]\n", run("goto 1000"));
    }

    @Test
    void breakpointsContinueAndReverseContinue() {
        d.start();
        assertEquals("Breakpoint 1: openat (3 recorded calls match)\n", run("break openat"));
        assertEquals("Breakpoint 2: signal=SIGUSR1 (1 recorded call match)\n", run("b signal=SIGUSR1"));
        assertEquals("Breakpoint 1, #3 [pid 100] openat(AT_FDCWD, \"/etc/app.conf\", O_RDONLY|O_CLOEXEC) = 3\n", run("c"));
        run("c");
        assertEquals(4, at());
        run("c");
        assertEquals(5, at());
        assertEquals("   #7 [pid 100] --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=100, si_uid=1000} ---\n"
                + "Breakpoint 2, #8 [pid 100] rt_sigreturn(NULL) = 0\n", run("continue"));
        run("goto 7");
        assertEquals(8, at());
        run("disable 1");
        run("reverse-continue");
        assertEquals(2, at(), "no enabled breakpoint before: the start");
        run("enable", "goto 19", "rc");
        assertEquals(8, at());
        run("rc");
        assertEquals(5, at());
        assertEquals("Num  Enb  Hits  What\n1    y    4     openat\n2    y    2     signal=SIGUSR1\n", run("info breakpoints"));
        assertEquals("deleted 1 breakpoint\n", run("delete 2"));
        assertEquals("disabled 1 breakpoint\n", run("disable"));
        assertEquals("[end of the recording: the program exited with status 0]\n", run("c"));
        assertEquals("deleted 1 breakpoint\nno breakpoints\n", run("delete", "info b"));
    }

    @Test
    void inspectionOffline() {
        d.start();
        run("goto 6");
        String info = run("info");
        assertTrue(info.startsWith("#6 [pid 100] read(4, \"hello\", 64) = 5\n"
                + "  process   pid 100 (ppid 1) app  exe /usr/bin/app  cwd /home/u  uid 1000\n"
                + "  thread    tid 100\n"), info);
        assertTrue(info.contains("  call      read (nr 0)\n"), info);
        assertTrue(info.contains("  arg0      fd                 = 0x4 (4)\n"), info);
        assertTrue(info.contains("  result    5 (0x5)\n"), info);
        assertTrue(info.contains("  outputs   1 block, 5 bytes"), info);
        assertTrue(info.endsWith("  state     offline: as recorded\n"), info);
        assertEquals("outputs:\n  output arg1 at 0x5000, 5 bytes: \"hello\"\n"
                + "    0000  68 65 6c 6c 6f                                    |hello|\n", run("print outputs"));
        assertEquals("result = 5 (0x5)\n", run("p result"));
        run("goto 4");
        assertEquals("result = -1 ENOENT (No such file or directory), raw -2\n", run("print result"));
        assertEquals("errno = ENOENT\n", run("print errno"));
        assertTrue(run("print arg1").startsWith("arg1 = 0x1000 (4096) \"/etc/missing.conf\"\n  input arg1 at 0x1000, 18 bytes"));
        for (String live : List.of("regs", "info registers", "x/4xg $rsp", "maps", "p $rip")) {
            assertTrue(run(live).contains(" needs a live replay: this session browses the recording only (--no-exec)"), live);
        }
        assertEquals("descriptors of pid 100 before #4 (as recorded):\n    0  stdin (inherited)\n    1  stdout (inherited)\n"
                + "    2  stderr (inherited)\n    3  /etc/app.conf                            opened at #3, close-on-exec\n", run("fds"));
        run("goto 14");
        assertEquals("  tid 100 (pid 100)  #18 [pid 100] write(1, \"ok\\n\", 3) = 3\n"
                + "* tid 200 (pid 200)  #14 [pid 200] execve(\"/bin/tool\", NULL, NULL) = 0\n".replace("NULL, NULL", run("print").lines().findFirst()
                .orElseThrow().replaceAll(".*execve\\(\"/bin/tool\", (.*)\\) = 0", "$1")), run("threads"));
        String ps = run("processes");
        assertTrue(ps.startsWith("  pid 100 app (1 thread)  next #18 [pid 100] write(1, \"ok\\n\", 3) = 3\n* pid 200 "), ps);
        run("goto 19");
        assertTrue(run("processes").contains("  pid 200 tool (1 thread)  exited with status 7"), run("processes"));
    }

    @Test
    void listAndSearch() {
        d.start();
        run("goto 8");
        assertEquals("   #6 [pid 100] read(4, \"hello\", 64) = 5\n"
                + "   #7 [pid 100] --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=100, si_uid=1000} ---\n"
                + "=> #8 [pid 100] rt_sigreturn(NULL) = 0\n"
                + "   #9 [pid 100] pipe2([5, 6], O_CLOEXEC) = 0\n", run("list -2 +1"));
        assertEquals("   #19 [pid 100] exit_group(0) = ?\n   #20 [pid 100] +++ exited with 0 +++\n", run("list +5 -1 20"));
        assertEquals("   #3 [pid 100] openat(AT_FDCWD, \"/etc/app.conf\", O_RDONLY|O_CLOEXEC) = 3\n"
                + "   #4 [pid 100] openat(AT_FDCWD, \"/etc/missing.conf\", O_RDONLY) = -1 ENOENT (No such file or directory)\n"
                + "2 matches\n", run("search /\\.conf/"));
        assertEquals("   #17 [pid 200] +++ exited with 7 +++\n1 match\n", run("/exited with 7/"));
        assertEquals("0 matches\n", run("search /nothing here/"));
        assertTrue(run("search /[/").startsWith("error: search: bad regex: "));
    }

    @Test
    void helpAndMistakes() {
        d.start();
        String help = run("help");
        for (Help.Entry e : Help.COMMANDS) assertTrue(help.contains(e.usage()), e.name());
        assertEquals("goto EVENT | test:ID [end] | time [DATE] HH:MM:SS[.mmm][ZONE]   (also: g)\n  Go to event EVENT, forwards"
                + " or backwards (backwards re-runs the replay from the nearest earlier checkpoint, or the start); test:ID goes to the start (or end) of a marked"
                + " test, ID its name, unique id or a unique suffix of one; time goes to the first wall-clock read that"
                + " returned that time or later (a log line's timestamp; the recorded TZ unless a zone is given).\nExamples:\n"
                + "  goto 17\n  goto 1042\n  goto test:CacheTest#evicts\n  goto test:CacheTest#evicts end\n"
                + "  goto time 12:03:04.123\n  goto time 2026-12-02 12:03:04Z\n", run("help goto"));
        assertEquals("error: unknown command 'jump' (try 'help')\n", run("jump 3"));
        assertEquals("", run("", "   ", "# a comment"));
        assertFalse(d.execute("quit"));
        assertFalse(d.execute("q"));
    }
}
