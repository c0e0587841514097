package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The matcher's decisions over simulated runs: a counting loop (a register counts, the rate of
 * hits per CPU nanosecond is fixed), a spin-wait (every turn the same state) and an overshoot.
 */
class PreemptionMatcherTest {
    private static final long RIP = 0x555555555181L;

    private static long[] regs(long counter) {
        long[] r = new long[X86Regs.COUNT];
        r[X86Regs.RIP] = RIP;
        r[X86Regs.RDX] = counter;
        r[X86Regs.RAX] = counter;
        r[X86Regs.RSP] = 0x7ffffffde000L;
        return r;
    }

    private static PreemptionMatcher.Observation at(long counter, long cpu, boolean hit) {
        return new PreemptionMatcher.Observation(regs(counter), 42, cpu, hit);
    }

    /** Simulates a loop of {@code perNs} iterations per CPU ns towards the target; returns the stops it took. */
    private static int run(long target, double perNs, long recordedRunNs) {
        PreemptionMatcher m = new PreemptionMatcher(new RunTarget(regs(target), 42, recordedRunNs, "event 7"));
        long counter = 0;
        long cpu = 0;
        PreemptionMatcher.Move move = m.begin(new PreemptionMatcher.Observation(regs(-1), 42, 0, false));
        for (int stops = 1; stops < 100_000; stops++) {
            switch (move) {
                case PreemptionMatcher.Matched x -> {
                    assertEquals(target, counter);
                    return stops;
                }
                case PreemptionMatcher.RunFree f -> {
                    long n = (long) (f.cpuNs() * perNs);
                    counter += n;
                    cpu += f.cpuNs();
                    assertTrue(counter <= target, "a free run overshot: " + counter + " > " + target);
                    move = m.observe(at(counter, cpu, false));
                }
                case PreemptionMatcher.Trap t -> {
                    counter++;
                    cpu += 10;
                    move = m.observe(at(counter, cpu, true));
                }
                case PreemptionMatcher.GiveUp g -> throw new AssertionError(g.reason());
            }
        }
        throw new AssertionError("no match in 100000 stops");
    }

    @Test
    void aCountingLoopIsReachedInFewStopsNotOnePerTurn() {
        int stops = run(10_963_653, 1.17, 6_961_564); // the racy counter's first preemption, as recorded
        // Free runs cover all but the last ~2 x MIN_FREE_NS of CPU time (the timer's precision), trapped turn by turn.
        long trappedAtMost = (long) (2 * PreemptionMatcher.MIN_FREE_NS * 1.17) + 1_000;
        assertTrue(stops < trappedAtMost, "stops: " + stops + " for 10963653 turns");
    }

    @Test
    void aShortRunIsTrappedTurnByTurn() {
        assertTrue(run(50, 1.0, 50_000) <= 52);
    }

    @Test
    void theStartingStateMayAlreadyBeThePoint() {
        PreemptionMatcher m = new PreemptionMatcher(new RunTarget(regs(5), 42, 1_000_000, "event 7"));
        assertInstanceOf(PreemptionMatcher.Matched.class, m.begin(at(5, 0, false)));
    }

    @Test
    void aSpinWaitMatchesAtItsFirstTurn() {
        PreemptionMatcher m = new PreemptionMatcher(new RunTarget(regs(3), 42, 20_000, "event 7"));
        assertInstanceOf(PreemptionMatcher.Trap.class, m.begin(at(0, 0, false)));
        assertInstanceOf(PreemptionMatcher.Matched.class, m.observe(at(3, 50, true)));
    }

    @Test
    void aStackThatDiffersIsNoMatch() {
        PreemptionMatcher m = new PreemptionMatcher(new RunTarget(regs(3), 42, 100_000, "event 7"));
        m.begin(at(0, 0, false));
        assertInstanceOf(PreemptionMatcher.Trap.class,
                m.observe(new PreemptionMatcher.Observation(regs(3), 43, 50, true)));
    }

    @Test
    void passingTheCountingRegistersTargetGivesUp() {
        PreemptionMatcher m = new PreemptionMatcher(new RunTarget(regs(100), 42, 10_000, "event 7"));
        m.begin(at(0, 0, false));
        m.observe(at(10, 10, true));
        m.observe(at(11, 20, true));
        m.observe(at(12, 30, true)); // counting by one: 88 hits left
        m.observe(at(101, 40, true)); // past it, by a jump
        m.observe(at(102, 50, true));
        assertInstanceOf(PreemptionMatcher.Trap.class, m.observe(at(103, 60, true)), "an inner loop may still reach it");
        PreemptionMatcher.Move last = null;
        for (long i = 0; i <= PreemptionMatcher.HITS_AFTER_PAST; i++) last = m.observe(at(104 + i, 70 + i, true));
        assertInstanceOf(PreemptionMatcher.GiveUp.class, last);
    }
}
