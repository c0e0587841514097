package dev.deja.replayer;

import dev.deja.device.DebugAgent;
import dev.deja.device.Tracee;
import dev.deja.formats.event.SyscallEvent;

/**
 * A debugger's hold on a live replay: called on the tracing thread before each recorded syscall
 * is replayed, with the live thread stopped at that call's entry. An implementation may block
 * there (the whole replay waits) and use the tracee meanwhile (registers, memory: ptrace requests
 * must come from this thread), or throw {@link Abandon} to end the replay and kill its processes.
 */
@FunctionalInterface
public interface ReplayControl {
    /** Replays without stopping. */
    ReplayControl NONE = (recorded, tracee) -> { };

    /**
     * Before {@code recorded} (the next recorded call of the thread) is replayed by {@code tracee}.
     * The recorded call has not been checked against the live one yet.
     */
    void beforeEvent(SyscallEvent recorded, Tracee tracee);

    /**
     * After {@code recorded} was replayed by {@code tracee}, at the call's exit: its result is in the
     * thread's registers and its recorded outputs are in its memory. The same rules as
     * {@link #beforeEvent} hold (block, use the tracee, or throw {@link Abandon}).
     */
    default void afterEvent(SyscallEvent recorded, Tracee tracee) {
    }

    /**
     * A debugger that also stops the replay between calls (the program's start, breakpoints, single
     * steps: a gdb server), or null (the default: the replay runs as without a debugger).
     */
    default DebugAgent debugAgent() {
        return null;
    }

    /**
     * Whether this control uses {@link Checkpoints}: the replay then runs its sessions on the
     * caller's thread (the tracer of the checkpoints' copies) and hands them over through
     * {@link #checkpoints} before it starts. False by default.
     */
    default boolean checkpointing() {
        return false;
    }

    /** With {@link #checkpointing()}: the replay's checkpoints, before its first event. */
    default void checkpoints(Checkpoints checkpoints) {
    }

    /**
     * With {@link #checkpointing()}: the program ended (or the replay diverged) as {@code outcome} says,
     * and checkpoints are left. On the tracing thread; the control may wait there, and returns the
     * number of a checkpoint to go on from (the replay continues, the control is called at that
     * checkpoint's call), or empty to end the replay with this outcome (the default).
     */
    default java.util.OptionalInt afterEnd(Replayer.Outcome outcome) {
        return java.util.OptionalInt.empty();
    }

    /** Thrown by a control to end the replay early: the replaying processes are killed. */
    final class Abandon extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Abandon(String why) {
            super(why, null, false, false);
        }
    }
}
