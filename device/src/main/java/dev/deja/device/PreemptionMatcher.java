package dev.deja.device;

import java.util.Arrays;

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
 *   <li>A loop can pass the instruction millions of times before the point, and each hit costs two
 *       stops. Registers that only ever move towards their recorded value, hit after hit (a loop's
 *       index, a pointer into the data it walks: loops nest, so it need not move at every hit), are
 *       <em>progress measures</em>. Their speed in CPU time is measured over a short free run; then
 *       the thread runs free again for half the time the most pessimistic of them says is left,
 *       and so on until little is left, which is trapped hit by hit.</li>
 * </ol>
 * A register that moves away from its recorded value or passes it is no measure (an inner loop's
 * counter, a wandering pointer) and is dropped. When every measure passed its value and none is
 * left, the thread ran past the point (a free run overshot): after a bounded number of further hits
 * the attempt ends, as it does after {@link #MAX_HITS}; the replay then diverges, named.
 */
public final class PreemptionMatcher {
    /**
     * A free run aims at this fraction of the CPU time estimated to be left: the speed varies between
     * stretches of a run (xz's match finder went 2.6x faster than any stretch measured before it).
     */
    static final double FREE_FRACTION = 0.3;
    /** The fraction when every speed measured of the measure agreed within {@link #STEADY} (a plain counting loop). */
    static final double STEADY_FRACTION = 0.5;
    static final double STEADY = 1.25;
    /** The first free run's share of the recorded CPU time. */
    static final double FIRST_FREE_SHARE = 0.3;
    /** Free runs shorter than this are not worth their interrupt. */
    static final long MIN_FREE_NS = 30_000;
    /** How late a free run's stop is taken to come, at most (a real-time timer thread sends it). */
    static final long MAX_LATE_NS = 150_000;
    /** A measuring free run (when a measure's speed is unknown), at most. */
    static final long PROBE_NS = 200_000;
    /**
     * No loop passes an instruction faster than this (hits per CPU nanosecond): a probe sized by it
     * cannot pass the hits a measure says are left.
     */
    static final double FASTEST_HITS_PER_NS = 1.0;
    /** Consecutive hits seen before a measure's moves per hit are trusted to size a probe. */
    static final long PAIRS_FOR_PROBE = 16;
    /** After the last measure passed its value, give up after this many more hits. */
    static final long HITS_AFTER_PAST = 20_000;
    /**
     * A free run is at most this many times the longest one a speed was measured over: a loop's speed
     * varies with its data (xz's match finder by 2x between stretches of its input), so a speed is
     * trusted only a little beyond the stretch it was measured on.
     */
    static final long GROWTH = 4;
    /** Give up after this many breakpoint hits. */
    static final long MAX_HITS = 300_000;

    /** The general registers compared as progress measures (user_regs_struct r15 to rdi). */
    private static final int MEASURED = X86Regs.RDI + 1;
    private static final int UNKNOWN = 0;
    private static final int EXCLUDED = 2;

    /** What the device does next. */
    public sealed interface Move {
    }

    /** The thread is at the point: leave it stopped there. */
    public record Matched() implements Move {
    }

    /**
     * Resume without the breakpoint and interrupt the thread after {@code cpuNs} more CPU time; the
     * device reports the thread's CPU time as the run begins ({@link #freeRunBegins}).
     */
    public record RunFree(long cpuNs) implements Move {
    }

    /**
     * Resume with the breakpoint planted at the target instruction (stepping over it if the thread is
     * on it); {@code timed}: the next observation must carry the thread's CPU time; {@code measuring}:
     * the hits to come measure how far each register moves per hit, and free runs follow (else every
     * hit from here on is looked at until the point: the device may use a cheaper way to find the first
     * hit whose registers are the point's).
     */
    public record Trap(boolean timed, boolean measuring) implements Move {
    }

    /** The point cannot be reached this way; {@code reason} says why. */
    public record GiveUp(String reason) implements Move {
    }

    /**
     * One stop of the thread: registers, stack hash, CPU time so far ({@link #NOT_READ} when the move
     * before did not ask for it), and whether it was a breakpoint hit.
     */
    public record Observation(long[] registers, long stackHash, long cpuNs, boolean hit) {
    }

    public static final long NOT_READ = -1;

    private final RunTarget target;
    private long hits;
    /** Registers at the last hit (null before the first). */
    private long[] last;
    /** The last hit and the next one have no free run between. */
    private boolean consecutive;
    /** Per register: the direction it moves in (+1, -1), {@link #UNKNOWN} or {@link #EXCLUDED}. */
    private final int[] direction = new int[MEASURED];
    /** Per register: how far it moved between consecutive hits, in all; and how many such pairs were seen. */
    private final double[] consecutiveMoves = new double[MEASURED];
    private long consecutivePairs;
    /** Per register: units per CPU nanosecond over free runs (the highest and lowest seen), NaN until measured. */
    private final double[] speed = new double[MEASURED];
    private final double[] slowest = new double[MEASURED];
    private final int[] measurements = new int[MEASURED];
    /** Whether some register was dropped for passing its value (an overshoot, if no measure is left). */
    private boolean passed;
    private long pastAt = -1;
    /** The hit a free run started from and the thread's CPU time then, for the speeds; null when none. */
    private long[] freeFrom;
    private long freeFromCpu;
    private long lastBudget;
    /** The first hit after a free run measures speeds. */
    private boolean afterFree;
    private long lateNs;
    /** The longest free run a speed was measured over. */
    private long longestMeasured;

    public PreemptionMatcher(RunTarget target) {
        this.target = target;
        Arrays.fill(speed, Double.NaN);
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
        if (free < MIN_FREE_NS) return new Trap(false, false);
        lastBudget = free;
        return new RunFree(free);
    }

    /** A free run begins with the thread at {@code cpuNs} of CPU time. */
    public void freeRunBegins(long cpuNs) {
        freeFromCpu = cpuNs;
    }

    /** The thread stopped: at a breakpoint hit, or interrupted after a free run. */
    public Move observe(Observation now) {
        if (RunState.matches(target, now.registers(), now.stackHash())) return new Matched();
        if (!now.hit()) {
            // After a free run: how late its stop came (the next ones are shortened by it); the next hit
            // tells where it got to.
            if (now.cpuNs() != NOT_READ) {
                lateNs = Math.min(MAX_LATE_NS, Math.max(lateNs, now.cpuNs() - freeFromCpu - lastBudget));
            }
            afterFree = true;
            consecutive = false;
            return new Trap(true, false);
        }
        if (++hits > MAX_HITS) {
            return new GiveUp(MAX_HITS + " breakpoint hits at 0x" + Long.toHexString(target.rip())
                    + " without the recorded state");
        }
        long[] regs = now.registers();
        if (last != null) follow(regs, now.cpuNs());
        last = regs.clone();
        afterFree = false;
        consecutive = true;

        boolean anyMeasure = false;
        double leftNs = Double.POSITIVE_INFINITY; // the least CPU time any measure says is left
        boolean unmeasured = false;
        boolean steady = true;
        for (int i = 0; i < MEASURED; i++) {
            if (direction[i] == UNKNOWN || direction[i] == EXCLUDED) continue;
            anyMeasure = true;
            double gap = Math.abs((double) target.register(i) - (double) regs[i]);
            if (Double.isNaN(speed[i])) {
                unmeasured = true;
                // Its average move per hit says how many hits are left; at FASTEST_HITS_PER_NS, at least this long.
                if (consecutivePairs >= PAIRS_FOR_PROBE && consecutiveMoves[i] > 0) {
                    leftNs = Math.min(leftNs, gap / (consecutiveMoves[i] / consecutivePairs) / FASTEST_HITS_PER_NS);
                }
            } else {
                leftNs = Math.min(leftNs, gap / speed[i]);
                steady &= measurements[i] >= 2 && speed[i] <= STEADY * slowest[i];
            }
        }
        if (!anyMeasure) {
            if (passed && pastAt < 0) pastAt = hits;
            if (pastAt >= 0 && hits - pastAt > HITS_AFTER_PAST) {
                return new GiveUp("the thread ran past the recorded point at 0x" + Long.toHexString(target.rip())
                        + " (every register that counted towards it went beyond its recorded value, and "
                        + HITS_AFTER_PAST + " more hits did not find it)");
            }
            return new Trap(false, false);
        }
        pastAt = -1;
        if (Double.isInfinite(leftNs)) return new Trap(false, true); // measures seen to move only across free runs so far
        long free = (long) ((steady && !unmeasured ? STEADY_FRACTION : FREE_FRACTION) * leftNs) - lateNs;
        free = Math.min(free, unmeasured ? PROBE_NS : Math.max(PROBE_NS, GROWTH * longestMeasured));
        if (free < MIN_FREE_NS) return new Trap(false, false);
        freeFrom = regs.clone(); // its CPU time comes with freeRunBegins
        lastBudget = free;
        return new RunFree(free);
    }

    /** Updates the progress measures with a hit that follows {@link #last}. */
    private void follow(long[] regs, long cpuNs) {
        for (int i = 0; i < MEASURED; i++) {
            if (direction[i] == EXCLUDED) continue;
            long t = target.register(i);
            int before = Long.compare(t, last[i]); // the way to the target from the last hit
            int after = Long.compare(t, regs[i]);
            int moved = Long.compare(regs[i], last[i]);
            if (moved == 0) continue;
            if (before == 0 || moved != before || (after != 0 && after != before)) {
                // Moved away from the target, or passed it: an inner loop's counter, a wandering pointer.
                if (before != 0 && after != before && direction[i] != UNKNOWN) passed = true;
                direction[i] = EXCLUDED;
                continue;
            }
            if (direction[i] == UNKNOWN) direction[i] = moved;
            if (consecutive) consecutiveMoves[i] += Math.abs((double) regs[i] - (double) last[i]);
            if (afterFree && freeFrom != null && cpuNs != NOT_READ && cpuNs > freeFromCpu) {
                double s = Math.abs((double) regs[i] - (double) freeFrom[i]) / (cpuNs - freeFromCpu);
                if (s > 0) {
                    speed[i] = Double.isNaN(speed[i]) ? s : Math.max(speed[i], s);
                    slowest[i] = measurements[i] == 0 ? s : Math.min(slowest[i], s);
                    measurements[i]++;
                }
            }
        }
        if (afterFree && freeFrom != null) {
            longestMeasured = Math.max(longestMeasured, lastBudget);
            freeFrom = null;
        }
        if (consecutive) consecutivePairs++;
    }
}
