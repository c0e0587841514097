package dev.deja.replayer;

import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.util.ArrayList;
import java.util.Arrays;
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
 * <p>Only a compact index stays in memory, in primitive arrays: 9 bytes an event (its journal
 * position, its kind, its place in its thread's list), and with more than one thread about 35
 * more for the timeline (each step's time, event and kind; each event's steps). Event bodies are
 * decoded again from the journal when replay asks for them, through a small cache.
 */
final class RecordedRun implements AutoCloseable {
    /** Event kinds, as much as the index needs to walk a thread's events without decoding them. */
    private static final byte CALL = 0, PREEMPT = 1, START = 2, END = 3, EXEC = 4, OTHER = 5;
    /** Decoded events kept: enough for every thread's next call and the events around it. */
    private static final int CACHE = 256;

    private final Source source;
    private final int count;
    /** By position in seq order: the event's position in the journal, its kind, its steps (or -1). */
    private final int[] journalPos;
    private final byte[] kinds;
    private final int[] firstStep;
    private final int[] secondStep;
    /** The events' seqs by position, or null when they are consecutive from {@code firstSeq} (as deja records them). */
    private final long[] seqs;
    private final long firstSeq;

    private final Map<Integer, ThreadLog> threads = new HashMap<>();
    private final Set<Integer> pids;
    private final int rootTid;

    /**
     * The recorded timeline of the steps replay orders threads by: every syscall's entry and exit and
     * every thread's end, sorted by the time the recorder saw them (its one tracing thread saw each
     * stop after the previous one, so the times give one total order). By step: time, the event's
     * position, kind.
     */
    private final long[] stepTime;
    private final int[] stepPos;
    private final byte[] stepKind;
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
     * Builds the index from the scan with as little held at once as it can: the scan's per-event
     * arrays go once the events are in seq order, and the steps are sorted in place.
     */
    private RecordedRun(Source source, Scan scan) {
        this.source = source;
        int n = scan.count;
        this.count = n;
        this.stepCount = scan.steps;
        // Seq order, ties in journal order (as the stable sort of the events did).
        int[] order = identity(n);
        IntSort.sort(order, (a, b) -> scan.seq[a] != scan.seq[b] ? Long.compare(scan.seq[a], scan.seq[b]) : Integer.compare(a, b));
        journalPos = order;
        kinds = new byte[n];
        boolean consecutive = n == 0 || scan.seq[order[0]] > 0;
        for (int p = 0; p < n; p++) {
            kinds[p] = scan.kind[order[p]];
            if (p > 0 && scan.seq[order[p]] != scan.seq[order[p - 1]] + 1) consecutive = false;
        }
        firstSeq = n == 0 ? 0 : scan.seq[order[0]];
        if (consecutive) {
            seqs = null;
        } else {
            seqs = new long[n];
            for (int p = 0; p < n; p++) seqs[p] = scan.seq[order[p]];
        }
        pids = scan.pids;
        rootTid = n == 0 ? -1 : scan.tid[order[0]];

        // Each thread's positions, in seq order.
        Map<Integer, int[]> sizes = new HashMap<>();
        for (int j = 0; j < n; j++) sizes.computeIfAbsent(scan.tid[j], t -> new int[1])[0]++;
        for (Map.Entry<Integer, int[]> e : sizes.entrySet()) threads.put(e.getKey(), new ThreadLog(e.getKey(), e.getValue()[0]));
        for (int p = 0; p < n; p++) threads.get(scan.tid[order[p]]).append(p);

        if (scan.stepTime == null) {
            // One thread: replay does not order threads (ReplayTracer.ordersThreads), no timeline is needed.
            scan.seq = null;
            stepTime = new long[0];
            stepPos = new int[0];
            stepKind = new byte[0];
            firstStep = null;
            secondStep = null;
            return;
        }
        // The steps name their event by journal position while scanning: by seq position from here on.
        int[] positionOf = new int[n];
        for (int p = 0; p < n; p++) positionOf[order[p]] = p;
        scan.seq = null;
        scan.tid = null;
        scan.kind = null;
        int steps = scan.steps;
        long[] time = scan.stepTime;
        int[] pos = scan.stepPos;
        byte[] kind = scan.stepKind;
        scan.stepTime = null;
        scan.stepPos = null;
        scan.stepKind = null;
        for (int i = 0; i < steps; i++) pos[i] = positionOf[pos[i]];
        positionOf = null;

        // By time; at equal times by seq, then a syscall's entry before its exit (their order in the old
        // list of steps, which a stable sort kept).
        int[] sorted = identity(steps);
        IntSort.sort(sorted, (a, b) -> {
            if (time[a] != time[b]) return Long.compare(time[a], time[b]);
            long sa = seqAt(pos[a]), sb = seqAt(pos[b]);
            if (sa != sb) return Long.compare(sa, sb);
            if (pos[a] != pos[b]) return Integer.compare(pos[a], pos[b]);
            return Integer.compare(kind[a], kind[b]);
        });
        permute(sorted, steps, time, pos, kind);
        sorted = null;
        // Trimmed only when much is unused: a copy costs as much again while it is made.
        boolean trim = time.length - steps > steps / 8;
        stepTime = trim ? Arrays.copyOf(time, steps) : time;
        stepPos = trim ? Arrays.copyOf(pos, steps) : pos;
        stepKind = trim ? Arrays.copyOf(kind, steps) : kind;
        firstStep = new int[n];
        secondStep = new int[n];
        Arrays.fill(firstStep, -1);
        Arrays.fill(secondStep, -1);
        for (int i = 0; i < steps; i++) {
            int p = stepPos[i];
            switch (STEP_KINDS[stepKind[i]]) {
                case ENTRY, PREEMPT -> firstStep[p] = i;
                case EXIT, RESUME -> secondStep[p] = i;
                case END -> threadAt(p).endStep = i;
                case START -> threadAt(p).startStep = i;
            }
        }
    }

    /** Reorders the first {@code n} elements of the arrays in place so that element i is the one at {@code perm[i]}; uses up perm. */
    private static void permute(int[] perm, int n, long[] time, int[] pos, byte[] kind) {
        for (int i = 0; i < n; i++) {
            if (perm[i] < 0) continue;
            long t = time[i];
            int p = pos[i];
            byte k = kind[i];
            int j = i;
            while (true) {
                int from = perm[j];
                perm[j] = -1;
                if (from == i) {
                    time[j] = t;
                    pos[j] = p;
                    kind[j] = k;
                    break;
                }
                time[j] = time[from];
                pos[j] = pos[from];
                kind[j] = kind[from];
                j = from;
            }
        }
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /** The thread of the event at a position (its END or START step: the thread's own log holds it). */
    private ThreadLog threadAt(int p) {
        for (ThreadLog log : threads.values()) if (log.holds(p)) return log;
        throw new IllegalStateException("no thread holds event position " + p);
    }

    /**
     * What one pass over the journal keeps, until the index is built: of each event in journal order
     * its seq, thread and kind; its steps (time, journal position, kind) in that order.
     */
    private static final class Scan {
        int count;
        long[] seq;
        int[] tid;
        byte[] kind;
        /** The steps, from the event where a second thread appeared (null until then) and then of the events before it. */
        int steps;
        long[] stepTime;
        int[] stepPos;
        byte[] stepKind;
        /** How many events came before the steps began to be kept: {@link #stepsOf} must be given them again. */
        int withoutSteps;
        final Set<Integer> pids = new HashSet<>();
        private final int expected;

        Scan(long expected) {
            this.expected = Math.clamp(expected, 16, Integer.MAX_VALUE / 2 - 16);
            seq = new long[this.expected];
            tid = new int[this.expected];
            kind = new byte[this.expected];
        }

        void add(Event e) {
            if (count == seq.length) {
                int cap = count + (count >> 1) + 16;
                seq = Arrays.copyOf(seq, cap);
                tid = Arrays.copyOf(tid, cap);
                kind = Arrays.copyOf(kind, cap);
            }
            int j = count++;
            seq[j] = e.seq();
            tid[j] = e.tid();
            pids.add(e.pid());
            kind[j] = switch (e) {
                case SyscallEvent _ -> CALL;
                case ExitEvent _ -> END;
                case ScheduleEvent sc when sc.scheduleKind() == ScheduleEvent.Kind.START -> START;
                case ScheduleEvent _ -> PREEMPT;
                case ExecEvent _ -> EXEC;
                default -> OTHER;
            };
            if (stepTime == null && tid[j] != tid[0]) {
                stepTime = new long[2 * expected];
                stepPos = new int[2 * expected];
                stepKind = new byte[2 * expected];
                withoutSteps = j;
            }
            if (stepTime != null) stepsOf(e, j);
        }

        /** The steps of the event at journal position j. */
        void stepsOf(Event e, int j) {
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

        private void step(long time, int j, StepKind k) {
            if (steps == stepTime.length) {
                int cap = steps + (steps >> 1) + 16;
                stepTime = Arrays.copyOf(stepTime, cap);
                stepPos = Arrays.copyOf(stepPos, cap);
                stepKind = Arrays.copyOf(stepKind, cap);
            }
            stepTime[steps] = time;
            stepPos[steps] = j;
            stepKind[steps] = (byte) k.ordinal();
            steps++;
        }
    }

    // ---------------------------------------------------------------- building

    /**
     * Indexes the recording in one pass over its journal; the returned run reads events again from the
     * same reader. Close it.
     */
    static RecordedRun load(Recording rec) throws RecordingException {
        EventReader reader = rec.events();
        try {
            Scan scan = new Scan(rec.summary().map(s -> s.eventCount()).orElse(1024L));
            Event e;
            while ((e = reader.next()) != null) scan.add(e);
            if (scan.withoutSteps > 0) {
                // A second thread appeared: the steps of the events before it, read again.
                reader.seek(0);
                for (int j = 0; j < scan.withoutSteps; j++) {
                    Event again = reader.next();
                    if (again == null) throw new RecordingException("journal entry " + j + " of " + rec.path() + " read before is gone");
                    scan.stepsOf(again, j);
                }
            }
            return new RecordedRun(new JournalSource(rec, reader), scan);
        } catch (RecordingException | RuntimeException ex) {
            reader.close();
            throw ex;
        }
    }

    /** A run from events in any order (journal order is completion order). */
    static RecordedRun of(List<Event> events) {
        List<Event> journal = List.copyOf(events);
        Scan scan = new Scan(journal.size());
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
        }, scan);
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
        source.close();
    }

    // ---------------------------------------------------------------- access

    /**
     * The event at a position in seq order. The journal was read whole before replay began: failing
     * now means it changed underneath, and the replay stops with that failure.
     */
    private Event event(int p) {
        try {
            return source.read(journalPos[p]);
        } catch (RecordingException e) {
            throw new ReplayTracer.Stop(new ReplayException("cannot read event " + seqAt(p) + " again: " + e.getMessage(), e));
        }
    }

    private long seqAt(int p) {
        return seqs == null ? firstSeq + p : seqs[p];
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
            if (seqs[mid] < seq) lo = mid + 1;
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

    int stepCount() {
        return stepCount;
    }

    /** Step times by index; the arrays may be longer than {@link #stepCount()}. */
    long stepTime(int i) {
        return stepTime[i];
    }

    /** Step {@code i} of the timeline, its thread read from its event. */
    Step step(int i) {
        int p = stepPos[i];
        return new Step(stepTime[i], seqAt(p), STEP_KINDS[stepKind[i]], event(p).tid());
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

    private int stepOf(long seq, byte kind, int[] which) {
        if (which == null) return -1;
        int p = positionOf(seq);
        return p < 0 || kinds[p] != kind ? -1 : which[p];
    }

    /**
     * The exec event of a successful execve: in the same thread's log, or, when a thread other than
     * the leader exec'd, in the leader's (it took the leader's tid), naming the thread as its former tid.
     */
    ExecEvent execAfter(SyscallEvent execve) {
        for (int p = lowerBound(execve.seq()); p < count; p++) {
            if (kinds[p] == EXEC && event(p) instanceof ExecEvent x
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
            if (kinds[p] == CALL && event(p) instanceof SyscallEvent s) out.addFirst(s);
        }
        return out;
    }

    /** One recorded thread's events in seq order (their positions), with the replay's cursor. */
    final class ThreadLog {
        final int tid;
        private final int[] positions;
        private int size;
        /** Index of the first event not yet replayed. */
        int next;
        /** Preemptions reached since the last syscall taken. */
        int preemptsReached;
        private int startStep = -1;
        private int endStep = -1;

        private ThreadLog(int tid, int capacity) {
            this.tid = tid;
            this.positions = new int[capacity];
        }

        private void append(int p) {
            positions[size++] = p;
        }

        private boolean holds(int p) {
            return Arrays.binarySearch(positions, 0, size, p) >= 0;
        }

        /** The pid of the thread's first event. */
        int pid() {
            return event(positions[0]).pid();
        }

        /** The next syscall of the thread, without consuming it; null at the end. */
        SyscallEvent peekSyscall() {
            for (int i = next; i < size; i++) if (kinds[positions[i]] == CALL) return (SyscallEvent) event(positions[i]);
            return null;
        }

        /** The next syscall of the thread, consuming it and the non-syscall events before it; null at the end. */
        SyscallEvent takeSyscall() {
            preemptsReached = 0;
            while (next < size) {
                int p = positions[next++];
                if (kinds[p] == CALL) return (SyscallEvent) event(p);
            }
            return null;
        }

        /** The next recorded preemption of the thread before its next syscall and not reached yet, or null. */
        ScheduleEvent nextPreemption() {
            int seen = 0;
            for (int i = next; i < size; i++) {
                byte k = kinds[positions[i]];
                if (k == CALL) return null;
                if (k == PREEMPT && seen++ == preemptsReached) return (ScheduleEvent) event(positions[i]);
            }
            return null;
        }

        /** Index of {@code e} in this log, found by its seq (e must be one of its events), or -1. */
        int indexOf(Event e) {
            int lo = 0;
            int hi = size;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (seqAt(positions[mid]) < e.seq()) lo = mid + 1;
                else hi = mid;
            }
            return lo < size && seqAt(positions[lo]) == e.seq() ? lo : -1;
        }

        /** The events after {@code e} up to (not including) the next syscall of the thread. */
        List<Event> after(Event e) {
            List<Event> out = new ArrayList<>();
            for (int i = indexOf(e) + 1; i < size; i++) {
                if (kinds[positions[i]] == CALL) break;
                out.add(event(positions[i]));
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

        /** How the recorded thread ended, or null when the recording does not say. */
        ExitEvent exit() {
            for (int i = size - 1; i >= 0; i--) if (kinds[positions[i]] == END) return (ExitEvent) event(positions[i]);
            return null;
        }
    }
}
