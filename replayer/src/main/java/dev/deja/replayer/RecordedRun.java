package dev.deja.replayer;

import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.replayer.IndexMemory.Bytes;
import dev.deja.replayer.IndexMemory.Ints;
import dev.deja.replayer.IndexMemory.Longs;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A recording's events, regrouped for replay: every thread's events in entry ({@code seq}) order,
 * the whole run in that order for divergence reports, and the recorded timeline of steps.
 *
 * <p>Only an index is kept, in arrays of an {@link IndexMemory}: on the heap for a short recording,
 * in files mapped from the replay's directory for a long one, so that deja's heap does not grow with
 * the recording. It takes 9 bytes an event (its journal position, its kind, its place in its thread's
 * list), and with more than one thread 34 more for the timeline (each step's time, event and kind;
 * each event's steps); seqs with gaps add 8. Event bodies are decoded again from the journal when replay asks for them,
 * through a small cache.
 */
final class RecordedRun implements AutoCloseable {
    /** Event kinds, as much as the index needs to walk a thread's events without decoding them. */
    private static final byte CALL = 0, PREEMPT = 1, START = 2, END = 3, EXEC = 4, OTHER = 5;
    /** Decoded events kept: enough for every thread's next call and the events around it. */
    private static final int CACHE = 256;
    /** A step's kind byte with this bit set: replay has done the step (see {@link #markDone}). */
    private static final byte DONE = (byte) 0x80;
    /**
     * At most this many events are expected at first, whatever the summary says: arrays grow past it,
     * and a summary's count is only a hint.
     */
    private static final long MAX_EXPECTED = 1 << 26;

    private final Source source;
    private final IndexMemory memory;
    private final int count;
    /** By position in seq order: the event's position in the journal, its kind. */
    private final Ints journalPos;
    private final Bytes kinds;
    /** By position in seq order: the event's first and second step plus one (0: none); null with one thread. */
    private final Ints firstStep;
    private final Ints secondStep;
    /** The events' seqs by position, or null when they are consecutive from {@code firstSeq} (as deja records them). */
    private final Longs seqs;
    private final long firstSeq;
    /** Every thread's positions in seq order, one thread after the other (see {@link ThreadLog}). */
    private final Ints threadPositions;

    private final Map<Integer, ThreadLog> threads = new HashMap<>();
    /** Preemptions recorded (schedule events of kind PREEMPT). */
    private final int preemptions;
    private final Set<Integer> pids;
    private final int rootTid;

    /**
     * The recorded timeline of the steps replay orders threads by: every syscall's entry and exit and
     * every thread's end, sorted by the time the recorder saw them (its one tracing thread saw each
     * stop after the previous one, so the times give one total order). By step: time, the event's
     * position, kind (and whether replay has done it).
     */
    private final Longs stepTime;
    private final Ints stepPos;
    private final Bytes stepKind;
    private final int stepCount;

    /**
     * ENTRY and EXIT: a syscall's; END: a thread's; START: a new thread's first run (format 2);
     * PREEMPT and RESUME: where a thread was interrupted between syscalls and when it ran again.
     */
    enum StepKind { ENTRY, EXIT, END, START, PREEMPT, RESUME }

    private static final StepKind[] STEP_KINDS = StepKind.values();

    record Step(long timeNs, long seq, StepKind kind, int tid) {
    }

    /** Events by journal position, read again on demand. */
    private interface Source extends AutoCloseable {
        Event read(int journalPos) throws RecordingException;

        @Override
        void close();
    }

    /**
     * Builds the index from the scan with as little held at once as it can: each of the scan's arrays
     * is freed once the index no longer needs it, and the steps are sorted in place.
     */
    private RecordedRun(Source source, Scan scan, IndexMemory memory) throws ReplayException {
        this.source = source;
        this.memory = memory;
        int n = scan.count;
        this.count = n;
        this.stepCount = scan.steps;
        this.preemptions = scan.preemptions;
        Longs seq = scan.seq;
        Ints tid = scan.tid;
        // Seq order, ties in journal order (as the stable sort of the events did).
        Ints order = identity(memory, n);
        Ints room = memory.ints((n + 1) / 2);
        IntSort.sort(order, n, room, (a, b) -> {
            long sa = seq.get(a), sb = seq.get(b);
            return sa != sb ? Long.compare(sa, sb) : Integer.compare(a, b);
        }, memory::tick);
        memory.free(room);
        memory.release();
        journalPos = order;
        kinds = memory.bytes(n);
        boolean consecutive = n == 0 || seq.get(order.get(0)) > 0;
        for (int p = 0; p < n; p++) {
            int j = order.get(p);
            kinds.set(p, scan.kind.get(j));
            if (p > 0 && seq.get(j) != seq.get(order.get(p - 1)) + 1) consecutive = false;
            memory.tick();
        }
        memory.free(scan.kind);
        firstSeq = n == 0 ? 0 : seq.get(order.get(0));
        if (consecutive) {
            seqs = null;
        } else {
            seqs = memory.longs(n);
            for (int p = 0; p < n; p++) {
                seqs.set(p, seq.get(order.get(p)));
                memory.tick();
            }
        }
        memory.free(seq);
        pids = scan.pids;
        rootTid = n == 0 ? -1 : tid.get(order.get(0));

        // Each thread's positions, in seq order, the threads one after the other.
        Map<Integer, int[]> sizes = new HashMap<>();
        for (int j = 0; j < n; j++) {
            sizes.computeIfAbsent(tid.get(j), t -> new int[1])[0]++;
            memory.tick();
        }
        int offset = 0;
        for (Map.Entry<Integer, int[]> e : sizes.entrySet()) {
            threads.put(e.getKey(), new ThreadLog(e.getKey(), offset));
            offset += e.getValue()[0];
        }
        threadPositions = memory.ints(n);
        ThreadLog last = null;
        for (int p = 0; p < n; p++) {
            int t = tid.get(order.get(p));
            if (last == null || last.tid != t) last = threads.get(t);
            threadPositions.set(last.offset + last.size++, p);
            memory.tick();
        }
        memory.release();

        if (scan.stepTime == null) {
            // One thread: replay does not order threads (ReplayTracer.ordersThreads), no timeline is needed.
            memory.free(tid);
            stepTime = memory.longs(0);
            stepPos = memory.ints(0);
            stepKind = memory.bytes(0);
            firstStep = null;
            secondStep = null;
            memory.release();
            return;
        }
        // The steps name their event by journal position while scanning: by seq position from here on.
        Ints positionOf = memory.ints(n);
        for (int p = 0; p < n; p++) {
            positionOf.set(order.get(p), p);
            memory.tick();
        }
        int steps = scan.steps;
        Longs time = scan.stepTime;
        Ints pos = scan.stepPos;
        Bytes kind = scan.stepKind;
        for (int i = 0; i < steps; i++) {
            pos.set(i, positionOf.get(pos.get(i)));
            memory.tick();
        }
        memory.free(positionOf);
        memory.release();

        // By time; at equal times by seq, then a syscall's entry before its exit (their order in the old
        // list of steps, which a stable sort kept).
        Ints sorted = identity(memory, steps);
        room = memory.ints((steps + 1) / 2);
        IntSort.sort(sorted, steps, room, (a, b) -> {
            long ta = time.get(a), tb = time.get(b);
            if (ta != tb) return Long.compare(ta, tb);
            int pa = pos.get(a), pb = pos.get(b);
            long sa = seqAt(pa), sb = seqAt(pb);
            if (sa != sb) return Long.compare(sa, sb);
            if (pa != pb) return Integer.compare(pa, pb);
            return Integer.compare(kind.get(a), kind.get(b));
        }, memory::tick);
        memory.free(room);
        memory.release();
        permute(sorted, steps, time, pos, kind, memory);
        memory.free(sorted);
        memory.release();
        stepTime = time;
        stepPos = pos;
        stepKind = kind;
        firstStep = memory.ints(n);
        secondStep = memory.ints(n);
        for (int i = 0; i < steps; i++) {
            int p = stepPos.get(i);
            switch (STEP_KINDS[stepKind.get(i)]) {
                case ENTRY, PREEMPT -> firstStep.set(p, i + 1);
                case EXIT, RESUME -> secondStep.set(p, i + 1);
                case END -> threads.get(tid.get(journalPos.get(p))).endStep = i;
                case START -> threads.get(tid.get(journalPos.get(p))).startStep = i;
            }
            memory.tick();
        }
        memory.free(tid);
        memory.release();
    }

    /** Reorders the first {@code n} elements of the arrays in place so that element i is the one at {@code perm[i]}; uses up perm. */
    private static void permute(Ints perm, int n, Longs time, Ints pos, Bytes kind, IndexMemory memory) {
        for (int i = 0; i < n; i++) {
            if (perm.get(i) < 0) continue;
            long t = time.get(i);
            int p = pos.get(i);
            byte k = kind.get(i);
            int j = i;
            while (true) {
                int from = perm.get(j);
                perm.set(j, -1);
                if (from == i) {
                    time.set(j, t);
                    pos.set(j, p);
                    kind.set(j, k);
                    break;
                }
                time.set(j, time.get(from));
                pos.set(j, pos.get(from));
                kind.set(j, kind.get(from));
                j = from;
                memory.tick();
            }
        }
    }

    private static Ints identity(IndexMemory memory, int n) throws ReplayException {
        Ints a = memory.ints(n);
        for (int i = 0; i < n; i++) {
            a.set(i, i);
            memory.tick();
        }
        return a;
    }

    /**
     * What one pass over the journal keeps, until the index is built: of each event in journal order
     * its seq, thread and kind; its steps (time, journal position, kind) in that order.
     */
    private static final class Scan {
        private final IndexMemory memory;
        int count;
        int preemptions;
        Longs seq;
        Ints tid;
        Bytes kind;
        /** The steps, from the event where a second thread appeared (null until then) and then of the events before it. */
        int steps;
        Longs stepTime;
        Ints stepPos;
        Bytes stepKind;
        /** How many events came before the steps began to be kept: {@link #stepsOf} must be given them again. */
        int withoutSteps;
        final Set<Integer> pids = new HashSet<>();
        private final long expected;
        private int firstTid;

        Scan(IndexMemory memory, long expected) throws ReplayException {
            this.memory = memory;
            this.expected = Math.clamp(expected, 16, MAX_EXPECTED);
            seq = memory.longs(this.expected);
            tid = memory.ints(this.expected);
            kind = memory.bytes(this.expected);
        }

        void add(Event e) throws ReplayException {
            if (count == seq.length()) {
                if (count == Integer.MAX_VALUE - 16) throw new ReplayException("the recording has more events than replay can index (" + count + ")");
                long cap = Math.min(count + (count >> 1) + 16L, Integer.MAX_VALUE - 16);
                seq = memory.grown(seq, cap);
                tid = memory.grown(tid, cap);
                kind = memory.grown(kind, cap);
            }
            int j = count++;
            memory.tick();
            seq.set(j, e.seq());
            tid.set(j, e.tid());
            if (j == 0) firstTid = e.tid();
            pids.add(e.pid());
            kind.set(j, switch (e) {
                case SyscallEvent _ -> CALL;
                case ExitEvent _ -> END;
                case ScheduleEvent sc when sc.scheduleKind() == ScheduleEvent.Kind.START -> START;
                case ScheduleEvent _ -> {
                    preemptions++;
                    yield PREEMPT;
                }
                case ExecEvent _ -> EXEC;
                default -> OTHER;
            });
            if (stepTime == null && e.tid() != firstTid) {
                stepTime = memory.longs(2 * expected);
                stepPos = memory.ints(2 * expected);
                stepKind = memory.bytes(2 * expected);
                withoutSteps = j;
            }
            if (stepTime != null) stepsOf(e, j);
        }

        /** The steps of the event at journal position j. */
        void stepsOf(Event e, int j) throws ReplayException {
            switch (e) {
                case SyscallEvent s -> {
                    step(s.timeNs(), j, StepKind.ENTRY);
                    if (s.returned()) step(s.exitTimeNs(), j, StepKind.EXIT);
                }
                case ExitEvent x -> step(x.timeNs(), j, StepKind.END);
                case ScheduleEvent sc when sc.scheduleKind() == ScheduleEvent.Kind.START -> step(sc.timeNs(), j, StepKind.START);
                case ScheduleEvent sc -> {
                    step(sc.timeNs(), j, StepKind.PREEMPT);
                    step(sc.resumeNs(), j, StepKind.RESUME);
                }
                default -> { }
            }
        }

        private void step(long time, int j, StepKind k) throws ReplayException {
            if (steps == stepTime.length()) {
                if (steps >= Integer.MAX_VALUE - 16) throw new ReplayException("the recording has more steps than replay can index (" + steps + ")");
                long cap = Math.min(steps + (steps >> 1) + 16L, Integer.MAX_VALUE - 16);
                stepTime = memory.grown(stepTime, cap);
                stepPos = memory.grown(stepPos, cap);
                stepKind = memory.grown(stepKind, cap);
            }
            stepTime.set(steps, time);
            stepPos.set(steps, j);
            stepKind.set(steps, (byte) k.ordinal());
            steps++;
        }
    }

    // ---------------------------------------------------------------- building

    /**
     * Indexes the recording in one pass over its journal, the index's arrays in {@code memory} (which
     * the run owns from here on, and closes); the returned run reads events again from the same reader.
     * Close it.
     */
    static RecordedRun load(Recording rec, IndexMemory memory) throws RecordingException, ReplayException {
        EventReader reader;
        try {
            reader = rec.events();
        } catch (RecordingException | RuntimeException e) {
            memory.close();
            throw e;
        }
        try {
            Scan scan = new Scan(memory, rec.summary().map(s -> s.eventCount()).orElse(1024L));
            Event e;
            // The index needs no memory block: the scan leaves them undecoded (make -j2's 68 700 events: 290 -> 235 ms).
            while ((e = reader.nextWithoutData()) != null) scan.add(e);
            if (scan.withoutSteps > 0) {
                // A second thread appeared: the steps of the events before it, read again.
                reader.seek(0);
                for (int j = 0; j < scan.withoutSteps; j++) {
                    Event again = reader.nextWithoutData();
                    if (again == null) throw new RecordingException("journal entry " + j + " of " + rec.path() + " read before is gone");
                    scan.stepsOf(again, j);
                }
            }
            return new RecordedRun(new JournalSource(rec, reader), scan, memory);
        } catch (InternalError ex) {
            // A write into a mapped index file the file system cannot back (a full disk): the JVM turns the SIGBUS into this.
            reader.close();
            memory.close();
            throw memory.faulted(ex);
        } catch (RecordingException | ReplayException | RuntimeException ex) {
            reader.close();
            memory.close();
            throw ex;
        }
    }

    /** A run from events in any order (journal order is completion order), its index on the heap. */
    static RecordedRun of(List<Event> events) throws ReplayException {
        return of(events, IndexMemory.onHeap());
    }

    /** As {@link #of(List)}, the index's arrays in {@code memory} (which the run owns and closes). */
    static RecordedRun of(List<Event> events, IndexMemory memory) throws ReplayException {
        List<Event> journal = List.copyOf(events);
        try {
            Scan scan = new Scan(memory, journal.size());
            for (Event e : journal) scan.add(e);
            for (int j = 0; j < scan.withoutSteps; j++) scan.stepsOf(journal.get(j), j);
            return new RecordedRun(new Source() {
                @Override
                public Event read(int journalPos) {
                    return journal.get(journalPos);
                }

                @Override
                public void close() {
                }
            }, scan, memory);
        } catch (ReplayException | RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /** The journal read again by position, the last events read kept. */
    private static final class JournalSource implements Source {
        private final Recording rec;
        private final EventReader reader;
        private final Map<Integer, Event> cache = new LinkedHashMap<>(CACHE * 2, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Event> eldest) {
                return size() > CACHE;
            }
        };

        JournalSource(Recording rec, EventReader reader) {
            this.rec = rec;
            this.reader = reader;
        }

        @Override
        public Event read(int journalPos) throws RecordingException {
            Event e = cache.get(journalPos);
            if (e != null) return e;
            if (reader.position() != journalPos) reader.seek(journalPos);
            e = reader.next();
            if (e == null) {
                throw new RecordingException("journal entry " + journalPos + " of " + rec.path() + " read before is gone");
            }
            cache.put(journalPos, e);
            return e;
        }

        @Override
        public void close() {
            reader.close();
        }
    }

    @Override
    public void close() {
        try {
            source.close();
        } finally {
            memory.close();
        }
    }

    // ---------------------------------------------------------------- access

    /**
     * The event at a position in seq order. The journal was read whole before replay began: failing
     * now means it changed underneath, and the replay stops with that failure.
     */
    private Event event(int p) {
        try {
            return source.read(journalPos.get(p));
        } catch (RecordingException e) {
            throw new ReplayTracer.Stop(new ReplayException("cannot read event " + seqAt(p) + " again: " + e.getMessage(), e));
        }
    }

    private long seqAt(int p) {
        return seqs == null ? firstSeq + p : seqs.get(p);
    }

    /** The first position whose seq is not below {@code seq}. */
    private int lowerBound(long seq) {
        if (seqs == null) {
            if (seq <= firstSeq) return 0;
            long d = seq - firstSeq;
            return d < 0 || d >= count ? count : (int) d; // d < 0: overflow, seq is far past the end
        }
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (seqs.get(mid) < seq) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /** The position of the event numbered {@code seq}, or -1. */
    private int positionOf(long seq) {
        int p = lowerBound(seq);
        return p < count && seqAt(p) == seq ? p : -1;
    }

    int threadCount() {
        return threads.size();
    }

    /** Recorded pids with more than one thread in the recording, found on first use. */
    private Set<Integer> multiThreaded;

    /** Whether recorded process {@code pid} had one thread all along. */
    boolean singleThreaded(int pid) {
        if (multiThreaded == null) {
            Set<Integer> seen = new HashSet<>();
            Set<Integer> multi = new HashSet<>();
            for (ThreadLog log : threads.values()) {
                if (log.size == 0) continue;
                int p = log.pid();
                if (!seen.add(p)) multi.add(p);
            }
            multiThreaded = multi;
        }
        return !multiThreaded.contains(pid);
    }

    /** Whether the recording has a preemption (a thread stopped between calls, or a signal's landing point). */
    boolean hasPreemptions() {
        return preemptions > 0;
    }

    int stepCount() {
        return stepCount;
    }

    /** Step times by index. */
    long stepTime(int i) {
        return stepTime.get(i);
    }

    /** Step {@code i} of the timeline, its thread read from its event. */
    Step step(int i) {
        int p = stepPos.get(i);
        return new Step(stepTime.get(i), seqAt(p), STEP_KINDS[stepKind.get(i) & ~DONE], event(p).tid());
    }

    /**
     * Replay has done step {@code i} (kept in the step's kind byte: the marks take no room of their
     * own, and their pages were written while the index was built, so marking cannot fault on a full
     * disk).
     */
    void markDone(int i) {
        stepKind.set(i, (byte) (stepKind.get(i) | DONE));
    }

    boolean isDone(int i) {
        return (stepKind.get(i) & DONE) != 0;
    }

    /** The step index of a syscall's entry (or exit), or -1. */
    int entryStep(long seq) {
        return stepOf(seq, CALL, firstStep);
    }

    int exitStep(long seq) {
        return stepOf(seq, CALL, secondStep);
    }

    int endStep(int tid) {
        ThreadLog log = threads.get(tid);
        return log == null ? -1 : log.endStep;
    }

    int startStep(int tid) {
        ThreadLog log = threads.get(tid);
        return log == null ? -1 : log.startStep;
    }

    int preemptStep(long seq) {
        return stepOf(seq, PREEMPT, firstStep);
    }

    int resumeStep(long seq) {
        return stepOf(seq, PREEMPT, secondStep);
    }

    private int stepOf(long seq, byte kind, Ints which) {
        if (which == null) return -1;
        int p = positionOf(seq);
        return p < 0 || kinds.get(p) != kind ? -1 : which.get(p) - 1;
    }

    /**
     * The exec event of a successful execve: in the same thread's log, or, when a thread other than
     * the leader exec'd, in the leader's (it took the leader's tid), naming the thread as its former tid.
     */
    ExecEvent execAfter(SyscallEvent execve) {
        for (int p = lowerBound(execve.seq()); p < count; p++) {
            if (kinds.get(p) == EXEC && event(p) instanceof ExecEvent x
                    && (x.tid() == execve.tid() || x.formerTid() == execve.tid())) {
                return x;
            }
        }
        return null;
    }

    /** True when {@code pid} is one of the recorded processes. */
    boolean hasProcess(int pid) {
        return pids.contains(pid);
    }

    int rootTid() {
        return rootTid;
    }

    /** The thread's log, or null when the recording has no event of it. */
    ThreadLog thread(int recordedTid) {
        return threads.get(recordedTid);
    }

    /** The first event of the run (the program's execve), or null for an empty recording. */
    Event first() {
        return count == 0 ? null : event(0);
    }

    /** Up to {@code n} syscall events numbered before {@code seq}, oldest first. */
    List<SyscallEvent> syscallsBefore(long seq, int n) {
        List<SyscallEvent> out = new ArrayList<>();
        for (int p = lowerBound(seq) - 1; p >= 0 && out.size() < n; p--) {
            if (kinds.get(p) == CALL && event(p) instanceof SyscallEvent s) out.addFirst(s);
        }
        return out;
    }

    /**
     * Where replay stands in the recording, to go back to (a checkpoint): every thread's cursor and
     * the steps done past {@code nextStep} (those before it are all done).
     */
    record Position(Map<Integer, int[]> cursors, int nextStep, int[] doneAhead) {
    }

    /**
     * The position now, with thread {@code parkedTid}'s cursor put back before its call {@code parked}
     * (taken, not yet replayed: a restored run takes it again).
     */
    Position position(int nextStep, int parkedTid, SyscallEvent parked) {
        Map<Integer, int[]> cursors = new HashMap<>();
        for (ThreadLog log : threads.values()) cursors.put(log.tid, new int[] {log.next, log.preemptsReached});
        ThreadLog p = threads.get(parkedTid);
        if (p != null && parked != null) {
            int i = p.indexOf(parked);
            if (i >= 0) cursors.put(parkedTid, new int[] {i, 0});
        }
        int ahead = 0;
        for (int i = nextStep; i < stepCount; i++) if (isDone(i)) ahead++;
        int[] done = new int[ahead];
        ahead = 0;
        for (int i = nextStep; i < stepCount; i++) if (isDone(i)) done[ahead++] = i;
        return new Position(cursors, nextStep, done);
    }

    /** Goes back (or forth) to {@code p}: cursors as they were, the steps done then and no others. */
    void restore(Position p) {
        for (ThreadLog log : threads.values()) {
            int[] c = p.cursors().get(log.tid);
            log.next = c == null ? 0 : c[0];
            log.preemptsReached = c == null ? 0 : c[1];
        }
        for (int i = 0; i < stepCount; i++) {
            boolean done = i < p.nextStep();
            if (done != isDone(i)) stepKind.set(i, (byte) (done ? stepKind.get(i) | DONE : stepKind.get(i) & ~DONE));
        }
        for (int i : p.doneAhead()) markDone(i);
    }

    /** One recorded thread's events in seq order (their positions), with the replay's cursor. */
    final class ThreadLog {
        final int tid;
        /** Where the thread's positions begin in {@link #threadPositions}. */
        private final int offset;
        private int size;
        /** Index of the first event not yet replayed. */
        int next;
        /** Preemptions reached since the last syscall taken. */
        int preemptsReached;
        private int startStep = -1;
        private int endStep = -1;

        private ThreadLog(int tid, int offset) {
            this.tid = tid;
            this.offset = offset;
        }

        /** The position (in seq order) of the thread's i-th event. */
        private int at(int i) {
            return threadPositions.get(offset + i);
        }

        private byte kindAt(int i) {
            return kinds.get(at(i));
        }

        /** The pid of the thread's first event. */
        int pid() {
            return event(at(0)).pid();
        }

        /** The next syscall of the thread, without consuming it; null at the end. */
        SyscallEvent peekSyscall() {
            for (int i = next; i < size; i++) if (kindAt(i) == CALL) return (SyscallEvent) event(at(i));
            return null;
        }

        /** The first of the thread's next {@code limit} syscalls that {@code test} accepts, without consuming any; or null. */
        SyscallEvent nextSyscall(java.util.function.Predicate<SyscallEvent> test, int limit) {
            int seen = 0;
            for (int i = next; i < size && seen < limit; i++) {
                if (kindAt(i) != CALL) continue;
                seen++;
                SyscallEvent s = (SyscallEvent) event(at(i));
                if (test.test(s)) return s;
            }
            return null;
        }

        /** The next syscall of the thread, consuming it and the non-syscall events before it; null at the end. */
        SyscallEvent takeSyscall() {
            preemptsReached = 0;
            memory.tick();
            while (next < size) {
                int p = at(next++);
                if (kinds.get(p) == CALL) return (SyscallEvent) event(p);
            }
            return null;
        }

        /**
         * The thread's next calls, at most {@code max}, as long as each comes right after the one before
         * (nothing recorded between but the mapping an mmap made: no signal, preemption, other mapping or
         * end), is followed by another call, and {@code take} takes it.
         */
        List<SyscallEvent> quietCalls(int max, java.util.function.Predicate<SyscallEvent> take) {
            List<SyscallEvent> out = new ArrayList<>();
            int i = next;
            while (i < size && out.size() < max && kindAt(i) == CALL) {
                SyscallEvent e = null;
                int j = i + 1;
                for (; j < size && kindAt(j) == OTHER; j++) {
                    if (e == null) e = (SyscallEvent) event(at(i));
                    if (!(event(at(j)) instanceof MappingEvent m && !e.failed() && m.address() == e.result())) break;
                }
                if (j >= size || kindAt(j) != CALL) break;
                if (e == null) e = (SyscallEvent) event(at(i));
                if (!take.test(e)) break;
                out.add(e);
                i = j;
            }
            return out;
        }

        /**
         * Consumes the thread's next syscall, {@code seq}, as {@link #takeSyscall} does, without reading it
         * again from the journal (the caller has it); false (nothing consumed) when the next call is another.
         */
        boolean skipSyscall(long seq) {
            for (int i = next; i < size; i++) {
                int p = at(i);
                if (kinds.get(p) != CALL) continue;
                if (seqAt(p) != seq) return false;
                preemptsReached = 0;
                memory.tick();
                next = i + 1;
                return true;
            }
            return false;
        }

        /** The next recorded preemption of the thread before its next syscall and not reached yet, or null. */
        ScheduleEvent nextPreemption() {
            int seen = 0;
            for (int i = next; i < size; i++) {
                byte k = kindAt(i);
                if (k == CALL) return null;
                if (k == PREEMPT && seen++ == preemptsReached) return (ScheduleEvent) event(at(i));
            }
            return null;
        }

        /** Index of {@code e} in this log, found by its seq (e must be one of its events), or -1. */
        int indexOf(Event e) {
            int lo = 0;
            int hi = size;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (seqAt(at(mid)) < e.seq()) lo = mid + 1;
                else hi = mid;
            }
            return lo < size && seqAt(at(lo)) == e.seq() ? lo : -1;
        }

        /**
         * Whether only mappings and context changes follow call {@code e} before the thread's next call:
         * no signal lands at its return, no preemption, no exec, not the thread's end.
         */
        boolean quietAfter(SyscallEvent e) {
            int i = indexOf(e);
            if (i < 0) return false;
            for (i++; i < size; i++) {
                byte k = kindAt(i);
                if (k == CALL) return true;
                if (k != OTHER) return false;
                Event x = event(at(i));
                if (!(x instanceof MappingEvent || x instanceof ContextEvent)) return false;
            }
            return false;
        }

        /** The events after {@code e} up to (not including) the next syscall of the thread. */
        List<Event> after(Event e) {
            List<Event> out = new ArrayList<>();
            for (int i = indexOf(e) + 1; i < size; i++) {
                if (kindAt(i) == CALL) break;
                out.add(event(at(i)));
            }
            return out;
        }

        <T extends Event> T firstAfter(Event e, Class<T> type) {
            for (Event x : after(e)) if (type.isInstance(x)) return type.cast(x);
            return null;
        }

        MappingEvent mappingAfter(SyscallEvent mmap) {
            for (Event x : after(mmap)) {
                if (x instanceof MappingEvent m && m.address() == mmap.result()) return m;
            }
            return null;
        }

        ExecEvent execAfter(SyscallEvent execve) {
            return firstAfter(execve, ExecEvent.class);
        }

        SpawnEvent spawnAfter(SyscallEvent clone) {
            return firstAfter(clone, SpawnEvent.class);
        }

        /** The seq of the thread's last recorded syscall, or -1 when it made none. */
        long lastSyscallSeq() {
            for (int i = size - 1; i >= 0; i--) if (kindAt(i) == CALL) return seqAt(at(i));
            return -1;
        }

        /** How the recorded thread ended, or null when the recording does not say. */
        ExitEvent exit() {
            for (int i = size - 1; i >= 0; i--) if (kindAt(i) == END) return (ExitEvent) event(at(i));
            return null;
        }
    }
}
