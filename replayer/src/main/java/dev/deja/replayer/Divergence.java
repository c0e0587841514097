package dev.deja.replayer;

import java.util.List;

/**
 * The replaying program left the recording: it made a call the recording does not have at that
 * point (another syscall, other scalar arguments, other input bytes), or a call that ran for real
 * answered differently. The replay stops at the first one.
 *
 * @param seq      the recorded event the replay expected
 * @param pid      its recorded pid
 * @param tid      its recorded tid
 * @param expected the recorded call, rendered as deja dump does
 * @param got      what the replaying program did instead
 * @param before   the recorded events before it, rendered, oldest first
 */
public record Divergence(long seq, int pid, int tid, String expected, String got, List<String> before) {

    public Divergence {
        before = List.copyOf(before);
    }

    /** "divergence at event N (pid P, tid T): expected X, got Y". */
    public String headline() {
        return "divergence at event " + seq + " (pid " + pid + ", tid " + tid + "): expected " + expected + ", got " + got;
    }
}
