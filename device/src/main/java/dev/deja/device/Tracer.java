package dev.deja.device;

import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A tracer: the device calls it on its tracing thread, in the order events complete, while the
 * thread concerned is stopped (so {@link Tracee} memory and /proc entries are stable). Events carry
 * their global number; a syscall is numbered at entry and reported at exit. An observing tracer
 * overrides the {@code on*} callbacks; a deciding tracer also answers {@link #decides()} with true
 * and gets every syscall at its entry, before the kernel, and every signal before delivery.
 */
public interface Tracer {

    /**
     * The syscalls this tracer needs to see; asked once, before the run. When it is not
     * {@link SyscallInterest#all() all}, the device may let the other calls run without stopping
     * the program (a seccomp filter): they are then neither numbered nor reported to anyone.
     * Process events (spawn, exec, exit), signals and the calls the device itself needs still come.
     */
    default SyscallInterest interest() {
        return SyscallInterest.all();
    }

    /**
     * strace's {@code -b execve}: true when the device should let a process go once it has exec'd a
     * new program (every exec but the program's first): it is PTRACE_DETACHed at its exec event and
     * runs on untraced, its call reported through {@link #onDetached} and never returning. Asked once,
     * before the run; a launched program then runs without the seccomp filter (a detached process
     * would get ENOSYS from the filter's calls), whatever {@link #interest()} says.
     */
    default boolean detachesAtExec() {
        return false;
    }

    /** The exec after which the device let its thread go ({@link #detachesAtExec()}): its last event. */
    default void onDetached(SyscallEvent call) {
    }

    /**
     * True when the device should refuse every {@code rseq} call (rseq(2)) with ENOSYS, as a kernel
     * without it would: a registered thread's rseq area is rewritten by the kernel with the CPU it runs
     * on at each return to user space, and glibc's {@code sched_getcpu} reads it there without a syscall
     * (ZGC picks its per-CPU allocation state with it). Refused, glibc falls back to the {@code getcpu}
     * syscall, which a recording keeps. The call is reported as skipped (the kernel never ran it).
     * Asked once, before the run.
     */
    default boolean refusesRseq() {
        return false;
    }

    /** True when this tracer answers syscall entries and signals; observing tracers cost nothing there. */
    default boolean decides() {
        return false;
    }

    /**
     * A syscall entering (only for tracers that {@link #decides() decide}). The tracer may read and
     * write the thread's memory and inject syscalls through {@code tracee} before it answers.
     */
    default Decision onSyscallEntry(SyscallEntry entry, Tracee tracee) {
        return Decision.proceed();
    }

    /**
     * True when this deciding tracer has no use for a skipped call's exit stop: the device may then
     * answer such a call at its entry (a seccomp stop: number -1, the result in the return register,
     * {@link #onSyscall} called at once) and let the thread go without a second stop. The tracer's
     * {@link #onSyscall} for a skipped call must then be content with the thread at its entry, the
     * result already set. Calls that run go on to their exit stop as ever. Asked once, before the run;
     * not honoured with a debugger, a scheduler, an attached process or answers given later.
     */
    default boolean answersAtOneStop() {
        return false;
    }

    /**
     * Whether {@link #onSyscall} needs the outputs of a call this tracer skipped ({@link Decision.Skip}),
     * read back from the tracee's memory at the call's end. False gives that event no outputs, and saves
     * a memory read per output block of every skipped call: a replay wrote them itself, from the
     * recording. Asked once, before the run.
     */
    default boolean readsOutputsOfSkippedCalls() {
        return true;
    }

    /**
     * True when this deciding tracer may answer syscall entries later, through
     * {@link #onSyscallEntryLater}: the device then goes on with other threads' stops while one
     * call waits for its answer, and answers may come in any order. Asked once, before the run
     * (not honoured for tracers that {@link #ordersThreads() order threads}).
     */
    default boolean answersLater() {
        return false;
    }

    /**
     * Before the run, for tracers that {@link #answersLater() answer later}: an executor whose
     * tasks run on the device's thread, between stops. Futures returned by
     * {@link #onSyscallEntryLater} must be completed by such tasks (the tracee's memory and
     * registers are only reachable from that thread).
     */
    default void bindDeviceThread(Executor deviceThread) {
    }

    /**
     * A syscall entering, decided when the returned future completes (on the device's thread, see
     * {@link #bindDeviceThread}); the thread stays stopped until then, the others go on. The
     * default answers at once with {@link #onSyscallEntry}.
     */
    default CompletableFuture<Decision> onSyscallEntryLater(SyscallEntry entry, Tracee tracee) {
        return CompletableFuture.completedFuture(onSyscallEntry(entry, tracee));
    }

    /**
     * The signal to deliver for a signal-delivery stop (only for deciding tracers): the same
     * signal, another, or 0 to suppress it. Called after {@link #onSignal}.
     */
    default int signalToDeliver(SignalEvent event, Tracee tracee) {
        return event.signo();
    }

    /**
     * True when this deciding tracer orders threads: the device then asks {@link #mayContinue}
     * at every syscall stop of the run. Asked once, before the run.
     */
    default boolean ordersThreads() {
        return false;
    }

    /**
     * True when this deciding tracer may send threads to recorded points ({@code stopAt}) even though
     * it orders no threads (a one-thread recording's signal points): the device then bounds the way to
     * a point by {@link #progressLimitNs}, as it bounds every step of an ordered run. Asked once, before
     * the run.
     */
    default boolean stopsAtPoints() {
        return false;
    }

    /**
     * Whether the thread may go on from the stop it is in now: a syscall entry (before
     * {@link #onSyscallEntry}), an exit (before {@link #onSyscall}), a new thread's first stop, or a
     * point it was told to stop at ({@link Tracee#stopAt}). A thread that may not is held there,
     * unprocessed, and asked again after each later event (a replayer releases threads in their
     * recorded order this way).
     */
    default boolean mayContinue(Tracee tracee, RunStop stop) {
        return true;
    }

    /**
     * The device's scheduler for this run, or null to let threads run in parallel. With a policy,
     * the threads of one address space run user code one at a time and the decisions come to
     * {@link #onSchedule}; not used together with {@link #ordersThreads()}.
     */
    default SchedulePolicy scheduling() {
        return null;
    }

    /**
     * A scheduling decision: a new thread's first run, or a preemption (reported when the thread
     * runs again, with the time it did).
     */
    default void onSchedule(dev.deja.formats.event.ScheduleEvent event) {
    }

    /**
     * For tracers that order threads: how long the device may wait for any stop before it calls
     * {@link #noProgress}; 0 for no limit. Asked before each wait.
     */
    default long progressLimitNs() {
        return 0;
    }

    /**
     * A point asked for with {@link Tracee#stopAt} will not be reached: the thread reached a syscall
     * or ended first, or the search gave up. {@code why} says which. The tracer may throw.
     */
    default void stopMissed(Tracee tracee, String why) {
    }

    /**
     * A debugger that drives the run (breakpoints, steps, a stop at the program's start), or null for
     * none: the default, at no cost to the run. Asked once, before the run.
     */
    default DebugAgent debugAgent() {
        return null;
    }

    /** No stop came within {@link #progressLimitNs()}: the tracer throws to end the run, or returns to wait on. */
    default void noProgress(long waitedNs) {
    }

    /**
     * Every live thread is held by {@link #mayContinue}: nothing can move any more. The tracer throws
     * (the session then ends and kills the tree); the default throws a {@link DeviceException}.
     */
    default void stalled() {
        throw new DeviceException("every thread of the traced tree is held by the tracer: nothing can move");
    }

    /**
     * The thread took the first {@code count} of the answers given with {@link Tracee#answerAhead} (those
     * not reported before): those calls happened, in order, with the entries' arguments and results.
     * Called before the tracer hears of the thread's next stop, with a count above 0.
     */
    default void answeredAhead(Tracee tracee, int count) {
    }

    default void onSyscall(SyscallEvent event, Tracee tracee) {
    }

    default void onSignal(SignalEvent event, Tracee tracee) {
    }

    default void onSpawn(SpawnEvent event) {
    }

    /** A successful exec; {@code executable} opens the new program's file (/proc/PID/exe). */
    default void onExec(ExecEvent event, Path executable) {
    }

    /** A file mapped into memory; {@code source} opens the very file that was mapped. */
    default void onMapping(MappingEvent event, Path source) {
    }

    /**
     * Whether {@link #onMapping} is wanted. False saves a readlink and a stat of the mapped file per
     * mmap (the event's number is still taken, so that numbering does not depend on it). Asked once,
     * before the run.
     */
    default boolean wantsMappings() {
        return true;
    }

    /**
     * Whether the program and deja's tracing thread run on one CPU (chosen at random among those allowed,
     * as rr binds its tracees): each stop is then a switch on that CPU, not a wake-up of another, which on
     * a virtual machine whose idle CPUs halt costs two exits to the hypervisor a stop. The program sees the
     * mask (sched_getaffinity, /proc), so only a tracer whose program cannot see it (a replay) asks. Asked
     * once, before the launch.
     */
    default boolean onOneCpu() {
        return false;
    }

    default void onContext(ContextEvent event) {
    }

    default void onExit(ExitEvent event) {
    }
}
