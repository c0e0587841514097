package dev.deja.replayer.diff;

/**
 * One place where two runs differ, in one matched thread.
 *
 * @param kind   what differs
 * @param thread the index of the matched thread (1 is the first thread of the first process)
 * @param row    the index in the thread's alignment of the first row concerned
 * @param rows   how many rows it spans (a block of calls only one run made), at least 1
 * @param aSeq   the event number in run A of its first row, or of the last A event before it (0 when none)
 * @param bSeq   the same for run B
 * @param detail what differs, in a few words ("argument 1: 0 vs 1", "errno ENOENT vs 0")
 */
public record Difference(Kind kind, int thread, int row, int rows, long aSeq, long bSeq, String detail) {

    /** What differs; {@link #control()} separates a different path through the program from different data. */
    public enum Kind {
        /** Calls only run A made. */
        ONLY_A(true, "only in A"),
        /** Calls only run B made. */
        ONLY_B(true, "only in B"),
        /** The runs made different calls at the same point. */
        CALL(true, "different calls"),
        /** The same call with another path or string argument. */
        PATH(true, "different path"),
        /** The same call with other scalar arguments (flags, fds, modes, sizes that do not size a buffer). */
        ARGS(true, "different arguments"),
        /** One call failed and the other did not, or they failed with different errnos, or one never returned. */
        RESULT(true, "different result"),
        /** Another signal, or a signal delivered in one run and suppressed in the other. */
        SIGNAL(true, "different signal"),
        /** The thread or process ended differently (exit status, killing signal). */
        EXIT(true, "different exit"),
        /** A thread or process that only one run created. */
        THREAD(true, "thread only in one run"),
        /** Different bytes the program gave the kernel (data written, a buffer's size). */
        INPUT(false, "different input data"),
        /** Different bytes the kernel gave the program (a buffer read, a timespec, a stat). */
        OUTPUT(false, "different output data"),
        /** A successful call returned another value (a count, a descriptor). */
        VALUE(false, "different result value"),
        /** Process or thread ids that do not correspond (an id from outside the recording). */
        ID(false, "different ids"),
        /**
         * Synchronisation that went another way (a futex wait one run made and the other did not need, a wait
         * that returned EAGAIN): the threads' timing differed, which every run of a threaded program shows.
         */
        SCHEDULE(false, "different scheduling"),
        /**
         * Two threads' calls on the same descriptor of a process (two writes to one pipe) happened in the other
         * order: the race between them went the other way. Marked on the call that came later in A.
         */
        ORDER(false, "different order across threads");

        private final boolean control;
        private final String words;

        Kind(boolean control, String words) {
            this.control = control;
            this.words = words;
        }

        /** True for a difference in control flow: the runs took different paths here. */
        public boolean control() {
            return control;
        }

        /** A few words for reports. */
        public String words() {
            return words;
        }

        /** True for data the outside world supplied: candidates for the cause of a later control difference. */
        public boolean incoming() {
            return this == OUTPUT || this == VALUE;
        }
    }

    public Difference {
        if (rows < 1) throw new IllegalArgumentException("a difference spans at least one row: " + rows);
        if (row < 0) throw new IllegalArgumentException("row must not be negative: " + row);
    }

    public boolean control() {
        return kind.control();
    }
}
