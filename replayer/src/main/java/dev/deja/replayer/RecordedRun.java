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
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A recording's events, regrouped for replay: every thread's events in entry ({@code seq}) order,
 * and the whole run in that order for divergence reports. Held in memory.
 */
final class RecordedRun {
    private final List<Event> all;
    private final Map<Integer, ThreadLog> threads = new HashMap<>();
    private final int rootTid;
    private final java.util.Set<Integer> pids = new java.util.HashSet<>();

    /**
     * The recorded timeline of the steps replay orders threads by: every syscall's entry and exit and
     * every thread's end, sorted by the time the recorder saw them (its one tracing thread saw each
     * stop after the previous one, so the times give one total order).
     */
    private final List<Step> steps = new ArrayList<>();
    private final Map<Long, Integer> entryStep = new HashMap<>();
    private final Map<Long, Integer> exitStep = new HashMap<>();
    private final Map<Integer, Integer> endStep = new HashMap<>();
    private final Map<Integer, Integer> startStep = new HashMap<>();
    private final Map<Long, Integer> preemptStep = new HashMap<>();
    private final Map<Long, Integer> resumeStep = new HashMap<>();

    /**
     * ENTRY and EXIT: a syscall's; END: a thread's; START: a new thread's first run (format 2);
     * PREEMPT and RESUME: where a thread was interrupted between syscalls and when it ran again.
     */
    enum StepKind { ENTRY, EXIT, END, START, PREEMPT, RESUME }

    record Step(long timeNs, long seq, StepKind kind, int tid) {
    }

    private RecordedRun(List<Event> all) {
        this.all = all;
        for (Event e : all) {
            threads.computeIfAbsent(e.tid(), ThreadLog::new).events.add(e);
            pids.add(e.pid());
            if (e instanceof SyscallEvent s) {
                steps.add(new Step(s.timeNs(), s.seq(), StepKind.ENTRY, s.tid()));
                if (s.returned()) steps.add(new Step(s.exitTimeNs(), s.seq(), StepKind.EXIT, s.tid()));
            } else if (e instanceof ExitEvent x) {
                steps.add(new Step(x.timeNs(), x.seq(), StepKind.END, x.tid()));
            } else if (e instanceof ScheduleEvent sc) {
                if (sc.scheduleKind() == ScheduleEvent.Kind.START) {
                    steps.add(new Step(sc.timeNs(), sc.seq(), StepKind.START, sc.tid()));
                } else {
                    steps.add(new Step(sc.timeNs(), sc.seq(), StepKind.PREEMPT, sc.tid()));
                    steps.add(new Step(sc.resumeNs(), sc.seq(), StepKind.RESUME, sc.tid()));
                }
            }
        }
        steps.sort(Comparator.comparingLong(Step::timeNs).thenComparingLong(Step::seq));
        for (int i = 0; i < steps.size(); i++) {
            Step st = steps.get(i);
            switch (st.kind()) {
                case ENTRY -> entryStep.put(st.seq(), i);
                case EXIT -> exitStep.put(st.seq(), i);
                case END -> endStep.put(st.tid(), i);
                case START -> startStep.put(st.tid(), i);
                case PREEMPT -> preemptStep.put(st.seq(), i);
                case RESUME -> resumeStep.put(st.seq(), i);
            }
        }
        this.rootTid = all.isEmpty() ? -1 : all.getFirst().tid();
    }

    int threadCount() {
        return threads.size();
    }

    List<Step> steps() {
        return steps;
    }

    /** The step index of a syscall's entry (or exit), or -1. */
    int entryStep(long seq) {
        return entryStep.getOrDefault(seq, -1);
    }

    int exitStep(long seq) {
        return exitStep.getOrDefault(seq, -1);
    }

    int endStep(int tid) {
        return endStep.getOrDefault(tid, -1);
    }

    int startStep(int tid) {
        return startStep.getOrDefault(tid, -1);
    }

