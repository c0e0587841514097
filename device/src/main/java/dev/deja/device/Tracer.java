package dev.deja.device;

import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.file.Path;

/**
 * An observing tracer: the device calls it on its tracing thread, in the order events complete,
 * while the thread concerned is stopped (so {@link Tracee} memory and /proc entries are stable).
 * Events carry their global number; a syscall is numbered at entry and reported at exit.
 */
public interface Tracer {

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

    default void onContext(ContextEvent event) {
    }

    default void onExit(ExitEvent event) {
    }
}
