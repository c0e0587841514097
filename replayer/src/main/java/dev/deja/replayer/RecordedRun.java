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
 * <p>Only a compact index stays in memory, in primitive arrays (about 45 bytes an event: its
 * journal position, kind and steps; the steps' times and order); event bodies are decoded again
 * from the journal when replay asks for them, through a small cache. Replay memory thus hardly
 * grows with the recording's length.
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

    private RecordedRun(Source source, Scan scan) {
        this.source = source;
        int n = scan.count;
        this.count = n;
        // Seq order, ties in journal order (as the stable sort of the events did).
        int[] order = identity(n);
        long[] sseq = scan.seq;
        IntSort.sort(order, (a, b) -> a == b ? 0 : sseq[a] != sseq[b] ? Long.compare(sseq[a], sseq[b]) : Integer.compare(a, b));
        journalPos = order;
        kinds = new byte[n];
        long[] bySeq = new long[n];
        boolean consecutive = n == 0 || sseq[order[0]] > 0;
        for (int p = 0; p < n; p++) {
            int j = order[p];
            kinds[p] = scan.kind[j];
            bySeq[p] = sseq[j];
            if (p > 0 && bySeq[p] != bySeq[p - 1] + 1) consecutive = false;
        }
        firstSeq = n == 0 ? 0 : bySeq[0];
        seqs = consecutive ? null : bySeq;
        pids = scan.pids;
        rootTid = n == 0 ? -1 : scan.tid[order[0]];

        // Each thread's positions, in seq order.
        Map<Integer, int[]> sizes = new HashMap<>();
        for (int j = 0; j < n; j++) sizes.computeIfAbsent(scan.tid[j], t -> new int[1])[0]++;
        for (Map.Entry<Integer, int[]> e : sizes.entrySet()) threads.put(e.getKey(), new ThreadLog(e.getKey(), e.getValue()[0]));
        for (int p = 0; p < n; p++) threads.get(scan.tid[order[p]]).append(p);

        // The steps in seq order first (a syscall's entry before its exit), then sorted by time.
        int steps = 0;
        for (int p = 0; p < n; p++) steps += stepsOf(kinds[p], scan.t2[order[p]]);
        long[] genTime = new long[steps];
        int[] genPos = new int[steps];
        byte[] genKind = new byte[steps];
        int g = 0;
        for (int p = 0; p < n; p++) {
            int j = order[p];
            switch (kinds[p]) {
                case CALL -> {
                    g = step(genTime, genPos, genKind, g, scan.t1[j], p, StepKind.ENTRY);
                    if (scan.t2[j] != NONE) g = step(genTime, genPos, genKind, g, scan.t2[j], p, StepKind.EXIT);
                }
                case END -> g = step(genTime, genPos, genKind, g, scan.t1[j], p, StepKind.END);
                case START -> g = step(genTime, genPos, genKind, g, scan.t1[j], p, StepKind.START);
                case PREEMPT -> {
                    g = step(genTime, genPos, genKind, g, scan.t1[j], p, StepKind.PREEMPT);
                    g = step(genTime, genPos, genKind, g, scan.t2[j], p, StepKind.RESUME);
                }
                default -> { }
            }
        }
        scan.release();
        int[] sorted = identity(steps);
        IntSort.sort(sorted, (a, b) -> {
            if (a == b) return 0;
            if (genTime[a] != genTime[b]) return Long.compare(genTime[a], genTime[b]);
            long sa = seqAt(genPos[a]), sb = seqAt(genPos[b]);
            return sa != sb ? Long.compare(sa, sb) : Integer.compare(a, b);
        });
        stepTime = new long[steps];
        stepPos = new int[steps];
        stepKind = new byte[steps];
        firstStep = new int[n];
        secondStep = new int[n];
        Arrays.fill(firstStep, -1);
        Arrays.fill(secondStep, -1);
        for (int i = 0; i < steps; i++) {
            int s = sorted[i];
            int p = genPos[s];
            stepTime[i] = genTime[s];
            stepPos[i] = p;
            stepKind[i] = genKind[s];
            switch (STEP_KINDS[genKind[s]]) {
                case ENTRY, PREEMPT -> firstStep[p] = i;
                case EXIT, RESUME -> secondStep[p] = i;
                case END -> threadAt(p).endStep = i;
                case START -> threadAt(p).startStep = i;
            }
        }
    }

    /** No second time (a call that never returned). */
    private static final long NONE = Long.MIN_VALUE;

    private static int stepsOf(byte kind, long t2) {
        return switch (kind) {
            case CALL -> t2 != NONE ? 2 : 1;
            case PREEMPT -> 2;
            case START, END -> 1;
            default -> 0;
        };
    }

    private static int step(long[] time, int[] pos, byte[] kind, int g, long t, int p, StepKind k) {
        time[g] = t;
        pos[g] = p;
        kind[g] = (byte) k.ordinal();
        return g + 1;
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

    /** What one pass over the journal keeps of each event, in journal order, until the index is built. */
    private static final class Scan {
        int count;
        long[] seq;
        int[] tid;
        byte[] kind;
        /** Entry (or event) time, and exit or resume time or {@link #NONE}. */
        long[] t1;
        long[] t2;
        final Set<Integer> pids = new HashSet<>();

        Scan(long expected) {
            int cap = Math.clamp(expected, 16, Integer.MAX_VALUE - 16);
            seq = new long[cap];
            tid = new int[cap];
            kind = new byte[cap];
            t1 = new long[cap];
            t2 = new long[cap];
        }

        void add(Event e) {
            if (count == seq.length) {
                int cap = count + (count >> 1) + 16;
                seq = Arrays.copyOf(seq, cap);
                tid = Arrays.copyOf(tid, cap);
                kind = Arrays.copyOf(kind, cap);
                t1 = Arrays.copyOf(t1, cap);
                t2 = Arrays.copyOf(t2, cap);
            }
            seq[count] = e.seq();
            tid[count] = e.tid();
            t1[count] = e.timeNs();
            t2[count] = NONE;
            pids.add(e.pid());
            kind[count] = switch (e) {
                case SyscallEvent s -> {
                    if (s.returned()) t2[count] = s.exitTimeNs();
                    yield CALL;
                }
                case ExitEvent _ -> END;
                case ScheduleEvent sc when sc.scheduleKind() == ScheduleEvent.Kind.START -> START;
                case ScheduleEvent sc -> {
                    t2[count] = sc.resumeNs();
                    yield PREEMPT;
                }
                case ExecEvent _ -> EXEC;
                default -> OTHER;
            };
            count++;
        }

        void release() {
            seq = null;
            tid = null;
            kind = null;
            t1 = null;
            t2 = null;
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
        return stepTime.length;
    }

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
