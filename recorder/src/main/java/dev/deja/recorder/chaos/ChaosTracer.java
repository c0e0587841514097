package dev.deja.recorder.chaos;

import dev.deja.device.Decision;
import dev.deja.device.SchedulePolicy;
import dev.deja.device.SyscallEntry;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.ffm.Affinity;
import dev.deja.formats.event.ExitEvent;
import dev.deja.recorder.ForwardingTracer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code deja record --chaos}: perturbs the traced tree's scheduling so that order-dependent bugs
 * show in fewer runs. It is a policy of the device's one scheduler (the one that runs the threads
 * of a process one at a time while recording), not a scheduler of its own; all perturbations come
 * from one seeded random stream:
 * <ul>
 *   <li>a small pretend core count: the program is pinned to one or two of deja's CPUs before its
 *       first instruction (sched_setaffinity on the root thread; children and threads inherit it);
 *   <li>random short delays at syscall entries;
 *   <li>random order: every thread gets a random priority when it first waits (and a new one now
 *       and then); of the threads waiting to run, the one of highest priority goes next, and a
 *       running thread of higher priority than all waiting ones keeps its turn through its
 *       syscalls (unless one blocks), so orders the kernel's scheduler almost never picks (a new
 *       thread making several calls before its creator goes on) come up often, as in rr's chaos
 *       mode;
 *   <li>a random time slice between 1 and 10 ms, so threads computing without syscalls are
 *       preempted at different places from run to run (a race decided purely in memory shows).
 * </ul>
 * The recording is an ordinary one: the order it holds is the order chaos chose, which the
 * replayer enforces, preemptions included.
 */
public final class ChaosTracer extends ForwardingTracer {
    /** One syscall entry in DELAY_ONE_IN is delayed, by up to MAX_DELAY_NS. */
    static final int DELAY_ONE_IN = 4;
    static final long MAX_DELAY_NS = 500_000;
    /** A thread gets a new random priority once in REPRIORITIZE_ONE_IN picks. */
    static final int REPRIORITIZE_ONE_IN = 64;
    static final long MIN_SLICE_NS = 1_000_000;
    static final long MAX_SLICE_NS = 10_000_000;

    private final SplittableRandom random;
    private final List<Integer> cpus;
    /** Each thread's priority: the higher, the sooner it goes on. */
    private final Map<Integer, Integer> priority = new HashMap<>();
    private final long sliceNs;
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
        this.sliceNs = MIN_SLICE_NS + random.nextLong(MAX_SLICE_NS - MIN_SLICE_NS + 1);
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
    public Decision onSyscallEntry(SyscallEntry entry, Tracee tracee) {
        if (!pinned) {
            // The program's execve, its first event: its only thread, and every later one inherits the mask.
            Affinity.pin(tracee.tid(), cpus);
            pinned = true;
        }
        if (random.nextInt(DELAY_ONE_IN) == 0) pause(MAX_DELAY_NS);
        return inner.onSyscallEntry(entry, tracee);
    }

    @Override
    public SchedulePolicy scheduling() {
        return new SchedulePolicy() {
            @Override
            public int pick(List<Integer> waiting) {
                int best = waiting.getFirst();
                int bestPriority = Integer.MIN_VALUE;
                for (int tid : waiting) {
                    int p = priority.computeIfAbsent(tid, t -> random.nextInt());
                    if (p > bestPriority) {
                        best = tid;
                        bestPriority = p;
                    }
                }
                if (random.nextInt(REPRIORITIZE_ONE_IN) == 0) priority.put(best, random.nextInt());
                return best;
            }

            /** A thread of higher priority than every waiting one runs syscall after syscall while they wait. */
            @Override
            public boolean keepsTurn(int tid, List<Integer> waiting) {
                int mine = priority.computeIfAbsent(tid, t -> random.nextInt());
                for (int w : waiting) if (priority.computeIfAbsent(w, t -> random.nextInt()) > mine) return false;
                return true;
            }

            /** Behind every waiting thread: the one a spin on sched_yield waits for gets to run. */
            @Override
            public void yielded(int tid, List<Integer> waiting) {
                int lowest = Integer.MAX_VALUE;
                for (int w : waiting) lowest = Math.min(lowest, priority.computeIfAbsent(w, t -> random.nextInt()));
                priority.put(tid, lowest == Integer.MIN_VALUE ? lowest : lowest - 1);
            }

            @Override
            public long sliceNs() {
                return sliceNs;
            }
        };
    }

    private void pause(long maxNanos) {
        long nanos = random.nextLong(maxNanos + 1);
        long until = System.nanoTime() + nanos;
        // parkNanos may return early (spuriously or on interrupt); the delay is a floor, not a hint.
        for (long left = nanos; left > 0; left = until - System.nanoTime()) LockSupport.parkNanos(left);
    }

    @Override
    public void onExit(ExitEvent event) {
        priority.remove(event.tid());
        inner.onExit(event);
    }
}