    int preemptStep(long seq) {
        return preemptStep.getOrDefault(seq, -1);
    }

    int resumeStep(long seq) {
        return resumeStep.getOrDefault(seq, -1);
    }

    static RecordedRun load(Recording rec) throws RecordingException {
        List<Event> all = new ArrayList<>();
        try (EventReader r = rec.events()) {
            Event e;
            while ((e = r.next()) != null) all.add(e);
        }
        return of(all);
    }

    /** A run from events in any order (journal order is completion order). */
    static RecordedRun of(List<Event> events) {
        List<Event> all = new ArrayList<>(events);
        all.sort(Comparator.comparingLong(Event::seq));
        return new RecordedRun(all);
    }

    /**
     * The exec event of a successful execve: in the same thread's log, or, when a thread other than
     * the leader exec'd, in the leader's (it took the leader's tid), naming the thread as its former tid.
     */
    ExecEvent execAfter(SyscallEvent execve) {
        for (int i = indexOf(execve.seq()); i < all.size(); i++) {
            if (all.get(i) instanceof ExecEvent x && (x.tid() == execve.tid() || x.formerTid() == execve.tid())) return x;
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
        return all.isEmpty() ? null : all.getFirst();
    }

    /** Up to {@code n} syscall events numbered before {@code seq}, oldest first. */
    List<SyscallEvent> syscallsBefore(long seq, int n) {
        List<SyscallEvent> out = new ArrayList<>();
        int hi = indexOf(seq);
        for (int i = hi - 1; i >= 0 && out.size() < n; i--) {
            if (all.get(i) instanceof SyscallEvent s) out.addFirst(s);
        }
        return out;
    }

    private int indexOf(long seq) {
        int lo = 0;
        int hi = all.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (all.get(mid).seq() < seq) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /** One recorded thread's events in seq order, with the replay's cursor. */
    static final class ThreadLog {
        final int tid;
        final List<Event> events = new ArrayList<>();
        /** Index of the first event not yet replayed. */
        int next;
        /** Preemptions reached since the last syscall taken. */
        int preemptsReached;

        ThreadLog(int tid) {
            this.tid = tid;
        }

        /** The next syscall of the thread, without consuming it; null at the end. */
        SyscallEvent peekSyscall() {
            for (int i = next; i < events.size(); i++) if (events.get(i) instanceof SyscallEvent s) return s;
            return null;
        }

        /** The next syscall of the thread, consuming it and the non-syscall events before it; null at the end. */
        SyscallEvent takeSyscall() {
            preemptsReached = 0;
            while (next < events.size()) {
                Event e = events.get(next++);
                if (e instanceof SyscallEvent s) return s;
            }
            return null;
        }

        /** The next recorded preemption of the thread before its next syscall and not reached yet, or null. */
        ScheduleEvent nextPreemption() {
            int seen = 0;
            for (int i = next; i < events.size(); i++) {
                Event e = events.get(i);
                if (e instanceof SyscallEvent) return null;
                if (e instanceof ScheduleEvent sc && sc.scheduleKind() == ScheduleEvent.Kind.PREEMPT && seen++ == preemptsReached) {
                    return sc;
                }
            }
            return null;
        }

        /** Index of {@code e} in this log (e must be one of its events). */
        int indexOf(Event e) {
            for (int i = Math.max(0, next - 1); i >= 0; i--) if (events.get(i) == e) return i;
            return events.indexOf(e);
        }

        /** The events after {@code e} up to (not including) the next syscall of the thread. */
        List<Event> after(Event e) {
            List<Event> out = new ArrayList<>();
            for (int i = indexOf(e) + 1; i < events.size(); i++) {
                Event x = events.get(i);
                if (x instanceof SyscallEvent) break;
                out.add(x);
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
            for (int i = events.size() - 1; i >= 0; i--) if (events.get(i) instanceof ExitEvent x) return x;
            return null;
        }
    }
}
