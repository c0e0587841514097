package dev.deja.replayer;

import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
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

    private RecordedRun(List<Event> all) {
        this.all = all;
        for (Event e : all) {
            threads.computeIfAbsent(e.tid(), ThreadLog::new).events.add(e);
            pids.add(e.pid());
        }
        this.rootTid = all.isEmpty() ? -1 : all.getFirst().tid();
    }

    static RecordedRun load(Recording rec) throws RecordingException {
        List<Event> all = new ArrayList<>();
        try (EventReader r = rec.events()) {
            Event e;
            while ((e = r.next()) != null) all.add(e);
        }
        all.sort(Comparator.comparingLong(Event::seq));
        return new RecordedRun(all);
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

        ThreadLog(int tid) {
            this.tid = tid;
        }

        /** The next syscall of the thread, consuming it and the non-syscall events before it; null at the end. */
        SyscallEvent takeSyscall() {
            while (next < events.size()) {
                Event e = events.get(next++);
                if (e instanceof SyscallEvent s) return s;
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
