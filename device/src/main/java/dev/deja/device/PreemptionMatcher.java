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
    /** A measuring free run (when the rate is unknown). */
    static final long PROBE_NS = 300_000;
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
    private int progressRegister = -1;
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
        return free >= MIN_FREE_NS ? new RunFree(free) : new Trap();
    }

    /** The thread stopped: at a breakpoint hit, or interrupted after a free run. */
    public Move observe(Observation now) {
        if (RunState.matches(target, now.registers(), now.stackHash())) return new Matched();
        if (!now.hit()) {
            // After a free run: the next hit tells where it got to.
            trail.clear();
            return new Trap();
        }
        if (++hits > MAX_HITS) {
            return new GiveUp(MAX_HITS + " breakpoint hits at 0x" + Long.toHexString(target.rip())
                    + " without the recorded state");
        }
        if (freeFrom != null && progressRegister >= 0) {
            long moved = (now.registers()[progressRegister] - freeFrom.registers()[progressRegister]) / step;
            long cpu = now.cpuNs() - freeFrom.cpuNs();
            // The fastest rate seen: overestimating it only costs another round, underestimating overshoots.
            if (moved > 0 && cpu > 0) rate = Double.isNaN(rate) ? (double) moved / cpu : Math.max(rate, (double) moved / cpu);
        }
        freeFrom = null;
        trail.add(now);
        if (trail.size() > 3) trail.removeFirst();
        if (trail.size() < 2) return new Trap();
        long left = hitsLeft(trail.get(trail.size() - 2), now);
        if (left < 0) {
            if (left == PAST) {
                return new GiveUp("the thread ran past the recorded point at 0x" + Long.toHexString(target.rip())
                        + " (a counting register went beyond its recorded value)");
            }
            return new Trap(); // no counting register: every hit is looked at
        }
        if (left <= TRAP_ALL_BELOW) return new Trap();
        if (Double.isNaN(rate)) {
            freeFrom = now;
            return new RunFree(PROBE_NS);
        }
        long free = (long) (FREE_FRACTION * left / rate);
        if (free < MIN_FREE_NS) return new Trap();
        freeFrom = now;
        trail.clear();
        return new RunFree(free);
    }

    private static final long UNKNOWN = -1;
    private static final long PAST = -2;

    /**
     * Hits left to the target by a register that moved by the same non-zero step between the two
     * hits and lies a whole number of steps before the target's value; the smallest such count
     * (the safest). {@link #PAST} when the register that counted before now lies beyond.
     */
    private long hitsLeft(Observation before, Observation now) {
        long best = UNKNOWN;
        int bestReg = -1;
        long bestStep = 0;
        for (int i = 0; i <= X86Regs.RDI; i++) {
            long gap = target.register(i) - now.registers()[i];
            if (i == progressRegister && gap != 0 && Long.signum(gap) != Long.signum(step)) return PAST;
            long d = now.registers()[i] - before.registers()[i];
            if (d == 0) continue;
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
