package dev.deja.recorder;

import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.ffm.Signals;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code --timeout}: a watchdog thread SIGKILLs every process of the traced tree once the run has
 * lasted longer than the limit. A process whose fork the watchdog raced with is killed at its first
 * event after the deadline, on the tracing thread. The run then ends as any killed run does: the
 * recording is complete and says the root was killed by signal 9.
 */
final class TimeLimitTracer extends ForwardingTracer implements AutoCloseable {
    private final Set<Integer> pids = ConcurrentHashMap.newKeySet();
    private final Thread watchdog;
    private volatile boolean expired;

    TimeLimitTracer(Tracer inner, Duration limit) {
        super(inner);
        this.watchdog = Thread.ofPlatform().daemon().name("deja-timeout").unstarted(() -> {
            try {
                Thread.sleep(limit);
            } catch (InterruptedException e) {
                return; // the run ended in time
            }
            expired = true;
            for (int pid : pids) Signals.kill(pid, Signals.SIGKILL);
        });
    }

    /** Starts the clock; call just before the run. */
    void start() {
        watchdog.start();
    }

    /** True when the run was killed for lasting too long. */
    boolean expired() {
        return expired;
    }

    @Override
    public void close() {
        watchdog.interrupt();
    }

    /** Notes a live process; after the deadline, kills it instead. */
    private void seen(int pid) {
        // Added before the check: a watchdog that fires after the check still finds the pid.
        pids.add(pid);
        if (expired) Signals.kill(pid, Signals.SIGKILL);
    }

    @Override
    public boolean mayContinue(Tracee tracee, dev.deja.device.RunStop stop) {
        seen(tracee.pid());
        return inner.mayContinue(tracee, stop);
    }

    @Override
    public void onSyscall(SyscallEvent event, Tracee tracee) {
        seen(event.pid());
        inner.onSyscall(event, tracee);
    }

    @Override
    public void onSignal(SignalEvent event, Tracee tracee) {
        seen(event.pid());
        inner.onSignal(event, tracee);
    }

    @Override
    public void onSpawn(SpawnEvent event) {
        seen(event.pid());
        seen(event.childPid());
        inner.onSpawn(event);
    }

    @Override
    public void onExec(ExecEvent event, Path executable) {
        seen(event.pid());
        inner.onExec(event, executable);
    }

    @Override
    public void onExit(ExitEvent event) {
        if (event.processExit()) pids.remove(event.pid());
        inner.onExit(event);
    }
}
