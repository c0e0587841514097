package dev.deja.device;

/** The stop a thread held by an ordering tracer would go on from (see {@link Tracer#mayContinue}). */
public enum RunStop {
    /** A syscall entry: going on enters the kernel. */
    ENTRY,
    /** A syscall exit: going on runs user code. */
    EXIT,
    /** A new thread's first stop: going on runs its first user code. */
    START,
    /** A thread stopped at a recorded preemption point ({@link Tracee#stopAt}): going on runs user code. */
    PREEMPTED
}
