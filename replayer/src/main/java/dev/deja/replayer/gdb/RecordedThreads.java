package dev.deja.replayer.gdb;

import dev.deja.device.Tracee;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * What the recording says of each live replayed thread: its recorded tid, and the name it gave itself.
 * A replay skips {@code prctl(PR_SET_NAME)} (it changes nothing the program reads back but its own
 * name, which the recording answers), so the live threads keep their creator's name: gdb is told the
 * recorded one. Both are taken from each recorded call as the replay reaches it (see {@link #observe}),
 * and a thread a checkpoint's copy re-created is known by the replay's own map ({@link #alsoAsk}) before
 * it makes a call. Names are kept by recorded thread, so the copy's threads have theirs.
 */
public final class RecordedThreads {
    private static final long PR_SET_NAME = 15;
    private final int nrPrctl;
    private final Map<Integer, String> byRecordedTid = new HashMap<>();
    private final Map<Integer, Integer> recordedTids = new HashMap<>();
    private java.util.function.IntFunction<Integer> replayMap = tid -> null;

    public RecordedThreads(int nrPrctl) {
        this.nrPrctl = nrPrctl;
    }

    /**
     * Before {@code recorded} is replayed by {@code tracee}: the live thread is the recorded one that made
     * it, and a successful PR_SET_NAME names it.
     */
    public void observe(SyscallEvent recorded, Tracee tracee) {
        recordedTids.putIfAbsent(tracee.tid(), recorded.tid());
        if (recorded.nr() != nrPrctl || recorded.arg(0) != PR_SET_NAME || !recorded.returned() || recorded.failed()) return;
        for (MemoryBlock b : recorded.inputs()) {
            if (b.arg() != 1) continue;
            byte[] data = b.data();
            int n = 0;
            while (n < data.length && data[n] != 0) n++;
            byRecordedTid.put(recorded.tid(), new String(data, 0, n, StandardCharsets.UTF_8));
        }
    }

    /** The replay's own map of live to recorded tids (or null), asked for threads no call has shown yet. */
    public void alsoAsk(java.util.function.IntFunction<Integer> liveToRecorded) {
        this.replayMap = liveToRecorded;
    }

    /** The recorded tid of live thread {@code tid}, or null before the replay knows it. */
    public Integer recordedTid(int tid) {
        Integer known = recordedTids.get(tid);
        return known != null ? known : replayMap.apply(tid);
    }

    /** The recorded name of live thread {@code tid}, or null when it gave itself none (so far). */
    public String nameOf(int tid) {
        Integer recorded = recordedTid(tid);
        return recorded == null ? null : byRecordedTid.get(recorded);
    }
}
