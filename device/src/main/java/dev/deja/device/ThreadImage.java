package dev.deja.device;

/**
 * A thread of a stopped process as a copy of the process re-creates it (checkpoints of
 * multi-threaded programs: fork copies the forking thread alone, see {@link ProcessCopies#fork}).
 * Taken by {@link Tracee#siblingImages} while the thread stood where the run held it; re-created by
 * a clone in the copy, with these registers, extended state, signal mask, name, alternate signal
 * stack and robust futex list, and adopted by
 * {@link TraceSession#adopt} in the same kind of stop.
 */
public final class ThreadImage {
    /** Where the thread stood, and so where its copy is put. */
    public enum Stop {
        /** Held at a call's entry, before the tracer saw it: the copy enters the call again. */
        ENTRY,
        /**
         * Blocked in a call run for real (a futex wait), interrupted for the image and sent back in: the
         * copy issues the call again, as the kernel issues a call a signal interrupted.
         */
        IN_CALL,
        /** Held at a call's exit stop: the copy is put in the exit stop of a call of its own, these registers set. */
        EXIT,
        /** A new thread held before its first instruction. */
        START,
        /** Held in user code (at a preemption point). */
        USER,
        /**
         * Running user code between two calls (another process's thread, which the run lets go on beside the
         * one at the checkpoint): interrupted there for the image, or found at the entry stop of its next call
         * and imaged before it. The copy runs on from these registers, not held.
         */
        RUNNING
    }

    private final int tid;
    private final Stop stop;
    private final long[] registers;
    private final byte[] xstate;
    private final long signalMask;
    private final String name;
    private final long clearTidWord;
    private final ThreadFacts.AltStack altStack;
    private final long robustHead;
    private final long robustLength;
    /** The device's record of the call an {@link Stop#EXIT} thread is in (TraceSession's), else null. */
    final Object callInFlight;
    /** See {@link #atMaskedExit}: the mask the call ran under; the signal that ended it. */
    private final long callMask;
    private final int endingSignal;

    ThreadImage(int tid, Stop stop, long[] registers, byte[] xstate, long signalMask, String name, long clearTidWord,
                ThreadFacts.AltStack altStack, long[] robustList, Object callInFlight) {
        this(tid, stop, registers, xstate, signalMask, name, clearTidWord, altStack, robustList, callInFlight, 0, 0);
    }

    private ThreadImage(int tid, Stop stop, long[] registers, byte[] xstate, long signalMask, String name,
                        long clearTidWord, ThreadFacts.AltStack altStack, long[] robustList, Object callInFlight,
                        long callMask, int endingSignal) {
        this.tid = tid;
        this.stop = stop;
        this.registers = registers.clone();
        this.xstate = xstate.clone();
        this.signalMask = signalMask;
        this.name = name;
        this.clearTidWord = clearTidWord;
        this.altStack = altStack;
        this.robustHead = robustList[0];
        this.robustLength = robustList[1];
        this.callInFlight = callInFlight;
        this.callMask = callMask;
        this.endingSignal = endingSignal;
    }

    /**
     * This {@link Stop#EXIT} image, of a thread at the exit of a call that ran under mask {@code callMask}
     * of its own (pselect6, ppoll, rt_sigsuspend) and that signal {@code signo}, pending, ended:
     * {@link #signalMask} is the mask the kernel puts back once the signal is delivered (its handler's
     * frame saves it). Its copy is put in the exit stop of an rt_sigsuspend under the call's mask, with
     * the signal pending, as the thread was.
     */
    ThreadImage atMaskedExit(long callMask, int signo) {
        if (stop != Stop.EXIT || signo <= 0) throw new IllegalArgumentException("not a masked exit: " + stop + ", signal " + signo);
        return new ThreadImage(tid, stop, registers, xstate, signalMask, name, clearTidWord, altStack,
                new long[] {robustHead, robustLength}, callInFlight, callMask, signo);
    }

    /** Whether the thread stood at the exit of a call under a mask of its own ({@link #atMaskedExit}). */
    boolean maskedExit() {
        return endingSignal != 0;
    }

    /** The mask a masked exit's call ran under. */
    long callMask() {
        return callMask;
    }

    /** The signal that ended a masked exit's call, pending in the thread; 0 for none. */
    int endingSignal() {
        return endingSignal;
    }

    /** The live tid of the thread imaged. */
    public int tid() {
        return tid;
    }

    public Stop stop() {
        return stop;
    }

    /** user_regs_struct as the thread had them in its stop. */
    public long[] registers() {
        return registers.clone();
    }

    byte[] xstate() {
        return xstate.clone();
    }

    long signalMask() {
        return signalMask;
    }

    String name() {
        return name;
    }

    /** The word the kernel clears and wakes when the thread ends (CLONE_CHILD_CLEARTID), 0 for none known. */
    long clearTidWord() {
        return clearTidWord;
    }

    /** The alternate signal stack, or null for none. */
    ThreadFacts.AltStack altStack() {
        return altStack;
    }

    /** The robust futex list's head (get_robust_list(2)), 0 for none, and its length. */
    long robustHead() {
        return robustHead;
    }

    long robustLength() {
        return robustLength;
    }
}
