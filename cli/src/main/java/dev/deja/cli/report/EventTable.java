package dev.deja.cli.report;

/**
 * The events a report draws, as columns (a million events stay a few tens of megabytes, and the page
 * gets them as typed arrays). Row {@code i} is one event; rows are grouped by lane and ordered by start
 * time within a lane. Built once by {@link RunModelBuilder}; never changed afterwards.
 */
public final class EventTable {
    /** The call failed (an error return). */
    public static final int FAILED = 1;
    /** A spawn, exec, signal or exit: drawn as a mark, always visible. */
    public static final int MARK = 2;
    /** Where the run failed: a non-zero exit, a fatal signal, a write of a failure line. */
    public static final int FATAL = 4;
    /** A write to standard output or error: an output line links to it. */
    public static final int OUTPUT = 8;
    /** The call never returned (the thread exited, was killed, or exec replaced it). */
    public static final int NO_EXIT = 16;

    /** The kinds a row can be, as the page names them. */
    public enum Kind { SYSCALL, SIGNAL, SPAWN, EXEC, EXIT }

    private final long[] seq;
    private final int[] lane;
    private final long[] startNs;
    private final long[] durationNs;
    private final byte[] callClass;
    private final byte[] flags;
    private final byte[] kind;
    private final String[] text;
    private final String[] detail;

    EventTable(long[] seq, int[] lane, long[] startNs, long[] durationNs, byte[] callClass, byte[] flags, byte[] kind,
               String[] text, String[] detail) {
        int n = seq.length;
        if (lane.length != n || startNs.length != n || durationNs.length != n || callClass.length != n
                || flags.length != n || kind.length != n || text.length != n || detail.length != n) {
            throw new IllegalArgumentException("the columns of an event table must have one length");
        }
        this.seq = seq;
        this.lane = lane;
        this.startNs = startNs;
        this.durationNs = durationNs;
        this.callClass = callClass;
        this.flags = flags;
        this.kind = kind;
        this.text = text;
        this.detail = detail;
    }

    public int size() {
        return seq.length;
    }

    public long seq(int i) {
        return seq[i];
    }

    public int lane(int i) {
        return lane[i];
    }

    public long startNs(int i) {
        return startNs[i];
    }

    public long durationNs(int i) {
        return durationNs[i];
    }

    public CallClass callClass(int i) {
        return CallClass.values()[callClass[i]];
    }

    public int flags(int i) {
        return flags[i];
    }

    public boolean has(int i, int flag) {
        return (flags[i] & flag) != 0;
    }

    public Kind kind(int i) {
        return Kind.values()[kind[i]];
    }

    /** The event as deja dump prints it (strace style). */
    public String text(int i) {
        return text[i];
    }

    /** What else the details panel shows: the memory the kernel wrote, the signal's sender, the child. */
    public String detail(int i) {
        return detail[i];
    }

    /** The row of event {@code seq}, or -1 when the table does not draw it. */
    public int indexOf(long wanted) {
        for (int i = 0; i < seq.length; i++) if (seq[i] == wanted) return i;
        return -1;
    }
}
