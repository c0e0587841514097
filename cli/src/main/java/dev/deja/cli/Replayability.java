package dev.deja.cli;

import dev.deja.device.syscall.Arch;
import dev.deja.formats.RecordingFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether this machine can replay a recording, judged before trying: the architecture it was made
 * on, its format version, and the kernel features the replayer needs (ptrace with
 * PTRACE_GET_SYSCALL_INFO, Linux 5.3; process_vm_readv/writev; ptrace not disabled by Yama), then
 * tried with a test trace.
 */
final class Replayability {
    /** PTRACE_GET_SYSCALL_INFO, which the trace device reads at every stop, appeared in Linux 5.3. */
    static final int MIN_KERNEL_MAJOR = 5;
    static final int MIN_KERNEL_MINOR = 3;
    private static final Pattern RELEASE = Pattern.compile("(\\d+)\\.(\\d+).*");

    private Replayability() {
    }

    /**
     * The reasons this machine cannot replay the recording; empty when it can. When the facts allow
     * it, a test trace ({@link TraceProbe}) confirms that ptrace and process_vm_readv work here (a
     * container's seccomp profile can forbid them whatever the kernel version).
     */
    static List<String> obstacles(String recordedArch, int formatVersion) {
        List<String> out = obstacles(recordedArch, formatVersion, System.getProperty("os.arch"),
                System.getProperty("os.name"), Host.kernelRelease(), yamaPtraceScope());
        if (out.isEmpty()) TraceProbe.run().ifPresent(out::add);
        return out;
    }

    static List<String> obstacles(String recordedArch, int formatVersion, String osArch, String osName, String kernel,
                                  int yamaScope) {
        List<String> out = new ArrayList<>();
        if (!"Linux".equals(osName)) out.add("this is " + osName + ", deja replays on Linux only");
        String here;
        try {
            here = Arch.parse(osArch).unameName();
        } catch (IllegalArgumentException e) {
            here = osArch;
        }
        if (!recordedArch.equals(here)) {
            out.add("recorded on " + recordedArch + ", this machine is " + here
                    + " (a recording replays only on the architecture it was made on)");
        }
        if (formatVersion < RecordingFormat.OLDEST_READABLE_VERSION || formatVersion > RecordingFormat.CURRENT_VERSION) {
            out.add("recording format version " + formatVersion + ", this deja reads versions "
                    + RecordingFormat.OLDEST_READABLE_VERSION + " to " + RecordingFormat.CURRENT_VERSION);
        }
        Matcher m = RELEASE.matcher(kernel);
        if (!m.matches()) {
            out.add("cannot tell the kernel version from '" + kernel + "' (deja needs Linux " + MIN_KERNEL_MAJOR + "."
                    + MIN_KERNEL_MINOR + " or later)");
        } else {
            int major = Integer.parseInt(m.group(1));
            int minor = Integer.parseInt(m.group(2));
            if (major < MIN_KERNEL_MAJOR || (major == MIN_KERNEL_MAJOR && minor < MIN_KERNEL_MINOR)) {
                out.add("Linux " + major + "." + minor + " has no PTRACE_GET_SYSCALL_INFO (deja needs " + MIN_KERNEL_MAJOR
                        + "." + MIN_KERNEL_MINOR + " or later)");
            }
        }
        if (yamaScope == 3) {
            out.add("ptrace is disabled here (kernel.yama.ptrace_scope = 3, which only a reboot can lower)");
        }
        return out;
    }

    /** /proc/sys/kernel/yama/ptrace_scope, or -1 without Yama. Scopes 0-2 allow tracing one's own children. */
    static int yamaPtraceScope() {
        try {
            return Integer.parseInt(Files.readString(Path.of("/proc/sys/kernel/yama/ptrace_scope")).trim());
        } catch (IOException | NumberFormatException e) {   // NoSuchFileException: no Yama in this kernel
            return -1;
        }
    }

    /** The line {@code deja info} prints. */
    static String line(List<String> obstacles) {
        return obstacles.isEmpty() ? "yes" : "no: " + String.join("; ", obstacles);
    }
}
