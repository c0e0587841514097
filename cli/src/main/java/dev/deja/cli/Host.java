package dev.deja.cli;

import dev.deja.device.Launch;
import dev.deja.device.LaunchSpec;
import dev.deja.device.ffm.CloseFds;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Facts about the machine and this process that a recording header keeps. */
final class Host {
    private Host() {
    }

    static String cwd() {
        return Path.of("").toAbsolutePath().toString();
    }

    static int uid() {
        return statusId("Uid:");
    }

    static int gid() {
        return statusId("Gid:");
    }

    private static int statusId(String key) {
        for (String line : lines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key)) return Integer.parseInt(line.substring(key.length()).trim().split("\\s+")[0]);
        }
        return -1;
    }

    static String kernelRelease() {
        return firstLine(Path.of("/proc/sys/kernel/osrelease"));
    }

    static String hostname() {
        return firstLine(Path.of("/proc/sys/kernel/hostname"));
    }

    /** Descriptors deja itself was given (the launcher lists them), which the program inherits too. */
    static List<Integer> inheritedFds() {
        List<Integer> fds = new ArrayList<>();
        String list = System.getProperty("deja.inherited.fds", "");
        for (String s : list.split(",")) {
            if (!s.isBlank()) fds.add(Integer.parseInt(s.trim()));
        }
        return fds;
    }

    /**
     * The program as record, trace and run launch it: deja's inherited descriptors and the signal masks the
     * launcher passed down; a command that cannot run is a user error with the shell's status (126/127).
     */
    static LaunchSpec launchSpec(List<String> command) {
        try {
            return Launch.of(command, inheritedFds(), signalMask("deja.sigblk"), signalMask("deja.sigign"));
        } catch (Launch.CommandException e) {
            throw new UserError(e.getMessage(), e.status());
        }
    }

    /** What a replayed program does not inherit: every descriptor but 0-2 and those the launcher says deja was given. */
    static CloseFds closeFds() {
        return CloseFds.allBut(inheritedFds());
    }

    /** A signal set the launcher passed as hex (its own SigBlk or SigIgn from /proc), or 0. */
    static long signalMask(String property) {
        String hex = System.getProperty(property, "").trim();
        return hex.isEmpty() ? 0 : Long.parseUnsignedLong(hex, 16);
    }

    static boolean isEmptyDirectory(Path dir) {
        if (!Files.isDirectory(dir)) return false;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    private static String firstLine(Path p) {
        List<String> l = lines(p);
        return l.isEmpty() ? "" : l.getFirst().trim();
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException e) {
            return List.of();
        }
    }
}
