package dev.deja.device;

import dev.deja.device.ffm.RealtimePriority;
import dev.deja.device.ffm.Signals;
import dev.deja.device.ffm.Spawn;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Wakes the tracing thread out of waitpid(2) at a deadline, with no polling: a timer thread stops
 * a helper child of deja's own (SIGSTOP) when the deadline passes, and waitpid(-1, WUNTRACED)
 * reports that stop like a tracee's. The helper ends by itself once deja is gone.
 */
final class Alarm implements AutoCloseable {
    private final int helperPid;
    private final Thread timer;
    private volatile long deadline = Long.MAX_VALUE;
    /**
     * The deadline the timer thread sleeps towards (MAX_VALUE: none). A deadline moved later needs no
     * wake-up: the timer wakes at the earlier one, sees the new one and sleeps on. The replay's
     * progress limit moves at every stop, and waking the timer for each cost a context switch a stop.
     */
    private volatile long sleepingUntil = Long.MAX_VALUE;
    private volatile boolean closed;
    /** A thread on a free run: stopped (SIGSTOP, which it cannot block) once its CPU time reaches a mark. */
    private final java.util.concurrent.atomic.AtomicReference<PendingStop> watch = new java.util.concurrent.atomic.AtomicReference<>();

    private record PendingStop(int pid, int tid, long atNanos) {
    }

    private Alarm(int helperPid) {
        this.helperPid = helperPid;
        this.timer = Thread.ofPlatform().daemon().name("deja-alarm").start(this::runTimer);
    }

    /** Starts the helper; call before any tracee exists (waitpid(-1) must not take a stranger's child). */
    static Alarm start() {
        return new Alarm(spawnIdleChild("timer helper"));
    }

    /**
     * A child of deja's own that only waits, and ends by itself once deja is gone: stopping or
     * killing it wakes the tracing thread out of waitpid(2).
     */
    static int spawnIdleChild(String what) {
        LaunchSpec helper;
        try {
            helper = Launch.of(List.of("/bin/sh", "-c", "exec </dev/null >/dev/null 2>&1; while kill -0 "
                    + ProcessHandle.current().pid() + "; do sleep 5; done"), List.of());
        } catch (Launch.CommandException e) {
            throw new DeviceException("cannot start deja's " + what + " /bin/sh: " + e.getMessage(), e);
        }
        return Spawn.spawn(helper.executable(), helper.argv(), helper.environment(), helper.closeFds(), 0, 0);
    }

    /** Wakes the tracing thread at {@code nanoTime} (System.nanoTime), replacing an earlier deadline. */
    void at(long nanoTime) {
        if (deadline == nanoTime) return;
        deadline = nanoTime;
        // The timer sets sleepingUntil before it reads deadline again, this reads it after writing deadline:
        // one of the two sees the other's write, so an earlier deadline is never slept through.
        if (nanoTime < sleepingUntil) LockSupport.unpark(timer);
    }

    void cancel() {
        deadline = Long.MAX_VALUE;
    }

    /** True when {@code pid} is the helper: its stop was the alarm; it is let go again. */
    boolean rang(int pid) {
        if (pid != helperPid) return false;
        Signals.kill(helperPid, Signals.SIGCONT);
        return true;
    }

    /**
     * Stops thread {@code tid} with a SIGSTOP (which it cannot block) once it has run for
     * {@code cpuNs}: from this thread, at once (waking the tracing thread first would cost a
     * scheduler tick on a busy machine). The budget is kept by the clock, not by the thread's CPU
     * time: /proc's figure for a running thread lags by up to a tick, and the clock never runs
     * slower than the CPU time of the only thread that runs, so the stop comes early, never late.
     * The tracing thread sees a signal-delivery stop and suppresses it.
     */
    void stopAfter(int pid, int tid, long cpuNs) {
        watch.set(new PendingStop(pid, tid, System.nanoTime() + cpuNs));
        LockSupport.unpark(timer);
    }

    /** Calls the watch off; false when its SIGSTOP was already sent (it will still come). */
    boolean cancelWatch() {
        return watch.getAndSet(null) != null;
    }

    private void runTimer() {
        RealtimePriority.forCallingThread();
        while (!closed) {
            PendingStop w = watch.get();
            if (w != null) {
                sleepingUntil = Long.MAX_VALUE; // here every new deadline wakes it
                long left = w.atNanos() - System.nanoTime();
                if (left <= 0) {
                    if (watch.compareAndSet(w, null)) Signals.tgkill(w.pid(), w.tid(), Signals.SIGSTOP);
                    continue;
                }
                long d = deadline;
                long untilDeadline = d == Long.MAX_VALUE ? left : Math.min(left, d - System.nanoTime());
                if (untilDeadline > 0) {
                    LockSupport.parkNanos(this, untilDeadline);
                    continue;
                }
            }
            long d = deadline;
            sleepingUntil = d;
            if (deadline != d) continue;
            if (d == Long.MAX_VALUE) {
                LockSupport.park(this);
                continue;
            }
            long left = d - System.nanoTime();
            if (left > 0) {
                LockSupport.parkNanos(this, left);
                continue;
            }
            if (deadline == d) {
                deadline = Long.MAX_VALUE;
                Signals.kill(helperPid, Signals.SIGSTOP);
            }
        }
    }

    /** Kills and reaps the helper (through {@code reap}, the tracing thread's waitpid). */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(timer);
        Signals.kill(helperPid, Signals.SIGKILL);
    }

    int helperPid() {
        return helperPid;
    }
}
