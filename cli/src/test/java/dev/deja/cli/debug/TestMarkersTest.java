package dev.deja.cli.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * deja-junit's markers as the shell reads them: a JVM thread 11 named "main-runner" runs three tests
 * (one passing, one failing with a two-line message, one parameterized twice), one is skipped; the
 * journal holds the events out of order, as it does in completion order.
 */
class TestMarkersTest {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);
    private static final String EVICTS = "[engine:junit-jupiter]/[class:com.acme.CacheTest]/[method:evicts()]";
    private final List<Event> events = new ArrayList<>();
    private long seq = 1;

    private void call(int tid, String name, long[] args, long result, List<MemoryBlock> inputs) {
        events.add(new SyscallEvent(seq, 10, tid, seq * 1000, seq * 1000 + 10, TABLE.number(name).orElseThrow(), args, inputs,
                result, List.of(), 0));
        seq++;
    }

    private void marker(String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        call(11, "write", new long[] {9, 0x7000, b.length, 0, 0, 0}, b.length, List.of(new MemoryBlock(1, 0x7000, b)));
    }

    private void other() {
        call(11, "getpid", new long[6], 10, List.of());
    }

    private Timeline timeline() {
        call(10, "getpid", new long[6], 10, List.of());                                                             // #1
        call(11, "prctl", new long[] {15, 0x8000, 0, 0, 0, 0}, 0, List.of(new MemoryBlock(1, 0x8000,
                "main-runner\0\0\0\0\0".getBytes(StandardCharsets.UTF_8))));                                          // #2
        marker("deja-test\t1\tstart\ttest\t[engine:junit-jupiter]/[class:com.acme.CacheTest]/[method:keeps()]\tcom.acme.CacheTest#keeps\tkeeps()\n"); // #3
        other();                                                                                                     // #4
        marker("deja-test\t1\tend\ttest\t[engine:junit-jupiter]/[class:com.acme.CacheTest]/[method:keeps()]\tcom.acme.CacheTest#keeps\tkeeps()\tpassed\t\n"); // #5
        marker("deja-test\t1\tstart\ttest\t" + EVICTS + "\tcom.acme.CacheTest#evicts\tevicts()\n");                 // #6
        other();                                                                                                     // #7
        marker("deja-test\t1\tend\ttest\t" + EVICTS + "\tcom.acme.CacheTest#evicts\tevicts()\tfailed\t"
                + "java.lang.AssertionError: expected: <1>\\nbut was: <2>\n");                                       // #8
        for (int i = 1; i <= 2; i++) {
            String id = "[engine:junit-jupiter]/[class:com.acme.SizeTest]/[test-template:grows(int)]/[test-template-invocation:#" + i + "]";
            marker("deja-test\t1\tstart\ttest\t" + id + "\tcom.acme.SizeTest#grows\t[" + i + "] " + i + "\n");      // #9, #11
            marker("deja-test\t1\tend\ttest\t" + id + "\tcom.acme.SizeTest#grows\t[" + i + "] " + i + "\tpassed\t\n"); // #10, #12
        }
        marker("deja-test\t1\tskipped\ttest\t[engine:junit-jupiter]/[class:com.acme.CacheTest]/[method:later()]"
                + "\tcom.acme.CacheTest#later\tlater()\tskipped\tnot yet\n");                                        // #13
        call(10, "exit_group", new long[6], 0, List.of());                                                          // #14
        List<Event> journal = new ArrayList<>(events);
        java.util.Collections.reverse(journal);
        return Timeline.of(journal, Arch.X86_64);
    }

    @Test
    void pairsStartsAndEndsAndSummarises() {
        List<TestMarkers.TestRun> runs = TestMarkers.of(timeline().events(), TABLE);
        assertEquals(5, runs.size(), runs.toString());
        TestMarkers.TestRun evicts = runs.get(1);
        assertEquals("com.acme.CacheTest#evicts", evicts.name());
        assertEquals(6, evicts.startSeq());
        assertEquals(8, evicts.endSeq());
        assertEquals("java.lang.AssertionError: expected: <1>\nbut was: <2>", evicts.message());
        assertEquals("#6-#8             failed     com.acme.CacheTest#evicts: java.lang.AssertionError: expected: <1>\\nbut was: <2>",
                evicts.line());
        assertEquals("#9-#10            passed     com.acme.SizeTest#grows  ([1] 1)", runs.get(2).line());
        assertEquals("-                 skipped    com.acme.CacheTest#later: not yet", runs.get(4).line());
        assertEquals("5 tests: 3 passed, 1 failed, 0 aborted, 1 skipped", TestMarkers.summary(runs));
    }

    @Test
    void findsATestByNameSuffixOrUniqueId() {
        List<TestMarkers.TestRun> runs = TestMarkers.of(timeline().events(), TABLE);
        assertEquals(List.of(runs.get(1)), TestMarkers.find(runs, "CacheTest#evicts"));
        assertEquals(List.of(runs.get(1)), TestMarkers.find(runs, "com.acme.CacheTest#evicts"));
        assertEquals(List.of(runs.get(1)), TestMarkers.find(runs, EVICTS));
        assertEquals(List.of(), TestMarkers.find(runs, "heTest#evicts"), "a suffix starts at a name boundary");
        assertEquals(2, TestMarkers.find(runs, "SizeTest#grows").size());
        assertEquals(List.of(runs.get(3)), TestMarkers.find(runs, "[test-template-invocation:#2]"));
        assertEquals(List.of(runs.get(0)), TestMarkers.find(runs, "1"), "a number is the test's place in the list");
    }

    @Test
    void theShellListsGoesToAndStopsAtTests() {
        StringWriter text = new StringWriter();
        Debugger d = new Debugger(timeline(), new PrintWriter(text), Style.PLAIN, null);
        d.start();
        text.getBuffer().setLength(0);
        d.execute("goto test:CacheTest#evicts");
        assertEquals(6, d.timeline().stop(d.position()).seq());
        assertTrue(text.toString().startsWith("start of com.acme.CacheTest#evicts: #6\n#6 [pid 11] write(9, \"deja-test\\t1\\tstart"),
                text.toString());
        d.execute("goto test:CacheTest#evicts end");
        assertEquals(8, d.timeline().stop(d.position()).seq());
        text.getBuffer().setLength(0);
        d.execute("tests");
        assertTrue(text.toString().startsWith("   #3-#5             passed     com.acme.CacheTest#keeps\n"
                + "=> #6-#8             failed     com.acme.CacheTest#evicts"), text.toString());
        text.getBuffer().setLength(0);
        d.execute("goto test:SizeTest#grows");
        assertTrue(text.toString().startsWith("error: goto test:SizeTest#grows: 2 tests match"), text.toString());
        text.getBuffer().setLength(0);
        d.execute("goto test:CacheTest#later");
        assertEquals("error: goto test:CacheTest#later: the test never started (skipped)\n", text.toString());
        text.getBuffer().setLength(0);
        d.execute("goto test:Nope#x");
        assertTrue(text.toString().startsWith("error: goto test:Nope#x: no such test"), text.toString());
        d.execute("run");
        text.getBuffer().setLength(0);
        d.execute("break test");
        assertEquals("Breakpoint 1: test (4 recorded calls match)\n", text.toString());
        d.execute("continue");
        assertEquals(3, d.timeline().stop(d.position()).seq());
        d.execute("continue");
        assertEquals(6, d.timeline().stop(d.position()).seq());
        text.getBuffer().setLength(0);
        d.execute("threads");
        assertTrue(text.toString().contains("* tid 11 \"main-runner\" (pid 10)  #6 "), text.toString());
        text.getBuffer().setLength(0);
        d.execute("ps");
        assertTrue(text.toString().startsWith("* pid 10 "), text.toString());
        assertTrue(text.toString().contains("\n      threads: 11 \"main-runner\"\n"), "ps names a process's named threads:\n" + text);
    }
}
