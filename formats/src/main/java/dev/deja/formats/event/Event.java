package dev.deja.formats.event;

/**
 * One numbered thing that happened in a recorded run. {@code seq} is the global event number:
 * the order in which the device saw the events begin (a syscall is numbered at its entry), and the
 * order replay follows. The journal stores events in the order they completed, so a blocking call
 * can appear after events with higher numbers that ran while it waited.
 */
public sealed interface Event
        permits SyscallEvent, SignalEvent, SpawnEvent, ExecEvent, ExitEvent, MappingEvent, ContextEvent,
        ScheduleEvent {

    /** Global event number, starting at 1. */
    long seq();

    /** Process (thread group) id as recorded. */
    int pid();

    /** Thread id as recorded. */
    int tid();

    /** Wall-clock time at which the event began, in nanoseconds since the epoch. */
    long timeNs();

    /** A short lower-case word naming the kind: syscall, signal, spawn, exec, exit, mmap, context, schedule. */
    String kind();
}
