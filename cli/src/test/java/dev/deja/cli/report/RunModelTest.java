package dev.deja.cli.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.cli.report.RunModel.Lane;
import dev.deja.cli.report.RunModel.OutputLine;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.formats.pack.Packs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model a report draws, built from a recording of the threads sample (stored) and from a written one. */
class RunModelTest {
    private static final SyscallTable X86 = SyscallTable.of(Arch.X86_64);
    private static final long T = 1_800_000_000_000_000_000L;

    @TempDir
    Path tmp;

    @Test
    void threadsHangUnderTheirProcessOverTheirLives() throws Exception {
        Path pack = Path.of(RunModelTest.class.getResource("/fixtures/threads-exit-before-clone-returns.deja").toURI());
        RunModel m;
        try (Recording rec = Recording.openOwned(Packs.unpackToTemp(pack))) {
            m = RunModelBuilder.build(rec, "threads.deja");
        }
        List<Lane> lanes = m.lanes();
        assertEquals(5, lanes.size(), lanes::toString);
        Lane main = lanes.getFirst();
        assertEquals(14523, main.pid());
        assertTrue(main.process());
        assertEquals(-1, main.parent());
        assertEquals("exited with 0", main.end());
        assertEquals("threads", main.name());
        for (Lane t : lanes.subList(1, 5)) {
            assertEquals(14523, t.pid());
            assertEquals(0, t.parent(), t::toString);
            assertEquals(1, t.depth());
            assertTrue(t.startNs() >= main.startNs() && t.endNs() <= main.endNs(), t::toString);
            assertFalse(t.failed());
        }
        assertEquals(List.of(14524, 14525, 14526, 14527), lanes.subList(1, 5).stream().map(Lane::tid).toList());

        EventTable e = m.events();
        // Grouped by lane, in time order within a lane.
        for (int i = 1; i < e.size(); i++) {
            assertTrue(e.lane(i) > e.lane(i - 1) || e.lane(i) == e.lane(i - 1) && e.startNs(i) >= e.startNs(i - 1), "row " + i);
        }
        int spawns = 0;
        for (int i = 0; i < e.size(); i++) {
            if (e.kind(i) == EventTable.Kind.SPAWN) {
                spawns++;
                assertEquals(0, e.lane(i));
                assertTrue(e.has(i, EventTable.MARK));
            }
        }
        assertEquals(4, spawns);
        int clone3 = row(e, "clone3(");
        assertEquals(CallClass.PROCESS, e.callClass(clone3));
        assertEquals(55, e.seq(clone3));
        int access = row(e, "access(\"/etc/ld.so.preload\"");
        assertTrue(e.has(access, EventTable.FAILED));
        assertTrue(e.detail(access).startsWith("error: ENOENT (No such file or directory)"), e.detail(access));
        assertTrue(e.text(access).endsWith(", R_OK) = -1 ENOENT (No such file or directory)"), "strace's column is gone: " + e.text(access));
        assertEquals(CallClass.MEMORY, e.callClass(row(e, "mprotect(")));
        int fstat = row(e, "newfstatat(3, \"\"");
        assertEquals(CallClass.FILE, e.callClass(fstat));
        assertTrue(e.detail(fstat).startsWith("wrote 144 bytes at 0x"), e.detail(fstat));

        RunModel.Summary s = m.summary();
        assertEquals("threads.deja", s.recording());
        assertEquals(List.of("samples/target/bin/threads"), s.command());
        assertEquals(0, s.exitStatus());
        assertEquals("exited with 0", s.exitText());
        assertEquals(List.of(), s.failures());
        assertTrue(s.complete());
        assertEquals(222, s.eventCount());
        List<OutputLine> out = m.output();
        assertEquals(9, out.size(), out::toString);
        assertEquals(new OutputLine(1, 14523, 212, "threads 4, rounds 2, records 24 of 20 bytes", false), out.getFirst());
        assertEquals(new OutputLine(1, 14523, 220, "barrier generations: 2", false), out.getLast());
        assertTrue(e.has(e.indexOf(212), EventTable.OUTPUT));
        assertEquals("threads", m.contexts().get(14523).getFirst().context().comm());
    }

