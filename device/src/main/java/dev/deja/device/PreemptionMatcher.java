package dev.deja.device;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides how replay brings a thread to a recorded preemption point without an instruction
 * counter. Pure: it sees observations (the thread's registers, stack hash and CPU time at a stop)
 * and answers with the next move; the device carries the moves out.
 *
 * <ol>
 *   <li>Run free (no breakpoint, nothing stops it) for half the CPU time the thread ran before the
 *       recorded interrupt, then interrupt it: the point lies later (a run replays no faster than
 *       half its recorded speed, an assumption docs/replay.md states).</li>
 *   <li>Then plant a breakpoint at the recorded instruction and stop at each hit; the first hit
 *       whose state matches is the point.</li>
 *   <li>In a counting loop every hit costs a stop. When two consecutive hits show a register that
 *       moves by a constant step towards the target's value, the number of hits left is known;
 *       when it is large the thread runs free again for most of the CPU time those hits take (the
 *       rate is measured over a free run), and the breakpoint comes back for the last few.</li>
 * </ol>
 * A hit past the target (the counting register moved beyond it) or too many hits end the attempt:
 * the replay then diverges at the thread's next syscall, named.
 */
public final class PreemptionMatcher {
    /** Below this many hits left, trapping each is cheaper than measuring. */
    static final long TRAP_ALL_BELOW = 64;
    /** A free run aims at this fraction of the hits estimated to be left (the rate varies by half between runs). */
    static final double FREE_FRACTION = 0.5;
    /** The first free run's share of the recorded CPU time. */
    static final double FIRST_FREE_SHARE = 0.5;
    /** Free runs shorter than this are not worth their interrupt. */
    static final long MIN_FREE_NS = 30_000;
    /** How late a free run's stop is taken to come, at most (a real-time timer thread sends it). */
    static final long MAX_LATE_NS = 150_000;
    /** A measuring free run (when the rate is unknown), at most. */
    static final long PROBE_NS = 300_000;
    /**
     * No loop turns faster than this (hits per CPU nanosecond: one turn in two cycles at 4 GHz): a probe
     * sized by it cannot pass the hits known to be left, whatever the loop.
     */
    static final double FASTEST_RATE = 2.0;
    /** After a counting register went past its recorded value, give up after this many more hits. */
    static final long HITS_AFTER_PAST = 20_000;
    /** Give up after this many breakpoint hits. */
    static final long MAX_HITS = 200_000;

    /** What the device does next. */
    public sealed interface Move {
    }

    /** The thread is at the point: leave it stopped there. */
    public record Matched() implements Move {
    }

    /** Resume without the breakpoint and interrupt the thread after {@code cpuNs} more CPU time. */
    public record RunFree(long cpuNs) implements Move {
    }

    /** Resume with the breakpoint planted at the target instruction (stepping over it if the thread is on it). */
    public record Trap() implements Move {
    }

    /** The point cannot be reached this way; {@code reason} says why. */
    public record GiveUp(String reason) implements Move {
    }

    /** One stop of the thread: registers, stack hash, CPU time so far, and whether it was a breakpoint hit. */
    public record Observation(long[] registers, long stackHash, long cpuNs, boolean hit) {
    }

    private final RunTarget target;
    private long hits;
    /** The last consecutive breakpoint hits (no free run between), newest last. */
    private final List<Observation> trail = new ArrayList<>();
    /** The hit a free run started from, to measure the rate of the counting register. */
    private Observation freeFrom;
    /** The CPU time the last free run from {@link #freeFrom} was given. */
    private long freeBudget;
    /** The CPU time when the current free run began (-1: none), its budget, and the latest a stop came. */
    private long freeStartCpu = -1;
    private long lastBudget;
    private long lateNs;
    private int progressRegister = -1;
    /** The hit at which a counting register first went past the target, or -1. */
    private long pastAt = -1;
    private long step;
    /** Hits of the progress register per CPU nanosecond (the highest measured), once measured. */
    private double rate = Double.NaN;

    public PreemptionMatcher(RunTarget target) {
        this.target = target;
    }

    public RunTarget target() {
        return target;
    }

    public long hits() {
        return hits;
    }

    /** The thread is about to run from where it was let go; {@code start} is its state there. */
    public Move begin(Observation start) {
        if (RunState.matches(target, start.registers(), start.stackHash())) return new Matched();
        long free = (long) (target.runNs() * FIRST_FREE_SHARE);
        return free >= MIN_FREE_NS ? runFree(start, free) : new Trap();
    }

    /** The thread stopped: at a breakpoint hit, or interrupted after a free run. */
    public Move observe(Observation now) {
        if (RunState.matches(target, now.registers(), now.stackHash())) return new Matched();
        if (!now.hit()) {
            // After a free run: how late its stop came (the next ones are shortened by it), and the next
            // hit tells where it got to.
            if (freeStartCpu >= 0) lateNs = Math.min(MAX_LATE_NS, Math.max(lateNs, now.cpuNs() - freeStartCpu - lastBudget));
            freeStartCpu = -1;
            trail.clear();
            return new Trap();
        }
        if (++hits > MAX_HITS) {
            return new GiveUp(MAX_HITS + " breakpoint hits at 0x" + Long.toHexString(target.rip())
                    + " without the recorded state");
        }
        if (freeFrom != null && progressRegister >= 0 && now.cpuNs() - freeFrom.cpuNs() >= freeBudget / 2) {
            long moved = (now.registers()[progressRegister] - freeFrom.registers()[progressRegister]) / step;
            long cpu = now.cpuNs() - freeFrom.cpuNs();
            // The fastest rate seen: overestimating it only costs another round, underestimating overshoots.
            if (moved > 0 && cpu > 0) rate = Double.isNaN(rate) ? (double) moved / cpu : Math.max(rate, (double) moved / cpu);
        }
        freeFrom = null;
        trail.add(now);
        if (trail.size() > 3) trail.removeFirst();
        if (trail.size() < 3) return new Trap();
        long left = hitsLeft(trail.get(trail.size() - 3), trail.get(trail.size() - 2), now);
        if (left == PAST) {
            // Either an overshoot, or the register counts an inner loop whose later turn holds the point:
            // it is no longer trusted, and hits are looked at one by one for a while.
            progressRegister = -1;
            rate = Double.NaN;
            if (pastAt < 0) pastAt = hits;
        }
        if (pastAt >= 0 && hits - pastAt > HITS_AFTER_PAST) {
            return new GiveUp("the thread ran past the recorded point at 0x" + Long.toHexString(target.rip())
                    + " (a counting register went beyond its recorded value, and " + HITS_AFTER_PAST
                    + " more hits did not find it)");
        }
        if (left < 0) return new Trap(); // no counting register: every hit is looked at
        if (left <= TRAP_ALL_BELOW) return new Trap();
        if (Double.isNaN(rate)) {
            long probe = Math.min(PROBE_NS, (long) (FREE_FRACTION * left / FASTEST_RATE) - lateNs);
            if (probe < MIN_FREE_NS) return new Trap();
            freeFrom = now;
            freeBudget = probe;
            return runFree(now, probe);
        }
        long free = (long) (FREE_FRACTION * left / rate) - lateNs;
        if (free < MIN_FREE_NS) return new Trap();
        freeFrom = now;
        freeBudget = free;
        trail.clear();
        return runFree(now, free);
    }

    private Move runFree(Observation from, long budget) {
        freeStartCpu = from.cpuNs();
        lastBudget = budget;
        return new RunFree(budget);
    }

    private static final long UNKNOWN = -1;
    private static final long PAST = -2;

    /**
     * Hits left to the target by a register that moved by the same non-zero step between each of
     * the three hits and lies a whole number of steps before the target's value; the smallest such count
     * (the safest). {@link #PAST} when the register that counted before now lies beyond.
     */
    private long hitsLeft(Observation first, Observation before, Observation now) {
        long best = UNKNOWN;
        int bestReg = -1;
        long bestStep = 0;
        for (int i = 0; i <= X86Regs.RDI; i++) {
            long gap = target.register(i) - now.registers()[i];
            long d = now.registers()[i] - before.registers()[i];
            // A counting register steps the same way at every hit: a pointer that wanders is no measure.
            if (d == 0 || before.registers()[i] - first.registers()[i] != d) continue;
            if (i == progressRegister && d == step && gap != 0 && Long.signum(gap) != Long.signum(step)) return PAST;
            if (gap % d != 0) continue;
            long n = gap / d;
            if (n < 0) {
                if (i == progressRegister) return PAST;
                continue;
            }
            if (best == UNKNOWN || n < best) {
                best = n;
                bestReg = i;
                bestStep = d;
            }
        }
        if (bestReg >= 0) {
            if (bestReg != progressRegister) rate = Double.NaN;
            progressRegister = bestReg;
            step = bestStep;
        }
        return best;
    }
}
