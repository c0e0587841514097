package dev.deja.cli.debug;

import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.util.Optional;

/**
 * The name a thread gives itself with {@code prctl(PR_SET_NAME, name)}: HotSpot names each Java thread
 * so ("main", "C2 CompilerThre", "ForkJoinPool-1-"; the kernel keeps 15 bytes), and the recording
 * holds the call with its name buffer. The shell's {@code threads} and {@code ps} and {@code deja dump}
 * read the names from there.
 */
public final class ThreadNames {
    private static final long PR_SET_NAME = 15;

    private ThreadNames() {
    }

    /** prctl's number in {@code table}, or -1 (an architecture without it names no thread). */
    public static int prctl(SyscallTable table) {
        return table.number("prctl").orElse(-1);
    }

    /** The name {@code s} gave its thread, when it is a successful {@code prctl(PR_SET_NAME)} with its name recorded. */
    public static Optional<String> given(SyscallEvent s, int nrPrctl) {
        if (s.nr() != nrPrctl || s.arg(0) != PR_SET_NAME || !s.returned() || s.failed()) return Optional.empty();
        for (MemoryBlock b : s.inputs()) {
            if (b.arg() == 1) return Optional.of(Timeline.cString(b.data()));
        }
        return Optional.empty();
    }

    /** A name as the shell and dump show it: quoted, since HotSpot's names have spaces ("VM Thread"). */
    public static String quoted(String name) {
        return "\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
