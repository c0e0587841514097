package dev.deja.replayer.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.formats.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Comparison of runs built from event records: what counts as the same call once pointers and ids are
 * set aside, what is a control-flow difference and what only data, and how threads are matched.
 */
class RecordingDiffTest {

    private static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);

    /** Builds one run's events with consecutive sequence numbers. */
    private static final class Run {
        final int pid;
        final List<Event> events = new ArrayList<>();
        long seq;

        Run(int pid, long firstSeq) {
            this.pid = pid;
            this.seq = firstSeq;
        }

        Run call(int tid, String name, long[] args, long result, List<MemoryBlock> in, List<MemoryBlock> out) {
            long s = ++seq;
            events.add(new SyscallEvent(s, pidOf(tid), tid, s * 1000, s * 1000 + 1, TABLE.number(name).orElseThrow(),
                    args, in, result, out, 0));
            return this;
        }

        Run call(String name, long result, long... args) {
            return call(pid, name, six(args), result, List.of(), List.of());
        }

        Run write(int fd, String text, long address) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            return call(pid, "write", six(fd, address, b.length), b.length, List.of(new MemoryBlock(1, address, b)), List.of());
        }

        Run getrandom(byte value, long address) {
            return call(pid, "getrandom", six(address, 1, 0), 1, List.of(), List.of(new MemoryBlock(0, address, new byte[] {value})));
        }

        Run open(String path, long result) {
            byte[] p = (path + "\0").getBytes(StandardCharsets.UTF_8);
            return call(pid, "openat", six(-100, 0x7000, 0, 0), result, List.of(new MemoryBlock(1, 0x7000, p)), List.of());
        }

        Run thread(int tid) {
            long s = ++seq;
            events.add(new SyscallEvent(s, pid, pid, s * 1000, s * 1000 + 1, TABLE.number("clone").orElseThrow(),
                    six(0x3d0f00, 0x7f00, 0x7f10, 0x7f20, 0x7f30), List.of(), tid, List.of(), 0));
            events.add(new SpawnEvent(++seq, pid, pid, seq * 1000, SpawnEvent.Kind.THREAD, pid, tid, 0x3d0f00));
            return this;
        }

        Run signal(int signo) {
            long s = ++seq;
            events.add(new SignalEvent(s, pid, pid, s * 1000, signo, 1, 0, 0, new byte[128], true));
            return this;
        }

        Run exit(int tid, int status) {
            long s = ++seq;
            events.add(new ExitEvent(s, pid, tid, s * 1000, tid == pid, status, 0, false));
            return this;
        }

        int pidOf(int tid) {
            return pid;
        }
    }

    private static long[] six(long... a) {
        long[] out = new long[6];
        System.arraycopy(a, 0, out, 0, a.length);
        return out;
    }

    private static DiffReport diff(Run a, Run b) {
        return RecordingDiff.compare(RecordingDiff.summarise("A", List.of("prog"), a.events), a.events,
                RecordingDiff.summarise("B", List.of("prog"), b.events), b.events, Arch.X86_64, DiffOptions.DEFAULT);
    }

    /** The heisen_random shape: one random byte decides whether the program writes a failure. */
    private static Run randomRun(int pid, long seq, byte drawn, long bufferAddress) {
        Run r = new Run(pid, seq).call("brk", 0x555555559000L, 0).getrandom(drawn, bufferAddress)
                .write(1, "drew " + (drawn & 0xff) + "\n", 0x5000);
        boolean fails = (drawn & 0xff) < 64;
        if (fails) r.write(2, "FAILED\n", 0x6000);
        return r.call("exit_group", 0, fails ? 1 : 0).exit(pid, fails ? 1 : 0);
    }

    @Test
    void runsThatDifferOnlyInIdsSequenceNumbersAndPointersAreIdentical() {
        Run a = new Run(100, 0).call("getpid", 100).call("brk", 0x555555559000L, 0)
                .call("mmap", 0x7ffff7fb7000L, 0, 8192, 3, 0x22, -1, 0).write(1, "hi\n", 0x5000)
                .call("kill", 0, 100, 0).call("exit_group", 0, 0).exit(100, 0);
        Run b = new Run(4242, 7).call("getpid", 4242).call("brk", 0x555555600000L, 0)
                .call("mmap", 0x7ffff7000000L, 0, 8192, 3, 0x22, -1, 0).write(1, "hi\n", 0x9999)
                .call("kill", 0, 4242, 0).call("exit_group", 0, 0).exit(4242, 0);
        DiffReport r = diff(a, b);
        assertTrue(r.identical(), () -> r.threads().getFirst().differences().toString());
        assertTrue(r.sameControlFlow());
        assertEquals(1, r.threads().size());
        assertEquals(7, r.threads().getFirst().rows().size());
    }

    @Test
    void differentRandomBytesAreDataNotControlFlow() {
        DiffReport r = diff(randomRun(100, 0, (byte) 200, 0x4000), randomRun(200, 0, (byte) 201, 0x4000));
        assertTrue(r.sameControlFlow());
        assertFalse(r.identical());
        List<Difference> data = r.threads().getFirst().data();
        assertEquals(Difference.Kind.OUTPUT, data.getFirst().kind());
        assertEquals(2, data.getFirst().aSeq());
        assertTrue(data.stream().allMatch(d -> !d.control()));
    }

    @Test
    void theFailingWriteIsTheFirstControlDifferenceAndTheRandomByteItsCause() {
        DiffReport r = diff(randomRun(100, 0, (byte) 200, 0x4000), randomRun(300, 0, (byte) 12, 0x4000));
        assertFalse(r.sameControlFlow());
        Difference first = r.firstControl().orElseThrow();
        assertEquals(Difference.Kind.ONLY_B, first.kind());
        assertEquals(4, first.bSeq(), "the write of FAILED");
        assertEquals(3, first.aSeq(), "after A's last common event");
        ThreadDiff t = r.thread(1);
        Row row = t.rows().get(first.row());
        assertTrue(row.onlyB());
        assertEquals(List.of(2L), t.incomingBefore(first).stream().map(Difference::aSeq).toList(),
                "getrandom, not write's count, is the cause");
        List<Difference.Kind> control = t.control().stream().map(Difference::kind).toList();
        assertEquals(List.of(Difference.Kind.ONLY_B, Difference.Kind.ARGS, Difference.Kind.EXIT), control);
        String text = new DiffRenderer(r).text();
        assertTrue(text.contains("thread 1 (A pid 100, B pid 300): only in B (1 event), after A #3, at B #4"), text);
        assertTrue(text.contains("  >          #4         write(2, \"FAILED\\n\", 7) = 7"), text);
        assertTrue(text.contains("  before it, the kernel gave this thread different data (what it consumed first, then most recent first):\n"
                + "  ~ #2       #2       getrandom: different output data (argument 1: 1 byte, first difference at byte 0)\n"
                + "                      A getrandom(\"\\xc8\", 1, 0) = 1\n"
                + "                      B getrandom(\"\\x0c\", 1, 0) = 1\n"), text);
        assertTrue(text.endsWith("the runs part in 1 thread: 3 control-flow differences, 4 data differences (--data shows them)\n"), text);
    }

    /** heisen_random's shape with glibc's 8 random bytes and a stat of stdout after the program's own byte. */
    private static Run noisyRandomRun(int pid, byte drawn, byte glibc, long stdoutSize) {
        byte[] stat = new byte[144];
        java.nio.ByteBuffer.wrap(stat).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(48, stdoutSize);
        Run r = new Run(pid, 0).getrandom(drawn, 0x4000)
                .call(pid, "getrandom", six(0x4100, 8, 1), 8, List.of(), List.of(new MemoryBlock(0, 0x4100,
                        new byte[] {glibc, 1, 2, 3, 4, 5, 6, 7})))
                .call(pid, "newfstatat", six(1, 0x7100, 0x7200, 0x1000), 0, List.of(new MemoryBlock(1, 0x7100, new byte[] {0})),
                        List.of(new MemoryBlock(2, 0x7200, stat)))
                .write(1, "drew " + (drawn & 0xff) + "\n", 0x5000);
        boolean fails = (drawn & 0xff) < 64;
        if (fails) r.write(2, "FAILED\n", 0x6000);
        return r.call("exit_group", 0, fails ? 1 : 0).exit(pid, fails ? 1 : 0);
    }

    /** Issue 15: the program's own random byte is the first candidate, glibc's bytes and stdout's stat after it. */
    @Test
    void causesAreRankedByRelevanceAndStatDifferencesNameTheirFields() {
        DiffReport r = diff(noisyRandomRun(100, (byte) 200, (byte) 1, 58), noisyRandomRun(300, (byte) 12, (byte) 2, 86));
        String text = new DiffRenderer(r).text();
        int own = text.indexOf("getrandom: different output data (argument 1: 1 byte");
        int glibc = text.indexOf("getrandom: different output data (argument 1: 8 bytes");
        int stat = text.indexOf("newfstatat: different output data (argument 3: 144 bytes, first difference at byte 48 in st_size)");
        assertTrue(own > 0 && glibc > own && stat > own, text);
    }

    /** Issue 15: when the runs take the same path, the data differences are the report. */
    @Test
    void runsOnTheSamePathShowTheirDataDifferencesWithoutAsking() {
        DiffReport r = diff(randomRun(100, 0, (byte) 200, 0x4000), randomRun(200, 0, (byte) 201, 0x4000));
        String text = new DiffRenderer(r).text();
        assertTrue(text.contains(": data differences\n"), text);
        assertTrue(text.contains("getrandom: different output data"), text);
        assertFalse(text.contains("--data shows them"), text);
    }

    @Test
    void aFailureWhereTheOtherRunSucceededIsADifferentResult() {
        Run a = new Run(100, 0).open("/etc/app.conf", 3).call("exit_group", 0, 0).exit(100, 0);
        Run b = new Run(100, 0).open("/etc/app.conf", -2).call("exit_group", 0, 0).exit(100, 0);
        Difference d = diff(a, b).firstControl().orElseThrow();
        assertEquals(Difference.Kind.RESULT, d.kind());
        assertEquals("success vs ENOENT", d.detail());
        Run c = new Run(100, 0).open("/etc/app.conf", -13).call("exit_group", 0, 0).exit(100, 0);
        assertEquals("ENOENT vs EACCES", diff(b, c).firstControl().orElseThrow().detail());
    }

    @Test
    void openingAnotherFileIsADifferentPath() {
        Run a = new Run(100, 0).open("/etc/a.conf", 3).call("exit_group", 0, 0).exit(100, 0);
        Run b = new Run(100, 0).open("/etc/b.conf", 3).call("exit_group", 0, 0).exit(100, 0);
        DiffReport r = diff(a, b);
        Difference d = r.firstControl().orElseThrow();
        assertEquals(Difference.Kind.PATH, d.kind());
        assertEquals(2, d.rows());
        assertEquals(List.of(Difference.Kind.PATH), r.thread(1).differences().stream().map(Difference::kind).toList());
    }

    @Test
    void otherScalarArgumentsAreControlFlowButABufferSizeIsData() {
        Run a = new Run(100, 0).call("lseek", 10, 3, 10, 0).write(1, "abc", 0x5000).exit(100, 0);
        Run b = new Run(100, 0).call("lseek", 10, 3, 10, 1).write(1, "abcd", 0x5000).exit(100, 0);
        List<Difference> ds = diff(a, b).thread(1).differences();
        assertEquals(Difference.Kind.ARGS, ds.get(0).kind());
        assertEquals("argument 3: 0 vs 1", ds.get(0).detail());
        assertTrue(ds.subList(1, ds.size()).stream().noneMatch(Difference::control), ds::toString);
    }

    @Test
    void threadsPairByCreationOrderWhateverTheirIds() {
        Run a = new Run(100, 0).thread(101).thread(102);
        a.write(101, "one", 0x5000).write(102, "two", 0x5000);
        Run b = new Run(500, 0).thread(507).thread(503);
        b.write(507, "one", 0x5000).write(503, "TWO", 0x5000);
        // write(tid, ...) writes to fd tid: give them the same fd, which is what matters.
        DiffReport r = diff(fdFix(a), fdFix(b));
        assertEquals(3, r.threads().size());
        ThreadDiff second = r.thread(2);
        assertEquals(101, second.tidA());
        assertEquals(507, second.tidB());
        assertTrue(second.differences().isEmpty(), second.differences()::toString);
        ThreadDiff third = r.thread(3);
        assertEquals(503, third.tidB());
        assertEquals(Difference.Kind.INPUT, third.differences().getFirst().kind());
        assertTrue(r.sameControlFlow(), "clone's results are tids, mapped: " + r.thread(1).differences());
    }

    @Test
    void twoThreadsWritingToOnePipeInTheOtherOrderIsAnOrderDifference() {
        // heisen_threads: threads 1 and 2 each write their name to the pipe (fd 1 after fdFix); the main thread reads.
        Run a = new Run(100, 0).thread(101).thread(102);
        a.write(101, "a", 0x5000).write(102, "b", 0x5000);
        Run b = new Run(500, 0).thread(501).thread(502);
        b.write(502, "b", 0x5000).write(501, "a", 0x5000);
        DiffReport r = diff(fdFix(a), fdFix(b));
        assertTrue(r.sameControlFlow());
        assertTrue(r.thread(2).differences().isEmpty(), r.thread(2).differences()::toString);
        Difference order = r.thread(3).differences().getFirst();
        assertEquals(Difference.Kind.ORDER, order.kind());
        assertEquals("after thread 2's write #5 in A, before its #6 in B", order.detail());
        // The same order in both runs is no difference.
        Run c = new Run(700, 0).thread(701).thread(702);
        c.write(701, "a", 0x5000).write(702, "b", 0x5000);
        assertTrue(diff(fdFix(a), fdFix(c)).identical());
    }

    /** Rebuilds a run so that every write goes to fd 1 from the thread named by its first argument. */
    private static Run fdFix(Run r) {
        Run out = new Run(r.pid, 0);
        for (Event e : r.events) {
            if (e instanceof SyscallEvent s && s.nr() == TABLE.number("write").orElseThrow()) {
                int tid = (int) s.arg(0);
                long[] args = s.args();
                args[0] = 1;
                out.events.add(new SyscallEvent(s.seq(), s.pid(), tid, s.timeNs(), s.exitTimeNs(), s.nr(), args,
                        s.inputs(), s.result(), s.outputs(), 0));
            } else {
                out.events.add(e);
            }
        }
        return out;
    }

    @Test
    void aThreadOnlyOneRunCreatedIsAControlDifference() {
        Run a = new Run(100, 0).thread(101).exit(100, 0);
        Run b = new Run(200, 0).thread(201).thread(202).exit(200, 0);
        b.events.add(new ExitEvent(++b.seq, 200, 202, 0, false, 0, 0, false));
        DiffReport r = diff(a, b);
        assertEquals(3, r.threads().size());
        ThreadDiff extra = r.thread(3);
        assertEquals(0, extra.tidA());
        assertEquals(Difference.Kind.THREAD, extra.firstControl().orElseThrow().kind());
        assertEquals(Difference.Kind.ONLY_B, r.thread(1).firstControl().orElseThrow().kind(), "the second clone");
    }

    @Test
    void killingAnUnrelatedProcessIsAnIdDifference() {
        Run a = new Run(100, 0).call("kill", 0, 777, 15).exit(100, 0);
        Run b = new Run(200, 0).call("kill", 0, 888, 15).exit(200, 0);
        DiffReport r = diff(a, b);
        assertTrue(r.sameControlFlow());
        assertEquals(Difference.Kind.ID, r.thread(1).differences().getFirst().kind());
    }

    @Test
    void futexWaitsThatWentAnotherWayAreSchedulingNotControlFlow() {
        // pthread_join: the futex word holds the joined tid; B found the thread gone and did not wait at all.
        Run a = new Run(100, 0).call("futex", -11, 0x7000, 0x189, 101, 0, 0, -1).call("futex", 0, 0x7100, 0x189, 102, 0, 0, -1)
                .write(1, "ab", 0x5000).exit(100, 0);
        Run b = new Run(200, 0).call("futex", 0, 0x7000, 0x189, 201, 0, 0, -1).write(1, "ab", 0x5000).exit(200, 0);
        DiffReport r = diff(a, b);
        assertTrue(r.sameControlFlow(), r.thread(1).differences()::toString);
        // The first wait: EAGAIN vs success and another futex word value; the second wait: only in A.
        assertEquals(List.of(Difference.Kind.SCHEDULE, Difference.Kind.SCHEDULE, Difference.Kind.SCHEDULE),
                r.thread(1).differences().stream().map(Difference::kind).toList());
        assertEquals(1, r.thread(1).differences().get(2).row(), "the row after the first wait");
    }

    @Test
    void aSignalArrivingAtAnotherPointIsSchedulingButReorderedCallsAreControlFlow() {
        Run a = new Run(100, 0).call("close", 0, 3).signal(17).call("rt_sigreturn", 0).call("wait4", 101, -1, 0x7000, 0, 0)
                .exit(100, 0);
        Run b = new Run(200, 0).signal(17).call("rt_sigreturn", 0).call("close", 0, 3).call("wait4", 201, -1, 0x7000, 0, 0)
                .exit(200, 0);
        DiffReport r = diff(a, b);
        assertTrue(r.sameControlFlow(), r.thread(1).differences()::toString);
        assertEquals(Difference.Kind.SCHEDULE, r.thread(1).differences().getFirst().kind());

        Run c = new Run(100, 0).call("close", 0, 3).call("getpid", 100).call("getuid", 0).call("wait4", 101, -1, 0x7000, 0, 0)
                .exit(100, 0);
        Run d = new Run(200, 0).call("getpid", 200).call("getuid", 0).call("close", 0, 3).call("wait4", 201, -1, 0x7000, 0, 0)
                .exit(200, 0);
        assertFalse(diff(c, d).sameControlFlow(), "a thread's own calls in another order are another path");
    }

    @Test
    void aDifferentExitStatusIsAControlDifference() {
        Run a = new Run(100, 0).exit(100, 0);
        Run b = new Run(100, 0).exit(100, 3);
        Difference d = diff(a, b).firstControl().orElseThrow();
        assertEquals(Difference.Kind.EXIT, d.kind());
        assertEquals("exit 0 vs exit 3", d.detail());
    }

    @Test
    void aThreadEndedByAnotherThreadsExitGroupIsNotADifference() {
        // A thread still running at exit_group(1) ends with status 1; one that had exited itself, with 0.
        Run a = new Run(100, 0).thread(101);
        a.events.add(new ExitEvent(++a.seq, 100, 101, 0, false, 0, 0, false));
        a.exit(100, 1);
        Run b = new Run(200, 0).thread(201);
        b.events.add(new ExitEvent(++b.seq, 200, 201, 0, false, 1, 0, false));
        b.exit(200, 1);
        assertTrue(diff(a, b).identical());
    }

    @Test
    void jsonCarriesTheFirstDifferenceWithItsCauses() throws Exception {
        DiffReport r = diff(randomRun(100, 0, (byte) 200, 0x4000), randomRun(300, 0, (byte) 12, 0x4000));
        Map<?, ?> root = (Map<?, ?>) Json.parse(new DiffRenderer(r).json());
        assertEquals(false, root.get("same_control_flow"));
        Map<?, ?> first = (Map<?, ?>) root.get("first");
        assertEquals("only_b", first.get("kind"));
        assertEquals(4L, ((Number) first.get("b_seq")).longValue());
        List<?> causes = (List<?>) first.get("causes");
        assertEquals(1, causes.size());
        assertTrue(((Map<?, ?>) causes.getFirst()).get("a").toString().startsWith("getrandom("));
        List<?> events = (List<?>) first.get("events");
        assertEquals(null, ((Map<?, ?>) events.getFirst()).get("a"));
    }

    @Test
    void textOfIdenticalRunsSaysSo() {
        DiffReport r = diff(randomRun(100, 0, (byte) 200, 0x4000), randomRun(300, 0, (byte) 200, 0x4000));
        assertTrue(r.identical());
        assertEquals("--- A A (exit status 0; 1 process, 1 thread, 5 events)\n"
                + "+++ B B (exit status 0; 1 process, 1 thread, 5 events)\n\n"
                + "the runs are the same: no data differences\n", new DiffRenderer(r).text());
    }
}
