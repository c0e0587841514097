package dev.deja.device;

import dev.deja.device.syscall.TraceeMemory;

/** A stopped thread of the traced tree, valid during a {@link Tracer} callback. */
public interface Tracee {
    int pid();

    int tid();

    /** Reads the thread's memory (process_vm_readv). */
    TraceeMemory memory();

    /**
     * Writes {@code data} into the thread's memory at {@code address}, read-only pages included
     * (process_vm_writev, else /proc/PID/mem). Throws {@link DeviceException} when it cannot.
     */
    void write(long address, byte[] data);

    /**
     * Writes {@code data} at {@code address} as the kernel's copy to user memory would: only into
     * writable pages (process_vm_writev). Returns how many bytes were written; fewer than
     * {@code data.length} means the rest lies in memory the kernel could not have written either (a
     * replayer that gets a short count holds an output longer than the live buffer).
     */
    default int writeAsKernel(long address, byte[] data) {
        write(address, data);
        return data.length;
    }

    /**
     * Makes the thread execute {@code nr(args)} now and returns the raw result (negative errno on
     * failure); the thread's own call and registers are left as they were. Only at a syscall entry.
     */
    long inject(int nr, long... args);

    /**
     * Sets the value the thread's current syscall returns. Only at a syscall exit, that is during
     * {@link Tracer#onSyscall} (a replayer gives back the recorded pid of a real fork this way).
     */
    void setResult(long value);

    /**
     * At a signal-delivery stop (in {@link Tracer#signalToDeliver}): the 128-byte siginfo_t the
     * signal is delivered with, so a handler sees the sender and code a tracer chooses.
     */
    default void setSiginfo(byte[] siginfo) {
        throw new UnsupportedOperationException("this tracee cannot set a signal's siginfo");
    }

    /**
     * The thread's general registers (PTRACE_GETREGS): on x86_64 the 27 words of struct
     * user_regs_struct in its order (r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi
     * orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs). For a debugger's inspection.
     */
    default long[] registers() {
        throw new UnsupportedOperationException("this tracee cannot read its registers");
    }

    /**
     * For tracers that order threads, while releasing this thread from a stop: stop it again at
     * {@code target}, a point between two syscalls, and ask {@link Tracer#mayContinue} with
     * {@link RunStop#PREEMPTED} there. If it reaches a syscall or ends first, no such stop comes.
     */
    default void stopAt(RunTarget target) {
        throw new UnsupportedOperationException("this tracee cannot stop between syscalls");
    }

    /**
     * For a replay answering calls at one stop, from the entry of a call it skips: the answers to the
     * thread's next calls, in order, for the device to give without stopping it where it can (calls made
     * at a {@code syscall} instruction the process made that call at before, with the entry's number,
     * compared arguments and input bytes; {@link dev.deja.device.x86.AnswerStub}). How many the thread took comes to {@link Tracer#answeredAhead} before anything else
     * of its next stop; the rest it makes as usual. False where the device never answers ahead (two
     * stops a call, a debugger, DEJA_NO_AHEAD): no need to ask again.
     */
    default boolean answerAhead(java.util.List<dev.deja.device.x86.AnswerStub.Entry> answers) {
        return false;
    }

    /**
     * Whether an answer ahead to a call numbered {@code nr} has a place in this thread's process: a syscall
     * instruction the process made that call at before, where a stub may go ({@link #answerAhead} gives
     * answers up to the first without one). False where the device never answers ahead.
     */
    default boolean answerableAhead(int nr) {
        return false;
    }

    /**
     * The thread's x87, MXCSR and SSE registers (PTRACE_GETFPREGS): x86_64's 512-byte struct
     * user_fpregs_struct, the fxsave layout. For a debugger's inspection.
     */
    default byte[] fpRegisters() {
        throw new UnsupportedOperationException("this tracee cannot read its floating-point registers");
    }

    /** The thread's name (its comm), or "" when it cannot be read. */
    default String threadName() {
        return "";
    }

