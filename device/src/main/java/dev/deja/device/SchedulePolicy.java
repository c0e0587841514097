package dev.deja.device;

import java.util.List;

/**
 * How the device's scheduler runs the threads of one address space while recording: one at a time
 * (threads inside a syscall do not count), the next chosen by this policy at each syscall
 * boundary, and a thread that runs longer than {@link #sliceNs()} without a syscall while others
 * wait is interrupted. Every decision is reported to the tracer, so replay can enforce it.
 */
public interface SchedulePolicy {
    /** The default time slice: a thread computing this long without a syscall lets a waiting one run. */
    long DEFAULT_SLICE_NS = 10_000_000;

    /** First come, first served: the plain recorder's policy. */
    SchedulePolicy FIFO = waiting -> waiting.getFirst();

    /**
     * Of the threads waiting to run user code (tids, in the order they began to wait), the one that
     * runs next.
     */
    int pick(List<Integer> waiting);

    /** How long the running thread may run user code while others wait, before it is preempted. */
    default long sliceNs() {
        return DEFAULT_SLICE_NS;
    }
}
