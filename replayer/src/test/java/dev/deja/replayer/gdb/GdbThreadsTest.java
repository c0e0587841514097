package dev.deja.replayer.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.DeviceException;
import dev.deja.device.Tracee;
import dev.deja.device.syscall.TraceeMemory;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Threads in the server's answers (thread ids, Hg, T, the thread list) and in vCont's actions. */
class GdbThreadsTest {
    private static final int PID = 0x64;

    /** A thread of process 0x64 whose rip is its tid; one that is "blocked in a real call" has no registers. */
    private static final class FakeThread implements ServerSideTracee {
        final int tid;
        final List<Tracee> all;
        final boolean blocked;
        final List<Boolean> steps = new ArrayList<>();

        FakeThread(int tid, List<Tracee> all, boolean blocked) {
            this.tid = tid;
            this.all = all;
            this.blocked = blocked;
            all.add(this);
        }

        @Override
        public int pid() {
            return PID;
        }

        @Override
        public int tid() {
            return tid;
        }

        @Override
        public TraceeMemory memory() {
            return (address, dst, off, len) -> 0;
        }

        @Override
        public long[] registers() {
            if (blocked) throw new DeviceException("cannot read the registers of tid " + tid + ": No such process");
            long[] regs = new long[27];
            regs[16] = tid;
            return regs;
        }

        @Override
        public byte[] fpRegisters() {
            return new byte[512];
        }

        @Override
        public List<Tracee> processThreads() {
            return all;
        }

        @Override
        public void stepWhenReleased(boolean on) {
            steps.add(on);
        }
    }

    private final List<Tracee> threads = new ArrayList<>();
    private final FakeThread main = new FakeThread(0x64, threads, false);
    private final FakeThread worker = new FakeThread(0x65, threads, false);
    private final FakeThread blocked = new FakeThread(0x66, threads, true);
    private final GdbServer server = new GdbServer(null, new GdbServer.Program("/bin/prog", "prog",
            new long[] {0, 0}, List.of(), null), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

    @Test
    void withoutTheMultiprocessExtensionThreadIdsAreBareTids() {
        server.answer("qSupported:swbreak+", main);
        assertEquals("m64,65,66", server.answer("qfThreadInfo", main));
        assertEquals("QC65", server.answer("qC", worker));
    }

    @Test
    void listsEveryThreadOfTheProcessWithProcessAndThreadIds() {
        assertTrue(server.answer("qSupported:multiprocess+;swbreak+", main).contains("multiprocess+"));
        assertEquals("mp64.64,p64.65,p64.66", server.answer("qfThreadInfo", main));
        assertEquals("l", server.answer("qsThreadInfo", main));
        assertEquals("QCp64.65", server.answer("qC", worker));
        String xml = server.answer("qXfer:threads:read::0,fff", main);
        for (String id : List.of("p64.64", "p64.65", "p64.66")) {
            assertTrue(xml.contains("<thread id=\"" + id + "\" name=\"prog\"/>"), xml);
        }
        assertEquals(GdbPackets.hex("prog".getBytes(StandardCharsets.UTF_8)), server.answer("qThreadExtraInfo,p64.65", main));
    }

    private static SyscallEvent prctlSetName(int recTid, String name, long result) {
        byte[] bytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        return new SyscallEvent(7, 10, recTid, 0, 1, NR_PRCTL, new long[] {15, 0x5000, 0, 0, 0, 0},
                List.of(new MemoryBlock(1, 0x5000, bytes)), result, List.of(), 0);
    }

    private static final int NR_PRCTL = 157;

    /** A thread a checkpoint's copy re-created has made no call yet: the replay's map names it, with its recorded name. */
    @Test
    void aReCreatedThreadIsKnownByTheReplaysMapBeforeItsFirstCall() {
        RecordedThreads recorded = new RecordedThreads(NR_PRCTL);
        recorded.observe(prctlSetName(1001, "worker-1", 0), worker);
        assertEquals(null, recorded.recordedTid(0x77));
        recorded.alsoAsk(live -> live == 0x77 ? 1001 : null);
        assertEquals(1001, recorded.recordedTid(0x77));
        assertEquals("worker-1", recorded.nameOf(0x77));
        assertEquals(1001, recorded.recordedTid(0x65)); // what a call showed is kept
        assertEquals(null, recorded.recordedTid(0x78));
    }

    @Test
    void threadsAreNamedAndNumberedAsRecorded() {
        RecordedThreads recorded = new RecordedThreads(NR_PRCTL);
        GdbServer named = new GdbServer(null, new GdbServer.Program("/bin/prog", "prog", new long[] {0, 0}, List.of(), null),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), recorded);
        named.answer("qSupported:multiprocess+", main);
        recorded.observe(prctlSetName(1001, "worker-1", 0), worker);
        recorded.observe(prctlSetName(1002, "refused", -22), blocked); // a failed call names nothing
        recorded.observe(new SyscallEvent(8, 10, 1002, 0, 1, 39, new long[6], List.of(), 1002, List.of(), 0), blocked);
        assertEquals("worker-1", recorded.nameOf(0x65));
        assertEquals(null, recorded.nameOf(0x66));
        assertEquals(1001, recorded.recordedTid(0x65));
        assertEquals(1002, recorded.recordedTid(0x66));
        assertEquals(null, recorded.recordedTid(0x64)); // no recorded call reached yet
        String xml = named.answer("qXfer:threads:read::0,fff", main);
        assertTrue(xml.contains("<thread id=\"p64.64\" name=\"prog\"/>"), xml);
        assertTrue(xml.contains("<thread id=\"p64.65\" name=\"worker-1\">recorded tid 1001</thread>"), xml);
        assertTrue(xml.contains("<thread id=\"p64.66\" name=\"prog\">recorded tid 1002</thread>"), xml);
        assertEquals(GdbPackets.hex("recorded tid 1001".getBytes(StandardCharsets.UTF_8)), named.answer("qThreadExtraInfo,p64.65", main));
    }

