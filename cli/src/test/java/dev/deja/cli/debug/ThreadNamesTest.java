package dev.deja.cli.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A JVM's threads as the shell names them: process 10 execs java; its launcher thread (10) starts the thread
 * that runs main() (11), which starts a HotSpot thread that names itself "VM Thread" (12); a sh (20) starts a
 * thread too, which stays unnamed (only java's first thread is main).
 */
class ThreadNamesTest {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);
    private final List<Event> events = new ArrayList<>();
    private long seq = 1;

    private void call(int pid, int tid, String name, long[] args, List<MemoryBlock> inputs) {
        events.add(new SyscallEvent(seq, pid, tid, seq * 1000, seq * 1000 + 10, TABLE.number(name).orElseThrow(), args, inputs,
                0, List.of(), 0));
        seq++;
    }

    private void exec(int pid, String path) {
        events.add(new ExecEvent(seq, pid, pid, seq * 1000, pid, path, List.of(path), "", new long[0], new byte[16]));
        seq++;
    }

    private void thread(int pid, int creator, int child) {
        events.add(new SpawnEvent(seq, pid, creator, seq * 1000, SpawnEvent.Kind.THREAD, pid, child, 0x3d0f00));
        seq++;
    }

    private Timeline timeline() {
        exec(10, "/usr/lib/jvm/java-17-openjdk-amd64/bin/java");                                   // #1
        thread(10, 10, 11);                                                                         // #2
        call(10, 11, "getpid", new long[6], List.of());                                             // #3
        thread(10, 11, 12);                                                                         // #4
        call(10, 12, "prctl", new long[] {15, 0x8000, 0, 0, 0, 0}, List.of(new MemoryBlock(1, 0x8000,
                "VM Thread\0".getBytes(StandardCharsets.UTF_8))));                                  // #5
        exec(20, "/bin/sh");                                                                        // #6
        thread(20, 20, 21);                                                                         // #7
        call(20, 21, "getpid", new long[6], List.of());                                             // #8
        call(10, 11, "getpid", new long[6], List.of());                                             // #9
        call(10, 12, "getpid", new long[6], List.of());                                             // #10
        call(20, 20, "getpid", new long[6], List.of());                                             // #11
        return Timeline.of(events, Arch.X86_64);
    }

    @Test
    void javasFirstThreadIsMainAndHotSpotsThreadsHaveTheirNames() {
        Timeline t = timeline();
        assertEquals(Optional.of("main"), t.threadName(11, 3));
        assertEquals(Optional.of("VM Thread"), t.threadName(12, 10));
        assertEquals(Optional.empty(), t.threadName(10, 3), "the launcher's own thread has no name");
        assertEquals(Optional.empty(), t.threadName(21, 8), "only java's first thread is main");

        StringWriter text = new StringWriter();
        Debugger d = new Debugger(t, new PrintWriter(text), Style.PLAIN, null);
        d.start();
        d.execute("goto 9");
        text.getBuffer().setLength(0);
        d.execute("threads");
        assertTrue(text.toString().contains("* tid 11 \"main\" (pid 10)  #9 "), text.toString());
        assertTrue(text.toString().contains("  tid 12 \"VM Thread\" (pid 10)  #10 "), text.toString());
        text.getBuffer().setLength(0);
        d.execute("ps");
        assertTrue(text.toString().contains("\n      threads: 11 \"main\", 12 \"VM Thread\"\n"), text.toString());
        assertTrue(!text.toString().contains("21 "), "sh's threads are not named:\n" + text);
    }
}
