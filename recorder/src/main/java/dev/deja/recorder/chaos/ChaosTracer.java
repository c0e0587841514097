package dev.deja.recorder.chaos;

import dev.deja.device.Decision;
import dev.deja.device.DeviceException;
import dev.deja.device.SyscallEntry;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.ffm.Affinity;
import dev.deja.device.ffm.WaitPeek;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.recorder.ForwardingTracer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code deja record --chaos}: perturbs the traced tree's scheduling at syscall boundaries so that
 * order-dependent bugs show in fewer runs. Three perturbations, all decided by one seeded random
 * stream:
 * <ul>
 *   <li>a small pretend core count: the program is pinned to one or two of deja's CPUs before its
 *       first instruction (sched_setaffinity on the root thread; children and threads inherit it);
 *   <li>random short delays: a thread stopped at a syscall entry or exit is sometimes kept there a
 *       little while the others run on;
 *   <li>one thread at a time, in random order: every thread gets a random priority when it first
 *       stops (and a new one now and then). A thread that reaches a syscall stop is held. Of the
 *       held threads, the one of highest priority goes on, and runs alone until its next syscall
 *       stop, or until it blocks in the kernel (then the next goes on: it may be waiting for one
 *       of them), or for at most {@link #MAX_RUN_ALONE_NS}. So a high-priority thread runs
 *       syscall after syscall while the others wait: orders that the kernel's scheduler almost
 *       never picks (a new thread running before its creator goes on) come up in about one run in
 *       two, as in rr's chaos mode. Running threads one at a time between syscalls is also what
 *       the replayer does, so a chaos recording replays even where threads race in memory
 *       (a join that found the thread gone), unless a thread ran past the limit.
 * </ul>
 * A held thread is released as soon as no stop is pending and the thread released last is blocked
 * in the kernel, gone, or past its time, so a thread waiting for a held one is always served: chaos
 * never deadlocks a program that runs without it. A creator may be held at its return from
 * clone until its new thread has exited (the replayer handles that order). The recording is an ordinary one: the order it holds is
 * the order chaos chose, which the replayer enforces.
 */
public final class ChaosTracer extends ForwardingTracer {
    /** One stop in DELAY_ONE_IN is delayed, by up to MAX_DELAY_NS. */
    static final int DELAY_ONE_IN = 4;
    static final long MAX_DELAY_NS = 500_000;
    /**
     * How long the thread released last may run alone, at most, before another is released beside
     * it: a thread computing (or spinning) longer than this between two syscalls is not waited for.
     */
    static final long MAX_RUN_ALONE_NS = 5_000_000;
    /** How often a release looks whether the running thread stopped or blocked. */
    static final long POLL_NS = 20_000;
    /** A released thread gets a new random priority once in REPRIORITIZE_ONE_IN releases. */
    static final int REPRIORITIZE_ONE_IN = 64;

    private final SplittableRandom random;
    private final List<Integer> cpus;
    /** Live threads of the traced tree, as far as events told. */
    private final Set<Integer> live = new LinkedHashSet<>();
    /** Each thread's priority: the higher, the sooner it goes on. */
    private final Map<Integer, Integer> priority = new HashMap<>();
    /** Threads this tracer holds in a syscall stop, in the order they arrived. */
    private final Set<Integer> held = new LinkedHashSet<>();
    /** The thread released last, running between two syscalls; 0 when none is. */
    private int runner;
    /** The held thread the current release picked; 0 when none is picked. */
    private int chosen;
    private boolean pinned;

    /**
     * @param inner the recording tracer (or another decorator)
     * @param seed  decides every perturbation of this run
     * @param allowedCpus the CPUs deja may use; the program gets one or two of them
     */
    public ChaosTracer(Tracer inner, long seed, List<Integer> allowedCpus) {
        super(inner);
        if (allowedCpus.isEmpty()) throw new IllegalArgumentException("no CPU to pin the program to");
        this.random = new SplittableRandom(seed);
        this.cpus = pickCpus(random, allowedCpus);
    }

    /** One or two distinct CPUs of {@code allowed}, at random. */
    static List<Integer> pickCpus(SplittableRandom random, List<Integer> allowed) {
        List<Integer> pool = new ArrayList<>(allowed);
        int count = 1 + random.nextInt(Math.min(2, pool.size()));
        List<Integer> picked = new ArrayList<>();
        for (int i = 0; i < count; i++) picked.add(pool.remove(random.nextInt(pool.size())));
        picked.sort(Integer::compare);
        return List.copyOf(picked);
    }

    /** The CPUs the program runs on. */
    public List<Integer> cpus() {
        return cpus;
    }

    @Override
    public boolean decides() {
        return true;
    }

    @Override
    public boolean ordersThreads() {
        return true;
    }

    @Override
    public Decision onSyscallEntry(SyscallEntry entry, Tracee tracee) {
        if (!pinned) {
            // The program's execve, its first event: its only thread, and every later one inherits the mask.
            Affinity.pin(tracee.tid(), cpus);
            pinned = true;
        }
        return inner.onSyscallEntry(entry, tracee);
    }

    @Override
    public boolean mayContinue(Tracee tracee, boolean entry) {
        int tid = tracee.tid();
        if (!held.contains(tid)) {
            if (tid == runner) runner = 0; // it stopped: its run between syscalls is over
            live.add(tid);
            priority.computeIfAbsent(tid, t -> random.nextInt());
            if (random.nextInt(DELAY_ONE_IN) == 0) pause(MAX_DELAY_NS);
            if (live.size() <= 1) return true; // nothing to reorder against
            held.add(tid);
            return false;
        }
        // Asked again: the device is about to wait for the next stop. Let the thread released last
        // run alone until it stops again (then its stop is pending) or blocks in the kernel.
        long deadline = System.nanoTime() + MAX_RUN_ALONE_NS;
        while (true) {
            if (WaitPeek.pending()) return false; // a stop is there: take it first, so it joins the draw
            if (runner == 0 || !running(runner) || System.nanoTime() > deadline) break;
            LockSupport.parkNanos(POLL_NS);
        }
        if (chosen == 0 || !held.contains(chosen)) chosen = highestPriority(held);
        if (tid != chosen) return false;
        held.remove(tid);
        chosen = 0;
        runner = tid;
        if (random.nextInt(REPRIORITIZE_ONE_IN) == 0) priority.put(tid, random.nextInt());
        return true;
    }

    /**
     * Whether thread {@code tid} is running or runnable (state R in /proc/TID/stat) rather than
     * asleep in the kernel, stopped or gone.
     */
    private static boolean running(int tid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Integer.toString(tid), "stat"));
        } catch (IOException e) {
            return false; // gone: its death is reported next
        }
        // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
        int close = stat.lastIndexOf(')');
        return close >= 0 && close + 2 < stat.length() && stat.charAt(close + 2) == 'R';
    }

    private int highestPriority(Set<Integer> from) {
        int best = 0;
        int bestPriority = Integer.MIN_VALUE;
        for (int tid : from) {
            int p = priority.getOrDefault(tid, Integer.MIN_VALUE);
            if (best == 0 || p > bestPriority) {
                best = tid;
                bestPriority = p;
            }
        }
        return best;
    }

    private void pause(long maxNanos) {
        long nanos = random.nextLong(maxNanos + 1);
        long until = System.nanoTime() + nanos;
        // parkNanos may return early (spuriously or on interrupt); the delay is a floor, not a hint.
        for (long left = nanos; left > 0; left = until - System.nanoTime()) LockSupport.parkNanos(left);
    }

    @Override
    public void stalled() {
        // Every thread is held only while a stop is pending, which the device takes next.
        if (WaitPeek.pending()) return;
        throw new DeviceException("chaos: every thread is held and no stop is pending (held " + held + ")");
    }

    @Override
    public void onSpawn(SpawnEvent event) {
        live.add(event.childTid());
        inner.onSpawn(event);
    }

    @Override
    public void onExec(ExecEvent event, Path executable) {
        if (event.formerTid() != event.tid()) {
            // A non-leader thread exec'd and took the leader's tid: its old tid is gone.
            live.remove(event.formerTid());
            held.remove(event.formerTid());
            priority.remove(event.formerTid());
        }
        inner.onExec(event, executable);
    }

    @Override
    public void onExit(ExitEvent event) {
        live.remove(event.tid());
        held.remove(event.tid());
        priority.remove(event.tid());
        if (runner == event.tid()) runner = 0;
        inner.onExit(event);
    }
}
