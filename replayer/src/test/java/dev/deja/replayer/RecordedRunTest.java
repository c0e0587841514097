package dev.deja.replayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The regrouping replay works on: per-thread streams, the events between calls, the timeline of steps. */
class RecordedRunTest {

    private static SyscallEvent call(long seq, int tid, long entry, long exit, int nr, long result) {
        return new SyscallEvent(seq, 100, tid, entry, exit, nr, new long[6], List.of(), result, List.of(), 0);
    }

    private static SyscallEvent unfinished(long seq, int tid, long at, int nr) {
        return new SyscallEvent(seq, 100, tid, at, at, nr, new long[6], List.of(), 0, List.of(), SyscallEvent.NO_EXIT);
    }

    @Test
    void threadsGetTheirOwnStreamsInEntryOrderWhateverTheJournalOrder() throws Exception {
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
    void stepsFollowTheRecordedTimesOfEntriesExitsAndEnds() throws Exception {
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
    void eventsAfterACallStopAtTheThreadsNextCall() throws Exception {
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

    @Test
    void aCallIsQuietWhenOnlyMappingsFollowItBeforeTheNextCall() throws Exception {
        SyscallEvent mmap = call(1, 100, 10, 11, 9, 0x7000);
        SyscallEvent read = call(3, 100, 13, 14, 0, 5);
        SyscallEvent interruptedByASignal = call(4, 100, 15, 16, 0, 5);
        SyscallEvent last = call(6, 100, 18, 19, 0, 5);
        List<Event> journal = List.of(
                mmap,
                new MappingEvent(2, 100, 100, 12, 0x7000, 4096, 1, 2, 0, "/lib/x.so", 4096, "abc"),
                read,
                interruptedByASignal,
                new SignalEvent(5, 100, 100, 17, 17, 1, 101, 0, new byte[128], true),
                last,
                new ExitEvent(7, 100, 100, 20, true, 0, 0, false));
        RecordedRun run = RecordedRun.of(journal);
        RecordedRun.ThreadLog log = run.thread(100);
        assertTrue(log.quietAfter(mmap), "a mapping is the call's own");
        assertTrue(log.quietAfter(read));
        assertFalse(log.quietAfter(interruptedByASignal), "a signal lands at its return");
        assertFalse(log.quietAfter(last), "the thread's end follows");
        assertFalse(log.quietAfter(call(99, 100, 1, 2, 0, 0)), "not a call of this thread");
    }

    @Test
    void aProcessIsSingleThreadedWhenNoOtherThreadOfItWasRecorded() throws Exception {
        List<Event> journal = List.of(
                call(1, 100, 10, 11, 56, 101),
                new SpawnEvent(2, 100, 100, 12, SpawnEvent.Kind.THREAD, 100, 101, 0x10000),
                new SyscallEvent(3, 100, 101, 13, 14, 39, new long[6], List.of(), 100, List.of(), 0),
                call(4, 100, 15, 16, 57, 102),
                new SpawnEvent(5, 100, 100, 17, SpawnEvent.Kind.FORK, 102, 102, 0x11),
                new SyscallEvent(6, 102, 102, 18, 19, 39, new long[6], List.of(), 102, List.of(), 0));
        RecordedRun run = RecordedRun.of(journal);
        assertFalse(run.singleThreaded(100));
        assertTrue(run.singleThreaded(102));
    }

    @Test
    void preemptionsAndFirstRunsHaveTheirSteps() throws Exception {
        List<Event> journal = List.of(
                call(1, 100, 10, 11, 56, 101),
                ScheduleEvent.start(2, 100, 101, 12),
                new ScheduleEvent(3, 100, 101, 20, ScheduleEvent.Kind.PREEMPT, 30, new long[27], 7, 8),
                call(4, 100, 25, 26, 39, 100),
                call(5, 101, 31, 32, 39, 100));
        RecordedRun run = RecordedRun.of(journal);
        // entry 1, exit 1, start 101, preempt 3, entry 4, exit 4, resume 3, entry 5, exit 5
        assertEquals(2, run.startStep(101));
        assertEquals(3, run.preemptStep(3));
        assertEquals(6, run.resumeStep(3));
        assertEquals(-1, run.entryStep(3), "a preemption is no syscall");
        assertEquals(-1, run.preemptStep(4), "a syscall is no preemption");
        assertEquals(new RecordedRun.Step(30, 3, RecordedRun.StepKind.RESUME, 101), run.step(6));
        RecordedRun.ThreadLog log = run.thread(101);
        assertEquals(3, log.nextPreemption().seq());
        log.preemptsReached++;
        assertNull(log.nextPreemption());
        assertEquals(5, log.takeSyscall().seq());
        assertEquals(100, log.pid());
    }

    /**
     * The compact index against the regrouping it replaced (every event in lists, the steps as
     * records sorted stably, the indexes in hash maps): random threads, gaps in the seqs, equal
     * times, calls that never return, preemptions, journal order shuffled.
     */
    @Test
    void compactIndexAnswersAsTheEventListsDid() throws Exception {
        for (int round = 0; round < 20; round++) {
            List<Event> events = randomJournal(round, 3000);
            assertAnswersAsTheLists(RecordedRun.of(events), events);
        }
    }

    /** The same with every array of the index in a mapped file, as a long recording's replay has it. */
    @Test
    void mappedIndexAnswersAsTheEventListsDid(@TempDir Path dir) throws Exception {
        for (int round = 0; round < 20; round++) {
            List<Event> events = randomJournal(round, 3000);
            IndexMemory memory = IndexMemory.in(dir, 0);
            RecordedRun run = RecordedRun.of(events, memory);
            assertTrue(memory.mappedArrays() > 0, "round " + round + ": the index is in files");
            assertAnswersAsTheLists(run, events);
            run.close();
            assertEquals(0, memory.mappedArrays(), "closing the run unmaps its files");
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.toList(), "a mapped file is unlinked as soon as it is mapped");
        }
    }

    /**
     * A recording's journal read into a mapped index: with the summary's count, and without a summary
     * (arrays that start on the heap, grow past the limit and move into files), against the index of the
     * same events held in memory.
     */
    @Test
    void loadedMappedIndexAnswersAsTheEventListsDid(@TempDir Path tmp) throws Exception {
        for (boolean summary : new boolean[] {true, false}) {
            List<Event> events = randomJournal(summary ? 7 : 8, 20_000);
            Path dir = tmp.resolve("rec-" + summary);
            try (RecordingWriter w = RecordingWriter.create(dir, header())) {
                for (Event e : events) w.append(e);
                if (summary) w.finish(new RecordingSummary(RecordingStatus.COMPLETE, 2_000, 0, events.size(), 1));
            }
            Path scratch = Files.createDirectories(tmp.resolve("scratch-" + summary));
            try (Recording rec = Recording.open(dir)) {
                assertEquals(summary, rec.summary().isPresent());
                IndexMemory memory = IndexMemory.in(scratch, 4096);
                try (RecordedRun run = RecordedRun.load(rec, memory)) {
                    assertTrue(memory.mappedArrays() > 0, "the index is in files");
                    assertAnswersAsTheLists(run, events);
                }
                assertEquals(0, memory.mappedArrays());
            }
        }
    }

    /**
     * A checkpoint's position: going back to it puts every thread's cursor and the done steps as they
     * were, the parked thread's call to be taken again; going forth again afterwards is the same walk.
     */
    @Test
    void aPositionTakenBeforeAParkedCallIsGoneBackToExactly(@TempDir Path dir) throws Exception {
        List<Event> events = randomJournal(11, 2_000);
        try (RecordedRun heap = RecordedRun.of(events); RecordedRun mapped = RecordedRun.of(events, IndexMemory.in(dir, 0))) {
            for (RecordedRun run : List.of(heap, mapped)) {
                List<Integer> tids = new ArrayList<>(new TreeSet<>(events.stream().map(Event::tid).toList()));
                Random random = new Random(3);
                // Walk: take calls of random threads, mark their entry steps, and somewhere park before a call.
                int nextStep = 0;
                RecordedRun.Position parkedAt = null;
                List<Long> afterPark = new ArrayList<>();
                boolean[] doneAtPark = null;
                Map<Integer, Long> nextAtPark = new HashMap<>();
                for (int i = 0; i < 600; i++) {
                    int tid = tids.get(random.nextInt(tids.size()));
                    SyscallEvent s = run.thread(tid).takeSyscall();
                    if (s == null) continue;
                    if (i == 300 && parkedAt == null) {
                        parkedAt = run.position(nextStep, tid, s);
                        for (int t : tids) {
                            SyscallEvent peek = run.thread(t).peekSyscall();
                            nextAtPark.put(t, t == tid ? s.seq() : peek == null ? -1L : peek.seq());
                        }
                        doneAtPark = new boolean[run.stepCount()];
                        for (int k = 0; k < run.stepCount(); k++) doneAtPark[k] = run.isDone(k);
                        afterPark.add(s.seq());
                        for (int k = 0; k < 5; k++) {
                            SyscallEvent n = run.thread(tid).takeSyscall();
                            if (n != null) afterPark.add(n.seq());
                        }
                        continue;
                    }
                    int step = run.entryStep(s.seq());
                    if (step >= 0) run.markDone(step);
                    while (nextStep < run.stepCount() && run.isDone(nextStep)) nextStep++;
                }
                assertTrue(parkedAt != null);
                run.restore(parkedAt);
                for (int k = 0; k < run.stepCount(); k++) assertEquals(doneAtPark[k], run.isDone(k), "step " + k);
                for (int t : tids) {
                    SyscallEvent peek = run.thread(t).peekSyscall();
                    assertEquals(nextAtPark.get(t), peek == null ? -1L : peek.seq(), "thread " + t);
                }
                // The parked thread takes its parked call again, then what followed it.
                int parkedTid = -1;
                for (int tid : tids) {
                    SyscallEvent peek = run.thread(tid).peekSyscall();
                    if (peek != null && peek.seq() == afterPark.getFirst()) parkedTid = tid;
                }
                assertTrue(parkedTid > 0, "a thread is back before its parked call");
                for (long seq : afterPark) assertEquals(seq, run.thread(parkedTid).takeSyscall().seq());
            }
        }
    }

    /** Steps replay has done are marked in the index, whatever it is stored in. */
    @Test
    void doneStepsAreMarkedWithoutChangingTheSteps(@TempDir Path dir) throws Exception {
        List<Event> events = randomJournal(5, 500);
        try (RecordedRun heap = RecordedRun.of(events); RecordedRun mapped = RecordedRun.of(events, IndexMemory.in(dir, 0))) {
            for (RecordedRun run : List.of(heap, mapped)) {
                List<RecordedRun.Step> before = new ArrayList<>();
                for (int i = 0; i < run.stepCount(); i++) before.add(run.step(i));
                for (int i = 0; i < run.stepCount(); i += 3) run.markDone(i);
                for (int i = 0; i < run.stepCount(); i++) {
                    assertEquals(i % 3 == 0, run.isDone(i), "step " + i);
                    assertEquals(before.get(i), run.step(i), "step " + i);
                }
            }
        }
    }

    private static RecordingHeader header() {
        return RecordingHeader.forCommand(List.of("/bin/prog"), Map.of("PATH", "/usr/bin:/bin"), "/", 1000, 1000,
                "6.8.0-test", "x86_64", "host", 1_000);
    }

    /** {@code n} events of random threads and kinds (round 0 and 1: one thread; odd rounds: seqs with gaps), shuffled. */
    private static List<Event> randomJournal(int round, int n) {
        Random rnd = new Random(round);
        List<Event> events = new ArrayList<>();
        long seq = 0;
        long time = 0;
        int threads = round < 2 ? 1 : 2 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            seq += round % 2 == 0 ? 1 : 1 + rnd.nextInt(3); // odd rounds: seqs with gaps
            time += rnd.nextInt(3);                         // equal times happen
            int tid = 100 + rnd.nextInt(threads);
            long exit = time + rnd.nextInt(50);
            events.add(switch (rnd.nextInt(8)) {
                case 0 -> unfinished(seq, tid, time, 7);
                case 1 -> new ScheduleEvent(seq, 100, tid, time, ScheduleEvent.Kind.PREEMPT, exit, new long[27], 1, 2);
                case 2 -> ScheduleEvent.start(seq, 100, tid, time);
                case 3 -> new ExitEvent(seq, 100, tid, time, false, 0, 0, false);
                case 4 -> new SignalEvent(seq, 100, tid, time, 10, 0, 100, 0, new byte[128], true);
                default -> call(seq, tid, time, exit, rnd.nextInt(300), i);
            });
        }
        Collections.shuffle(events, rnd);
        // Every third round the second thread's events come late in the journal: their steps and those
        // of the events before them are gathered apart.
        if (round % 3 == 0) events.sort(Comparator.comparingInt(Event::tid));
        return events;
    }

    /** Every question replay asks of the run, answered as the reference regrouping answers it; consumes the run's threads. */
    private static void assertAnswersAsTheLists(RecordedRun run, List<Event> events) {
        Reference ref = new Reference(events);
        if (run.threadCount() == 1) {
            // Replay orders threads only when there are several: no timeline is kept for one.
            ref = ref.withoutTimeline();
        }
        long lastSeq = ref.bySeq.getLast().seq();
        assertEquals(ref.steps.size(), run.stepCount());
        for (int i = 0; i < ref.steps.size(); i++) {
            assertEquals(ref.steps.get(i), run.step(i), "step " + i);
            if (i > 0) assertTrue(run.stepTime(i) >= run.stepTime(i - 1), "step " + i);
        }
        for (long s = 0; s <= lastSeq + 1; s++) {
            assertEquals(ref.entry.getOrDefault(s, -1), run.entryStep(s), "entry of " + s);
            assertEquals(ref.exit.getOrDefault(s, -1), run.exitStep(s), "exit of " + s);
            assertEquals(ref.preempt.getOrDefault(s, -1), run.preemptStep(s), "preempt of " + s);
            assertEquals(ref.resume.getOrDefault(s, -1), run.resumeStep(s), "resume of " + s);
        }
        Set<Integer> tids = new TreeSet<>();
        for (Event e : events) tids.add(e.tid());
        assertEquals(tids.size(), run.threadCount());
        for (int tid : tids) {
            assertEquals(ref.end.getOrDefault(tid, -1), run.endStep(tid), "end of " + tid);
            assertEquals(ref.start.getOrDefault(tid, -1), run.startStep(tid), "start of " + tid);
            RecordedRun.ThreadLog log = run.thread(tid);
            List<Event> mine = ref.bySeq.stream().filter(e -> e.tid() == log.tid).toList();
            assertEquals(mine.getFirst().pid(), log.pid());
            ExitEvent lastExit = null;
            for (Event e : mine) if (e instanceof ExitEvent x) lastExit = x;
            assertEquals(lastExit, log.exit());
            for (Event e : mine) {
                if (!(e instanceof SyscallEvent want)) continue;
                assertEquals(want, log.peekSyscall());
                assertEquals(want, log.takeSyscall());
                List<Event> after = new ArrayList<>();
                for (int k = mine.indexOf(e) + 1; k < mine.size() && !(mine.get(k) instanceof SyscallEvent); k++) {
                    after.add(mine.get(k));
                }
                assertEquals(after, log.after(want));
            }
            assertNull(log.takeSyscall());
        }
        long at = ref.bySeq.get(ref.bySeq.size() / 2).seq();
        List<SyscallEvent> before = new ArrayList<>();
        for (Event e : ref.bySeq) if (e.seq() < at && e instanceof SyscallEvent s) before.add(s);
        assertEquals(before.subList(Math.max(0, before.size() - 5), before.size()), run.syscallsBefore(at, 5));
        assertEquals(ref.bySeq.getFirst(), run.first());
        assertEquals(ref.bySeq.getFirst().tid(), run.rootTid());
    }

    /** The old regrouping, kept here as the specification of the index. */
    private static final class Reference {
        final List<Event> bySeq;
        final List<RecordedRun.Step> steps = new ArrayList<>();
        final Map<Long, Integer> entry = new HashMap<>(), exit = new HashMap<>(), preempt = new HashMap<>(),
                resume = new HashMap<>();
        final Map<Integer, Integer> end = new HashMap<>(), start = new HashMap<>();

        Reference withoutTimeline() {
            Reference r = new Reference(List.of());
            r.bySeq.addAll(bySeq);
            return r;
        }

        Reference(List<Event> journal) {
            bySeq = new ArrayList<>(journal);
            bySeq.sort(Comparator.comparingLong(Event::seq));
            for (Event e : bySeq) {
                if (e instanceof SyscallEvent s) {
                    steps.add(new RecordedRun.Step(s.timeNs(), s.seq(), RecordedRun.StepKind.ENTRY, s.tid()));
                    if (s.returned()) steps.add(new RecordedRun.Step(s.exitTimeNs(), s.seq(), RecordedRun.StepKind.EXIT, s.tid()));
                } else if (e instanceof ExitEvent x) {
                    steps.add(new RecordedRun.Step(x.timeNs(), x.seq(), RecordedRun.StepKind.END, x.tid()));
                } else if (e instanceof ScheduleEvent sc) {
                    if (sc.scheduleKind() == ScheduleEvent.Kind.START) {
                        steps.add(new RecordedRun.Step(sc.timeNs(), sc.seq(), RecordedRun.StepKind.START, sc.tid()));
                    } else {
                        steps.add(new RecordedRun.Step(sc.timeNs(), sc.seq(), RecordedRun.StepKind.PREEMPT, sc.tid()));
                        steps.add(new RecordedRun.Step(sc.resumeNs(), sc.seq(), RecordedRun.StepKind.RESUME, sc.tid()));
                    }
                }
            }
            steps.sort(Comparator.comparingLong(RecordedRun.Step::timeNs).thenComparingLong(RecordedRun.Step::seq));
            for (int i = 0; i < steps.size(); i++) {
                RecordedRun.Step st = steps.get(i);
                switch (st.kind()) {
                    case ENTRY -> entry.put(st.seq(), i);
                    case EXIT -> exit.put(st.seq(), i);
                    case END -> end.put(st.tid(), i);
                    case START -> start.put(st.tid(), i);
                    case PREEMPT -> preempt.put(st.seq(), i);
                    case RESUME -> resume.put(st.seq(), i);
                }
            }
        }
    }
}