    /**
     * For a run with a {@link DebugAgent}: an int3 at {@code address} in this thread's process, reported
     * to the agent when hit; reads of the process's memory keep showing the original byte. Throws
     * {@link DeviceException} when the address cannot be read or written.
     */
    default void insertBreakpoint(long address) {
        throw new UnsupportedOperationException("this tracee has no debugger breakpoints");
    }

    /** Removes the breakpoint at {@code address} (the original byte back); false when there was none. */
    default boolean removeBreakpoint(long address) {
        throw new UnsupportedOperationException("this tracee has no debugger breakpoints");
    }

    /**
     * For a run with a {@link DebugAgent}, at a syscall entry: the thread stops for the agent
     * ({@link DebugAgent.Stepped}) as soon as the call has returned, before its next instruction.
     */
    default void stopAfterCall() {
        throw new UnsupportedOperationException("this tracee cannot stop for a debugger");
    }

    /**
     * For a run with a {@link DebugAgent}: stores into {@code [address, address+length)} ({@code reads}:
     * loads as well) stop the thread for the agent ({@link DebugAgent.Stored}) right after the instruction.
     * The pages holding the range become read-only (for reads: inaccessible) in this thread's process (the
     * accesses fault and the device steps them); calls that run for real see the program's own
     * protections. Throws {@link DeviceException} when the protection cannot be changed.
     */
    default void watchMemory(long address, long length, boolean reads) {
        throw new UnsupportedOperationException("this tracee has no debugger watchpoints");
    }

    /** Stops watching a range given to {@link #watchMemory} with the same {@code reads} (once per call to it). */
    default void unwatchMemory(long address, long length, boolean reads) {
        throw new UnsupportedOperationException("this tracee has no debugger watchpoints");
    }


    /**
     * For a run with a {@link DebugAgent}: the live threads of this thread's process, itself included, by
     * tid. While the agent holds a stop they are all stopped where the run holds them, except a thread
     * blocked in a call that runs for real (its registers then cannot be read: {@link DeviceException}).
     */
    default java.util.List<Tracee> processThreads() {
        return java.util.List.of(this);
    }

    /**
     * For a run with a {@link DebugAgent}, on a thread other than the one stopped for the agent: with
     * {@code on}, the next time the run lets this thread go on it executes one instruction (at or in a
     * call: that call, answered as the run answers it) and stops for the agent ({@link DebugAgent.Stepped});
     * the run's own order decides when that is. {@code false} withdraws the step.
     */
    default void stepWhenReleased(boolean on) {
        throw new UnsupportedOperationException("this tracee cannot stop for a debugger");
    }

    /**
     * For checkpoints (a run that orders threads, on the tracing thread, at this thread's syscall entry): a
     * stopped copy of this thread's process ({@link ProcessCopies#fork}), forked from its first thread
     * (the leader stays the leader: the kernel reports a leader's end only after every other thread's),
     * with an image of every other thread where the run holds it ({@link ThreadImage}), this one's at its
     * call's entry. A thread blocked in a call that runs for real is interrupted out of it for its
     * registers and sent back in, when {@code facts} says the kernel issues that call again after an
     * interruption (a futex wait); {@code facts} also gives what the images need that the kernel does
     * not tell. Throws {@link DeviceException} saying which thread cannot be copied now, and why.
     */
    default ProcessCopies.Image copyProcess(int nrClone, ThreadFacts facts) {
        throw new UnsupportedOperationException("this tracee's process cannot be copied");
    }

    /**
     * As {@link #copyProcess} for every process of {@code pids} (this thread's among them: a checkpoint of a
     * tree of processes), each copied where the run holds its threads; by original pid, this one's first.
     * Nothing is copied unless every process can be (the copies made are killed when one fails).
     */
    default java.util.Map<Integer, ProcessCopies.Image> copyTree(java.util.List<Integer> pids, int nrClone, ThreadFacts facts) {
        throw new UnsupportedOperationException("this tracee's processes cannot be copied");
    }
}
