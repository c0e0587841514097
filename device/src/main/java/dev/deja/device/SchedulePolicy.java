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
    long DEFAULT_SLICE_NS = 50_000_000;

    /** First come, first served: the plain recorder's policy. */
    SchedulePolicy FIFO = waiting -> waiting.getFirst();

    /**
     * Of the threads waiting to run user code (tids, in the order they began to wait), the one that
     * runs next.
     */
    int pick(List<Integer> waiting);

    /**
     * Whether the running thread {@code tid}, entering a syscall, keeps its turn through it: the
     * others go on waiting until it is back in user code, unless the call blocks (takes longer than
     * {@link #KEEP_TURN_NS}). False: the next waiting thread runs while it is in the kernel.
     */
    default boolean keepsTurn(int tid, List<Integer> waiting) {
        return false;
    }

    /**
     * The running thread {@code tid} entered sched_yield while {@code waiting} wait to run: it asked for
     * them to go first. Its turn passes on whatever {@link #keepsTurn} would say; a policy that orders
     * by priority puts it behind them.
     */
    default void yielded(int tid, List<Integer> waiting) {
    }

    /** A syscall that takes longer than this is taken as blocking: the turn passes on. */
    long KEEP_TURN_NS = 1_000_000;

    /** How long the running thread may run user code while others wait, before it is preempted. */
    default long sliceNs() {
        return DEFAULT_SLICE_NS;
    }
}
