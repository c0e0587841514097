package dev.deja.device.ffm;

import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * Which descriptors a spawned child closes: every one but 0-2 and {@link #kept()}. The rule is applied
 * in the child itself (posix_spawn file actions, see {@link Spawn}), so that a descriptor deja (or a
 * library in it: Chronicle's journal, the JDK's jars) opens at any time before the spawn never reaches
 * the program, whatever its close-on-exec flag.
 *
 * @param kept the descriptors above 2 the child keeps (those deja itself was given), sorted, unique
 */
public record CloseFds(List<Integer> kept) {
    public CloseFds {
        kept = List.copyOf(new TreeSet<>(kept));
        for (int fd : kept) {
            if (fd < 0) throw new IllegalArgumentException("descriptor " + fd + " is negative");
        }
        kept = kept.stream().filter(fd -> fd > 2).toList();
    }

    /** Close everything but 0-2 and {@code kept}. */
    public static CloseFds allBut(Collection<Integer> kept) {
        return new CloseFds(List.copyOf(kept));
    }

    /** Close everything but 0-2. */
    public static CloseFds allButStdio() {
        return new CloseFds(List.of());
    }

    /** The highest descriptor kept, or 2 when only 0-2 are. */
    int highestKept() {
        return kept.isEmpty() ? 2 : kept.getLast();
    }
}
