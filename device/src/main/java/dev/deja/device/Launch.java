package dev.deja.device;

import dev.deja.device.ffm.CloseFds;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Building a {@link LaunchSpec} the way a shell would run the command. */
public final class Launch {
    private Launch() {
    }

    /** Why a command cannot be run; {@link #status()} is the shell's status for it (126 or 127). */
    public static final class CommandException extends Exception {
        private final int status;

        CommandException(String message, int status) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /**
     * Resolves {@code command[0]} as execvp would (a name with a slash as is, otherwise the first
     * executable regular file along PATH), takes this process's environment in its original order,
     * and closes in the program every descriptor except 0-2 and {@code inheritedFds}.
     */
    public static LaunchSpec of(List<String> command, Collection<Integer> inheritedFds) throws CommandException {
        return of(command, inheritedFds, 0, 0);
    }

    /**
     * As {@link #of(List, Collection)}, with the signal state deja itself was started with (the
     * launcher passes its own SigBlk and SigIgn), which the program inherits as it would without deja.
     */
    public static LaunchSpec of(List<String> command, Collection<Integer> inheritedFds, long blockedSignals,
                                long ignoredSignals) throws CommandException {
        String name = command.getFirst();
        Path exe = resolve(name, Optional.ofNullable(System.getenv("PATH")).orElse("/usr/local/bin:/usr/bin:/bin"));
        return new LaunchSpec(exe.toString(), command, environment(), CloseFds.allBut(inheritedFds),
                blockedSignals, ignoredSignals);
    }

    static Path resolve(String name, String path) throws CommandException {
        if (name.isEmpty()) throw new CommandException("empty command name", 127);
        if (name.contains("/")) {
            Path p = Path.of(name).toAbsolutePath();
            if (!Files.exists(p)) throw new CommandException(name + ": No such file or directory", 127);
            if (Files.isDirectory(p) || !Files.isExecutable(p)) throw new CommandException(name + ": Permission denied", 126);
            // As given, as strace and execvp pass it: the recorded execve shows the path the user typed.
            return Path.of(name);
        }
        Path denied = null;
        for (String dir : path.split(":", -1)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name).toAbsolutePath();
            if (Files.isRegularFile(p)) {
                if (Files.isExecutable(p)) return p;
                if (denied == null) denied = p;
            }
        }
        if (denied != null) throw new CommandException(denied + ": Permission denied", 126);
        throw new CommandException(name + ": command not found", 127);
    }

    /**
     * Puts back the {@code _} variable deja was started with: bash's {@code exec} of the JVM in the
     * launcher drops it, and a program run under deja sees deja's environment, as under strace. The
     * launcher passes its value and index (its properties are absent when deja runs otherwise).
     */
    static void restoreUnderscore(List<String> env, String index, String value) {
        if (index == null || value == null) return;
        for (String kv : env) if (kv.startsWith("_=")) return;
        int at;
        try {
            at = Integer.parseInt(index);
        } catch (NumberFormatException e) {
            return; // not from the launcher: nothing to restore
        }
        env.add(Math.clamp(at, 0, env.size()), "_=" + value);
    }

    /** The environment exactly as this process received it, in order (System.getenv() loses order). */
    static List<String> environment() {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc/self/environ"));
            List<String> env = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    if (i > start) env.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            restoreUnderscore(env, System.getProperty("deja.underscore.index"), System.getProperty("deja.underscore"));
            return env;
        } catch (IOException e) {
            List<String> env = new ArrayList<>();
            for (Map.Entry<String, String> e2 : System.getenv().entrySet()) env.add(e2.getKey() + "=" + e2.getValue());
            return env;
        }
    }
}
