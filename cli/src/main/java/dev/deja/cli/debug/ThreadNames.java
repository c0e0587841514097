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

    /** The name deja gives the thread that runs a Java program's main(), which HotSpot leaves unnamed. */
    public static final String JAVA_MAIN = "main";

    /**
     * Finds, as the events go by, the thread that runs {@code main()} in each process running {@code java}:
     * the launcher's first thread starts it (libjli runs the JVM in a new thread), and HotSpot gives it no
     * kernel name (it names only the threads it starts, and a thread attached through JNI, as that one is,
     * not even on {@code Thread.setName}). Tests run on it under Surefire, so the shell and dump call it
     * {@value #JAVA_MAIN}.
     */
    public static final class JavaMain {
        private final java.util.Map<Integer, Boolean> runsJava = new java.util.HashMap<>();
        private final java.util.Map<Integer, Integer> mainOf = new java.util.HashMap<>();

        public void accept(dev.deja.formats.event.Event e) {
            switch (e) {
                case dev.deja.formats.event.ExecEvent x -> {
                    String path = x.path();
                    runsJava.put(x.pid(), path.substring(path.lastIndexOf('/') + 1).equals("java"));
                    mainOf.remove(x.pid());
                }
                case dev.deja.formats.event.SpawnEvent s when s.spawnKind() == dev.deja.formats.event.SpawnEvent.Kind.THREAD
                        && s.tid() == s.pid() && runsJava.getOrDefault(s.pid(), false) -> mainOf.putIfAbsent(s.pid(), s.childTid());
                default -> {
                }
            }
        }

        /** True when {@code tid} is the thread that runs main() in a java process seen so far. */
        public boolean isMain(int tid) {
            return mainOf.containsValue(tid);
        }
    }

    /** A name as the shell and dump show it: quoted, since HotSpot's names have spaces ("VM Thread"). */
    public static String quoted(String name) {
        return "\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
