package dev.deja.device.tracer;

import dev.deja.device.ffm.NativeCallException;
import dev.deja.device.ffm.Signals;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Where tracers come from: programs started on pipes. */
public final class Transports {
    /** How long a tracer program may take to exit once its stdin is closed, before its group is killed. */
    public static final long EXIT_GRACE_MS = 2000;

    /** setsid(1) (util-linux): the JDK cannot start a process in a group of its own. */
    private static final Path SETSID = find("setsid");

    private Transports() {
    }

    /**
     * Starts {@code command} with {@code /bin/sh -c} in a session and process group of its own
     * ({@code setsid}), its stdin and stdout on pipes to deja and its stderr shared with deja's.
     * Closing the connection closes its stdin, waits {@link #EXIT_GRACE_MS} for the shell to end,
     * then kills (SIGKILL) the whole group: whatever the tracer started goes with it, even when
     * its shell was already gone. Aborting kills the group at once. A terminal's Ctrl-C no longer
     * reaches the tracer directly: deja ends it. (The trace device waits for any child of deja, so
     * it may be the one that reaps the tracer's exit status; the JDK copes, and deja only needs its
     * streams.)
     */
    public static Connection spawn(String command) throws IOException {
        List<String> argv = new ArrayList<>();
        if (SETSID != null) argv.add(SETSID.toString());
        argv.addAll(List.of("/bin/sh", "-c", shellCommand(command)));
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        boolean ownGroup = SETSID != null;
        Runnable kill = () -> killGroup(p, ownGroup);
        return new Connection(command, p.getInputStream(), p.getOutputStream(), () -> {
            try {
                p.waitFor(EXIT_GRACE_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                kill.run();
            }
        }, kill);
    }

    /**
     * SIGKILL to the tracer's process group (setsid made its pid the group's id, and a group's id is
     * not reused while a member lives), then to the shell through the JDK, which checks that the pid
     * is still that process.
     */
    private static void killGroup(Process p, boolean ownGroup) {
        if (ownGroup) {
            try {
                Signals.kill(-(int) p.pid(), Signals.SIGKILL);
            } catch (NativeCallException e) {
                // EPERM: a member changed its credentials; the shell is still ended below
            }
        }
        p.destroyForcibly();
    }

    /**
     * A plain command (words only: no quoting, expansion, redirection or operator) is exec'ed by the
     * shell, so that the tracer program holds its pipes alone: dash does not exec the last command of
     * {@code -c} itself, and a shell waiting for the tracer would keep its stdout open after the
     * tracer closed it (deja would never see the end of its output). Anything else runs as given.
     */
    static String shellCommand(String command) {
        String c = command.strip();
        return PLAIN.matcher(c).matches() ? "exec " + c : command;
    }

    /** The first word a program (no assignment, no option), the others words of safe characters. */
    private static final java.util.regex.Pattern PLAIN =
            java.util.regex.Pattern.compile("[A-Za-z0-9_./][A-Za-z0-9_./:,+@%-]*( +[A-Za-z0-9_./:,+@%=-]+)*");

    private static Path find(String program) {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }
}