    @Test
    void hgSelectsTheThreadWhoseRegistersAreRead() {
        server.answer("qSupported:multiprocess+", main);
        assertEquals("6400000000000000", server.answer("p10", main));
        assertEquals("OK", server.answer("Hgp64.65", main));
        assertEquals("6500000000000000", server.answer("p10", main));
        assertTrue(server.answer("g", main).contains("6500000000000000"));
        assertEquals("OK", server.answer("Hgp64.0", main)); // any thread: the stopped one
        assertEquals("6400000000000000", server.answer("p10", main));
        assertEquals("OK", server.answer("Hg65", main)); // a bare tid is accepted too
        assertEquals("6500000000000000", server.answer("p10", main));
        assertEquals("E02", server.answer("Hgp64.99", main));
        assertEquals("E02", server.answer("Hgp63.65", main)); // another process
        assertEquals("OK", server.answer("Hcp64.-1", main));
        assertEquals("OK", server.answer("Hgp64.66", main));
        assertEquals("E03", server.answer("p10", main)); // blocked in a real call: no registers, an error
    }

    @Test
    void tTellsWhichThreadsAreAlive() {
        assertEquals("OK", server.answer("Tp64.66", main));
        assertEquals("OK", server.answer("T65", main));
        assertEquals("E02", server.answer("Tp64.67", main));
        assertEquals("E01", server.answer("Tzz", main));
    }

    @Test
    void threadIdsParseAsTheProtocolWritesThem() {
        assertEquals(new GdbThreadId(GdbThreadId.ALL, 0x1a), GdbThreadId.parse("1a"));
        assertEquals(new GdbThreadId(GdbThreadId.ALL, GdbThreadId.ALL), GdbThreadId.parse("-1"));
        assertEquals(new GdbThreadId(0x10, GdbThreadId.ALL), GdbThreadId.parse("p10"));
        assertEquals(new GdbThreadId(0x10, GdbThreadId.ALL), GdbThreadId.parse("p10.-1"));
        assertEquals(new GdbThreadId(0x10, 0x11), GdbThreadId.parse("p10.11"));
        assertEquals(new GdbThreadId(0x10, GdbThreadId.ANY), GdbThreadId.parse("p10.0"));
        for (String bad : List.of("", "p", "p.1", "p1.", "p1.2.3", "x1", "123456789", "-2")) {
            assertThrows(IllegalArgumentException.class, () -> GdbThreadId.parse(bad), bad);
        }
        assertTrue(GdbThreadId.parse("p10.-1").matches(0x10, 5));
        assertFalse(GdbThreadId.parse("p10.-1").matches(0x11, 5));
        assertTrue(GdbThreadId.parse("0").matches(1, 2));
        assertFalse(GdbThreadId.parse("5").single() && GdbThreadId.parse("5").matches(1, 6));
        assertEquals("p64.65", GdbThreadId.format(0x64, 0x65, true));
        assertEquals("65", GdbThreadId.format(0x64, 0x65, false));
    }

    @Test
    void vContGivesEachThreadTheFirstActionThatNamesIt() {
        VContPlan stepOne = VContPlan.parse("s:p64.65;c:p64.-1");
        assertEquals(VContPlan.Action.STEP, stepOne.actionFor(PID, 0x65));
        assertEquals(VContPlan.Action.CONTINUE, stepOne.actionFor(PID, 0x64));
        VContPlan locked = VContPlan.parse("s:65");
        assertEquals(VContPlan.Action.STEP, locked.actionFor(PID, 0x65));
        assertEquals(VContPlan.Action.NONE, locked.actionFor(PID, 0x64)); // scheduler-locking: no action
        VContPlan all = VContPlan.parse("c");
        assertEquals(VContPlan.Action.CONTINUE, all.actionFor(PID, 0x66));
        assertEquals(VContPlan.Action.STEP, VContPlan.parse("S05:p64.64;C0b").actionFor(PID, 0x64));
        assertEquals(VContPlan.Action.CONTINUE, VContPlan.parse("S05:p64.64;C0b").actionFor(PID, 0x65));
        assertEquals(VContPlan.Action.STOP, VContPlan.parse("t").actionFor(PID, 0x65));
        for (String bad : List.of("", "x", "r1000,2000", "s:zz", "C", "cc", ";c")) {
            assertThrows(IllegalArgumentException.class, () -> VContPlan.parse(bad), bad);
        }
    }
}
