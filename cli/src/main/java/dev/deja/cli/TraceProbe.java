package dev.deja.cli;

import dev.deja.device.DeviceException;
import dev.deja.device.Launch;
import dev.deja.device.TraceResult;
import dev.deja.device.TraceRun;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.formats.Recordings;
import dev.deja.formats.internal.FileOps;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tries what replay needs of the kernel instead of guessing: traces {@code /bin/true} with the
 * trace device, which seizes it with ptrace, reads every stop with PTRACE_GET_SYSCALL_INFO and
 * copies call arguments out of it with process_vm_readv. Run before anything opens a journal
 * (Chronicle's first open starts a child process, which the session's waitpid(-1) would reap).
 *
 * <p>A trace that worked is remembered in deja's home ({@value #MEMO}) for what decides whether ptrace
 * works: this boot, kernel, user, capabilities, seccomp state, Yama scope and namespaces, and this deja
 * (never while deja is traced itself). Under the same conditions it is not tried again: it costs about 0.1 s, a third of {@code deja info}.
 * A trace that failed is tried again each time.
 */
final class TraceProbe {
    static final String PROGRAM = "/bin/true";

    private TraceProbe() {
    }

    static final String MEMO = ".trace-probe";

    /** Empty when the test trace ran and read the program's memory (now or, remembered, before); else why it could not. */
    static Optional<String> run() {
        Path memo = Recordings.home().resolve(MEMO);
        String conditions = conditions();
        if (conditions != null && conditions.equals(remembered(memo))) return Optional.empty();
        Optional<String> why = trace();
        if (why.isEmpty() && conditions != null && Files.isDirectory(memo.getParent())) {
            try {
                FileOps.writeAtomically(memo, conditions.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // not remembered: the next info traces again
            }
        }
        return why;
    }

    private static String remembered(Path memo) {
        try {
            return Files.readString(memo, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * What decides whether tracing works here, as text: boot id, kernel release, Yama's ptrace scope, this
     * process's ids, capabilities and seccomp state (/proc/self/status) and namespaces, deja's version.
     * Null when any of it cannot be read (nothing is remembered then).
     */
    static String conditions() {
        StringBuilder out = new StringBuilder();
        try {
            out.append("boot ").append(Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim()).append('\n');
            out.append("kernel ").append(Host.kernelRelease()).append('\n');
            out.append("yama ").append(Replayability.yamaPtraceScope()).append('\n');
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                // Traced itself (strace -f deja info), deja's children get that tracer: always try then.
                if (line.startsWith("TracerPid:") && !line.substring(10).trim().equals("0")) return null;
                if (line.startsWith("Uid:") || line.startsWith("Gid:") || line.startsWith("Cap") || line.startsWith("NoNewPrivs:")
                        || line.startsWith("Seccomp")) {
                    out.append(line.replace('\t', ' ')).append('\n');
                }
            }
            for (String ns : List.of("user", "pid", "mnt", "cgroup")) {
                out.append("ns ").append(Files.readSymbolicLink(Path.of("/proc/self/ns", ns))).append('\n');
            }
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
        String[] version = new Version().getVersion();
        out.append("deja ").append(version[0]).append('\n');
        return out.toString();
    }

    /** Empty when the test trace ran and read the program's memory; else why it could not. */
    private static Optional<String> trace() {
        AtomicBoolean readMemory = new AtomicBoolean();
        Tracer tracer = new Tracer() {
            @Override
            public void onSyscall(SyscallEvent event, Tracee tracee) {
                // execve's path, openat's file name...: the device copied them with process_vm_readv
                if (!event.inputs().isEmpty()) readMemory.set(true);
            }
        };
        try {
            TraceResult r = TraceRun.run(Launch.of(List.of(PROGRAM), Host.inheritedFds()), tracer, () -> { });
            if (r.shellStatus() != 0) return Optional.of("a test trace of " + PROGRAM + " ended with status " + r.shellStatus());
            if (!readMemory.get()) return Optional.of("a test trace of " + PROGRAM + " could not read the program's memory");
            return Optional.empty();
        } catch (DeviceException e) {
            return Optional.of("a test trace of " + PROGRAM + " failed: " + e.getMessage());
        } catch (Launch.CommandException e) {
            return Optional.of("no " + PROGRAM + " to make a test trace with: " + e.getMessage());
        }
    }
}
