package dev.deja.replayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The regrouping replay works on: per-thread streams, the events between calls, the timeline of steps. */
class RecordedRunTest {

    private static SyscallEvent call(long seq, int tid, long entry, long exit, int nr, long result) {
        return new SyscallEvent(seq, 100, tid, entry, exit, nr, new long[6], List.of(), result, List.of(), 0);
    }

    private static SyscallEvent unfinished(long seq, int tid, long at, int nr) {
        return new SyscallEvent(seq, 100, tid, at, at, nr, new long[6], List.of(), 0, List.of(), SyscallEvent.NO_EXIT);
    }

    @Test
    void threadsGetTheirOwnStreamsInEntryOrderWhateverTheJournalOrder() {
        // Journal order is completion order: the blocking call 2 of tid 101 completes last.
        List<Event> journal = List.of(
                call(1, 100, 10, 11, 59, 0),
                call(3, 100, 30, 31, 56, 101),
                new SpawnEvent(4, 100, 100, 32, SpawnEvent.Kind.THREAD, 100, 101, 0x10000),
                call(5, 101, 40, 41, 39, 100),
                call(2, 100, 20, 50, 202, 0),
                new ExitEvent(6, 100, 101, 60, false, 0, 0, false));
        RecordedRun run = RecordedRun.of(journal);
        assertEquals(100, run.rootTid());
        assertEquals(2, run.threadCount());
        RecordedRun.ThreadLog main = run.thread(100);
        assertEquals(1, main.takeSyscall().seq());
        assertEquals(2, main.peekSyscall().seq());
        assertEquals(2, main.takeSyscall().seq());
        SyscallEvent clone = main.takeSyscall();
        assertEquals(3, clone.seq());
        assertEquals(101, main.spawnAfter(clone).childTid());
        assertNull(main.takeSyscall());
        assertEquals(6, run.thread(101).exit().seq());
        assertTrue(run.hasProcess(100));
    }

    @Test
    void stepsFollowTheRecordedTimesOfEntriesExitsAndEnds() {
        List<Event> journal = List.of(
                call(1, 100, 10, 11, 59, 0),
                call(3, 101, 30, 31, 39, 101),
                call(2, 100, 20, 50, 202, 0),
                unfinished(4, 101, 40, 60),
                new ExitEvent(5, 100, 101, 45, false, 0, 0, false));
        RecordedRun run = RecordedRun.of(journal);
        // entry 1 (10), exit 1 (11), entry 2 (20), entry 3 (30), exit 3 (31), entry 4 (40), end 101 (45), exit 2 (50)
        assertEquals(0, run.entryStep(1));
        assertEquals(1, run.exitStep(1));
        assertEquals(2, run.entryStep(2));
        assertEquals(3, run.entryStep(3));
        assertEquals(4, run.exitStep(3));
        assertEquals(5, run.entryStep(4));
        assertEquals(-1, run.exitStep(4), "a call that never returned has no exit step");
        assertEquals(6, run.endStep(101));
        assertEquals(7, run.exitStep(2));
    }

    @Test
    void eventsAfterACallStopAtTheThreadsNextCall() {
        SyscallEvent mmap = call(1, 100, 10, 11, 9, 0x7000);
        List<Event> journal = List.of(
                mmap,
                new MappingEvent(2, 100, 100, 12, 0x7000, 4096, 1, 2, 0, "/lib/x.so", 4096, "abc"),
                new SignalEvent(3, 100, 100, 13, 10, 0, 100, 0, new byte[128], true),
                call(4, 100, 14, 15, 39, 100),
                new MappingEvent(5, 100, 100, 16, 0x7000, 4096, 1, 2, 0, "/lib/y.so", 4096, "def"));
        RecordedRun run = RecordedRun.of(journal);
        RecordedRun.ThreadLog log = run.thread(100);
        assertEquals(mmap, log.takeSyscall());
        assertEquals("/lib/x.so", log.mappingAfter(mmap).path());
        assertEquals(2, log.after(mmap).size());
        assertEquals(List.of(), run.syscallsBefore(1, 5));
        assertEquals(1, run.syscallsBefore(4, 5).size());
    }
}
