package dev.deja.cli;

import dev.deja.device.DeviceException;
import dev.deja.device.Launch;
import dev.deja.device.TraceResult;
import dev.deja.device.TraceRun;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.formats.event.SyscallEvent;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tries what replay needs of the kernel instead of guessing: traces {@code /bin/true} with the
 * trace device, which seizes it with ptrace, reads every stop with PTRACE_GET_SYSCALL_INFO and
 * copies call arguments out of it with process_vm_readv. Run before anything opens a journal
 * (Chronicle's first open starts a child process, which the session's waitpid(-1) would reap).
 */
final class TraceProbe {
    static final String PROGRAM = "/bin/true";

    private TraceProbe() {
    }

    /** Empty when the test trace ran and read the program's memory; else why it could not. */
    static Optional<String> run() {
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
