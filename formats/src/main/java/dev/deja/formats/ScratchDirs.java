package dev.deja.formats;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scratch directories (an unpack's, a replay's) that a SIGKILL'd deja leaves behind: SIGKILL runs no
 * shutdown hook, so a scratch directory's name carries its owner's pid and start time
 * ({@code <prefix><pid>-<start ms>-<random>}) and the next deja that makes one in the same place
 * deletes those whose owner is gone.
 */
public final class ScratchDirs {

    private ScratchDirs() {
    }

    /** {@code <pid>-<start ms>-}: who owns a scratch directory, so that a later run can tell whether it still lives. */
    public static String owner() {
        ProcessHandle me = ProcessHandle.current();
        return me.pid() + "-" + startMillis(me).orElse(0L) + "-";
    }

    /** The names {@code <prefix><pid>-<start ms>-<anything>}, with the pid and start time as groups 1 and 2. */
    public static Pattern names(String prefix) {
        return Pattern.compile(Pattern.quote(prefix) + "(\\d+)-(\\d+)-.+");
    }

    /**
     * Deletes, in {@code parent}, the scratch directories matching {@code names} whose owner is gone (its pid is
     * not running, or a later process has it), that this user owns. Those of running deja processes stay.
     */
    public static void sweep(Path parent, Pattern names) {
        ProcessHandle me = ProcessHandle.current();
        int uid;
        try {
            uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return;   // no way to tell what is ours: leave everything
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent)) {
            for (Path p : ds) {
                Matcher m = names.matcher(p.getFileName().toString());
                if (!m.matches() || !ownedBy(p, uid)) continue;
                long pid;
                long start;
                try {
                    pid = Long.parseLong(m.group(1));
                    start = Long.parseLong(m.group(2));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid == me.pid()) continue;
                Optional<ProcessHandle> owner = ProcessHandle.of(pid);
                boolean alive = owner.isPresent() && startMillis(owner.get()).map(s -> s == start).orElse(true);
                if (!alive) Recording.deleteTree(p);
            }
        } catch (IOException e) {
            System.getLogger(ScratchDirs.class.getName()).log(System.Logger.Level.DEBUG,
                    "cannot look for scratch leftovers in " + parent, e);
        }
    }

    private static Optional<Long> startMillis(ProcessHandle p) {
        return p.info().startInstant().map(java.time.Instant::toEpochMilli);
    }

    private static boolean ownedBy(Path p, int uid) {
        try {
            return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                    && (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) == uid;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }
}
