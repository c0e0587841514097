package dev.deja.replayer.gdb;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * The event numbers of every recorded process's system calls, so that {@code monitor goto N} can tell a
 * call of the process gdb debugs from another event and find that process's next call. One bit per
 * event up to a process's last call: a few hundred KiB for a recording of millions of events.
 */
public final class ProcessCalls {
    /** No calls known (a server built without a recording: unit tests). */
    public static final ProcessCalls NONE = new ProcessCalls();

    private final Map<Integer, BitSet> byPid = new HashMap<>();

    void add(int pid, long seq) {
        if (seq < 0 || seq > Integer.MAX_VALUE) return; // beyond what goto can name: not a target
        byPid.computeIfAbsent(pid, p -> new BitSet()).set((int) seq);
    }

    /** Whether {@code seq} is a recorded call of process {@code pid}. */
    public boolean isCallOf(int pid, long seq) {
        BitSet b = byPid.get(pid);
        return b != null && seq >= 0 && seq <= Integer.MAX_VALUE && b.get((int) seq);
    }

    /** Process {@code pid}'s first recorded call at or after {@code seq}, or -1. */
    public long nextCallOf(int pid, long seq) {
        BitSet b = byPid.get(pid);
        if (b == null || seq > Integer.MAX_VALUE) return -1;
        return b.nextSetBit((int) Math.max(0, seq));
    }

    /** Process {@code pid}'s last recorded call, or -1. */
    public long lastCallOf(int pid) {
        BitSet b = byPid.get(pid);
        return b == null ? -1 : b.length() - 1;
    }

    /** The process whose call {@code seq} is, or 0 when it is no call. */
    public int processOf(long seq) {
        for (Map.Entry<Integer, BitSet> e : byPid.entrySet()) if (isCallOf(e.getKey(), seq)) return e.getKey();
        return 0;
    }
}
