package dev.deja.cli.debug;

import dev.deja.replayer.diff.DiffOptions;

/**
 * The shell's {@code diff}: compares the session's recording (run A) with another (run B), as
 * {@code deja diff} does. The command line supplies it, since naming a recording (a directory, a name
 * under deja's home, a packed file) is the command line's business.
 */
@FunctionalInterface
public interface RunComparer {
    /**
     * The report as text.
     *
     * @throws IllegalArgumentException with a one-line reason when {@code other} cannot be read or compared
     */
    String compare(String other, DiffOptions options);
}
