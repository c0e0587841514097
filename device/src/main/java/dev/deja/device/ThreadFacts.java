package dev.deja.device;

/**
 * What a tracer that replays a recording knows of its live threads that the kernel does not tell, for
 * {@link Tracee#copyProcess}: which real calls may be interrupted for a copy, and the per-thread state
 * the program set with calls the copy's re-created threads did not make (clone's clear-tid word, the
 * alternate signal stack).
 */
public interface ThreadFacts {
    /**
     * Whether thread {@code tid} is in a call that runs for real and that the kernel issues again once
     * interrupted (a futex wait): a copy may interrupt it for its registers.
     */
    boolean issuedAgainIfInterrupted(int tid);

    /** The word the kernel clears and wakes when thread {@code tid} ends (CLONE_CHILD_CLEARTID), 0 for none. */
    long clearTidWord(int tid);

    /** Thread {@code tid}'s alternate signal stack as the program last set it (sigaltstack(2)), or null for none. */
    AltStack altStack(int tid);

    /** A stack_t: its base, flags (SS_AUTODISARM, ...) and size. */
    record AltStack(long base, int flags, long size) {
    }
}