    @Test
    void outputLinesLeadToTheirWritesAndTheFailureIsFound() throws Exception {
        Path dir = tmp.resolve("rec");
        List<Event> events = new ArrayList<>();
        events.add(new ExecEvent(1, 100, 100, T + 1_000, 100, "/bin/app", List.of("app"), "", new long[0], new byte[16]));
        events.add(new ContextEvent(2, 100, 100, T + 1_100, new ProcessContext(100, 1, 1000, 1000, 1000, 1000, "app", "/bin/app", "/w")));
        events.add(write(3, 100, 100, T + 2_000, 1, "hello "));
        events.add(write(4, 100, 100, T + 3_000, 1, "world\nsecond: FAILED\nthird"));
        events.add(write(5, 100, 100, T + 4_000, 2, "oops\n"));
        events.add(syscall(6, 100, 100, T + 5_000, "openat", new long[] {-100, 0x1000, 0, 0, 0, 0},
                List.of(new MemoryBlock(1, 0x1000, "/nope\0".getBytes(StandardCharsets.UTF_8))), -2, List.of()));
        events.add(new SpawnEvent(7, 100, 100, T + 6_000, SpawnEvent.Kind.THREAD, 100, 102, 0x3d0f00));
        byte[] name = Arrays.copyOf("worker-1".getBytes(StandardCharsets.UTF_8), 16);
        events.add(syscall(8, 100, 102, T + 7_000, "prctl", new long[] {15, 0x2000, 0, 0, 0, 0},
                List.of(new MemoryBlock(1, 0x2000, name)), 0, List.of()));
        events.add(new SpawnEvent(9, 100, 100, T + 8_000, SpawnEvent.Kind.FORK, 101, 101, 0));
        events.add(new ContextEvent(10, 101, 101, T + 8_500, new ProcessContext(101, 100, 1000, 1000, 1000, 1000, "child", "/bin/app", "/w")));
        events.add(new SignalEvent(11, 101, 101, T + 9_000, 11, 1, 0, 0, new byte[128], true));
        events.add(new ExitEvent(12, 101, 101, T + 9_500, true, 0, 11, true));
        events.add(write(13, 100, 102, T + 10_000, 1, " end\n"));
        events.add(new ExitEvent(14, 100, 102, T + 11_000, false, 0, 0, false));
        events.add(new ExitEvent(15, 100, 100, T + 12_000, true, 1, 0, false));
        RecordingHeader h = RecordingHeader.forCommand(List.of("app", "--x"), Map.of("USER", "qa"), "/w", 1000, 1000,
                "6.8.0", "x86_64", "host1", T);
        try (RecordingWriter w = RecordingWriter.create(dir, h)) {
            for (Event e : events) w.append(e);
            w.finish(new RecordingSummary(RecordingStatus.COMPLETE, T + 13_000, 1, events.size(), 2));
        }
        RunModel m;
        try (Recording rec = Recording.open(dir)) {
            m = RunModelBuilder.build(rec, "rec");
        }

        // A line belongs to the write of its first byte; a line cut by another stream's write stays whole.
        List<OutputLine> out = m.output();
        assertEquals(List.of("hello world", "second: FAILED", "oops", "third end"), out.stream().map(OutputLine::text).toList());
        assertEquals(List.of(3L, 4L, 5L, 4L), out.stream().map(OutputLine::seq).toList());
        assertEquals(List.of(1, 1, 2, 1), out.stream().map(OutputLine::stream).toList());
        assertEquals(List.of(false, true, false, false), out.stream().map(OutputLine::marker).toList());

        // Lanes: the process, its thread (named as it named itself), then the child process.
        List<Lane> lanes = m.lanes();
        assertEquals(3, lanes.size(), lanes::toString);
        assertEquals(List.of(100, 102, 101), lanes.stream().map(Lane::tid).toList());
        assertEquals(List.of("app", "worker-1", "child"), lanes.stream().map(Lane::name).toList());
        assertEquals(List.of(-1, 0, 0), lanes.stream().map(Lane::parent).toList());
        assertEquals("killed by SIGSEGV (core dumped)", lanes.get(2).end());
        assertTrue(lanes.get(2).failed() && lanes.get(0).failed() && !lanes.get(1).failed());
        assertEquals(6_000, lanes.get(1).startNs(), "a thread's life begins at its spawn");
        assertEquals(11_000, lanes.get(1).endNs());

        EventTable e = m.events();
        int failedWrite = e.indexOf(4);
        assertTrue(e.has(failedWrite, EventTable.OUTPUT) && e.has(failedWrite, EventTable.FATAL), "the write of FAILED is marked");
        assertFalse(e.has(e.indexOf(3), EventTable.FATAL));
        assertTrue(e.has(e.indexOf(15), EventTable.FATAL), "the program's non-zero exit");
        assertTrue(e.has(e.indexOf(12), EventTable.FATAL), "the child's death by a signal");
        assertEquals(EventTable.Kind.SIGNAL, e.kind(e.indexOf(11)));
        assertEquals(CallClass.SIGNALS, e.callClass(e.indexOf(11)));
        assertTrue(e.has(e.indexOf(6), EventTable.FAILED));
        assertEquals(-1, e.indexOf(2), "context events are not drawn");

        RunModel.Summary s = m.summary();
        assertEquals(1, s.exitStatus());
        assertEquals("qa", s.user());
        assertEquals(13_000, s.durationNs(), "from the recording's start to its end");
        assertEquals(List.of("the program exited with 1", "pid 101 (child) was killed by SIGSEGV (core dumped)",
                "1 output line reports a failure (first: \"second: FAILED\")"), s.failures());
    }

    @Test
    void aTestTheListenersMarkersShowFailedIsAFailure() throws Exception {
        Path dir = tmp.resolve("tests");
        String id = "[engine:junit-jupiter]/[class:com.acme.CacheTest]/[method:evicts()]";
        List<Event> events = new ArrayList<>();
        events.add(new ExecEvent(1, 100, 100, T + 1_000, 100, "/bin/java", List.of("java"), "", new long[0], new byte[16]));
        events.add(write(2, 100, 100, T + 2_000, 9, "deja-test\t1\tstart\ttest\t" + id + "\tcom.acme.CacheTest#evicts\tevicts()\n"));
        events.add(write(3, 100, 100, T + 3_000, 9, "deja-test\t1\tend\ttest\t" + id + "\tcom.acme.CacheTest#evicts\tevicts()"
                + "\tfailed\tjava.lang.AssertionError: expected: <1> but was: <2>\n"));
        events.add(new ExitEvent(4, 100, 100, T + 4_000, true, 1, 0, false));
        RecordingHeader h = RecordingHeader.forCommand(List.of("java"), Map.of(), "/w", 0, 0, "6.8.0", "x86_64", "h", T);
        try (RecordingWriter w = RecordingWriter.create(dir, h)) {
            for (Event e : events) w.append(e);
            w.finish(new RecordingSummary(RecordingStatus.COMPLETE, T + 5_000, 1, events.size(), 1));
        }
        RunModel m;
        try (Recording rec = Recording.open(dir)) {
            m = RunModelBuilder.build(rec, "tests");
        }
        assertEquals(List.of("the program exited with 1",
                "test com.acme.CacheTest#evicts failed (events #2-#3): java.lang.AssertionError: expected: <1> but was: <2>"),
                m.summary().failures());
        assertEquals(List.of(), m.output(), "markers go to their own descriptor, not to the output");
    }

    @Test
    void anIncompleteRecordingEndsAtItsLastEvent() throws Exception {
        Path dir = tmp.resolve("cut");
        RecordingHeader h = RecordingHeader.forCommand(List.of("sleep", "60"), Map.of(), "/w", 0, 0, "6.8.0", "x86_64", "h", T);
        // The recorder died: no finish, no summary.
        try (RecordingWriter w = RecordingWriter.create(dir, h)) {
            w.append(new ExecEvent(1, 7, 7, T + 1_000, 7, "/bin/sleep", List.of("sleep", "60"), "", new long[0], new byte[16]));
            w.append(syscall(2, 7, 7, T + 2_000, "clock_nanosleep", new long[] {0, 0, 0x3000, 0, 0, 0}, List.of(), 0, List.of()));
        }
        RunModel m;
        try (Recording rec = Recording.open(dir)) {
            m = RunModelBuilder.build(rec, "cut");
        }
        RunModel.Summary s = m.summary();
        assertEquals("incomplete", s.status());
        assertFalse(s.complete());
        assertEquals(-1, s.exitStatus());
        assertEquals("", s.exitText());
        assertEquals(List.of(), s.failures(), "an unfinished run is not a failed one");
        assertEquals(2_000, s.durationNs(), "up to the last event kept");
        assertEquals(2, s.eventCount());
        Lane only = m.lanes().getFirst();
        assertEquals("", only.end());
        assertEquals(2_500, only.endNs(), "the call's exit");
        assertEquals(CallClass.WAIT, m.events().callClass(m.events().indexOf(2)));
    }

    @Test
    void classesComeFromStraceClassesWithWaitsFirst() {
        assertEquals(CallClass.WAIT, CallClass.classify("wait4"));
        assertEquals(CallClass.WAIT, CallClass.classify("futex"));
        assertEquals(CallClass.WAIT, CallClass.classify("clock_nanosleep"));
        assertEquals(CallClass.TIME, CallClass.classify("clock_gettime"));
        assertEquals(CallClass.NETWORK, CallClass.classify("connect"));
        assertEquals(CallClass.PROCESS, CallClass.classify("execve"));
        assertEquals(CallClass.SIGNALS, CallClass.classify("rt_sigaction"));
        assertEquals(CallClass.MEMORY, CallClass.classify("mmap"));
        assertEquals(CallClass.FILE, CallClass.classify("openat"));
        assertEquals(CallClass.FILE, CallClass.classify("read"));
        assertEquals(CallClass.OTHER, CallClass.classify("getrandom"));
        CallClass[] all = CallClass.of(X86);
        assertEquals(X86.size(), all.length);
        assertEquals(CallClass.FILE, all[X86.number("write").orElseThrow()]);
    }

    private static int row(EventTable e, String textPrefix) {
        for (int i = 0; i < e.size(); i++) if (e.text(i).startsWith(textPrefix)) return i;
        throw new AssertionError("no event " + textPrefix);
    }

    private static SyscallEvent write(long seq, int pid, int tid, long t, int fd, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return syscall(seq, pid, tid, t, "write", new long[] {fd, 0x5000, b.length, 0, 0, 0},
                List.of(new MemoryBlock(1, 0x5000, b)), b.length, List.of());
    }

    private static SyscallEvent syscall(long seq, int pid, int tid, long t, String name, long[] args, List<MemoryBlock> in,
                                        long result, List<MemoryBlock> out) {
        return new SyscallEvent(seq, pid, tid, t, t + 500, X86.number(name).orElseThrow(), args, in, result, out, 0);
    }
}
