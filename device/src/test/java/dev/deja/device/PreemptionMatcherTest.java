package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    /** A loop the simulation runs: its registers at the n-th pass of the breakpoint's instruction. */
    private interface Loop {
        long[] at(long pass);
    }

    /** Simulates {@code loop} at {@code perNs} passes per CPU ns towards pass {@code targetPass}; returns the stops it took. */
    private static int run(Loop loop, long targetPass, double perNs, long recordedRunNs) {
        PreemptionMatcher m = new PreemptionMatcher(new RunTarget(loop.at(targetPass), 42, recordedRunNs, "event 7"));
        long pass = 0;
        long cpu = 0;
        boolean lastTrapMeasured = false;
        PreemptionMatcher.Move move = m.begin(new PreemptionMatcher.Observation(regs(-1), 42, 0, false));
        for (int stops = 1; stops < 200_000; stops++) {
            switch (move) {
                case PreemptionMatcher.Matched x -> {
                    assertEquals(targetPass, pass);
                    assertFalse(lastTrapMeasured, "the hits just before the point were the final approach's");
                    return stops;
                }
                case PreemptionMatcher.RunFree f -> {
                    m.freeRunBegins(cpu);
                    long n = (long) (f.cpuNs() * perNs);
                    pass += n;
                    cpu += f.cpuNs();
                    assertTrue(pass <= targetPass, "a free run overshot: " + pass + " > " + targetPass);
                    long[] between = loop.at(pass).clone();
                    between[X86Regs.RIP] += 3; // stopped somewhere in the loop's body
                    move = m.observe(new PreemptionMatcher.Observation(between, 42, cpu, false));
                }
                case PreemptionMatcher.Trap t -> {
                    // The hits that measure come before a free run, never as the last ones before the point.
                    lastTrapMeasured = t.measuring();
                    pass++;
                    cpu += 10;
                    move = m.observe(new PreemptionMatcher.Observation(loop.at(pass), 42, cpu, true));
                }
                case PreemptionMatcher.GiveUp g -> throw new AssertionError(g.reason());
            }
        }
        throw new AssertionError("no match in 200000 stops");
    }

    private static int run(long target, double perNs, long recordedRunNs) {
        return run(PreemptionMatcherTest::regs, target, perNs, recordedRunNs);
    }

    @Test
    void aCountingLoopIsReachedInFewStopsNotOnePerTurn() {
        int stops = run(10_963_653, 1.17, 6_961_564); // the racy counter's first preemption, as recorded
        // Free runs cover all but the last ~2 x MIN_FREE_NS of CPU time (the timer's precision), trapped turn by turn.
        long trappedAtMost = (long) (2 * PreemptionMatcher.MIN_FREE_NS * 1.17) + 1_000;
        assertTrue(stops < trappedAtMost, "stops: " + stops + " for 10963653 turns");
    }

    /**
     * xz's match finder, as a replay saw it: rsi (the input position) moves by one every 13 passes,
     * r11 counts an inner loop down from 0x2f, rbx wanders; the point lies 1.5 million passes on.
     */
    private static long[] nested(long pass) {
        long[] r = new long[X86Regs.COUNT];
        r[X86Regs.RIP] = RIP;
        r[X86Regs.RSP] = 0x7ffffffde000L;
        long outer = pass / 13;
        r[X86Regs.RSI] = 0x80e7c4L + outer;
        r[X86Regs.R11] = 0x2f - pass % 13;
        r[5] = 0x7fffec000000L + (pass * 0x9E3779B97F4A7C15L >>> 44); // rbx: a pointer that wanders
        return r;
    }

    @Test
    void aNestedLoopIsReachedByItsOuterIndexNotItsInnerCounter() {
        long target = 13 * 114_355 + 5;
        int stops = run(PreemptionMatcherTest::nested, target, 0.1, 25_000_000);
        assertTrue(stops < 30_000, "stops: " + stops + " for " + target + " passes");
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
    void passingEveryMeasuresTargetGivesUp() {
        PreemptionMatcher m = new PreemptionMatcher(new RunTarget(regs(100), 42, 10_000, "event 7"));
        m.begin(at(0, 0, false));
        m.observe(at(10, 10, true));
        m.observe(at(11, 20, true));
        m.observe(at(12, 30, true)); // counting by one: 88 hits left
        assertInstanceOf(PreemptionMatcher.Trap.class, m.observe(at(101, 40, true)), "past it, by a jump");
        PreemptionMatcher.Move last = null;
        for (long i = 0; i <= PreemptionMatcher.HITS_AFTER_PAST; i++) last = m.observe(at(102 + i, 50 + i, true));
        assertInstanceOf(PreemptionMatcher.GiveUp.class, last);
    }

    @Test
    void anInnerCounterThatPassesItsValueIsDroppedNotTheEnd() {
        // rdx counts up to the target's value and past it; rax, the outer index, is still short of it.
        long[] target = regs(0);
        target[X86Regs.RDX] = 5;
        target[X86Regs.RAX] = 1_000;
        PreemptionMatcher m = new PreemptionMatcher(new RunTarget(target, 42, 10_000, "event 7"));
        m.begin(at(0, 0, false));
        for (int pass = 1; pass < 50_000; pass++) {
            long[] r = regs(0);
            r[X86Regs.RDX] = pass % 10;
            r[X86Regs.RAX] = pass / 10;
            PreemptionMatcher.Move move = m.observe(new PreemptionMatcher.Observation(r, 42, pass * 10L, true));
            assertInstanceOf(PreemptionMatcher.Trap.class, move, "pass " + pass);
            if (pass / 10 == 999) break;
        }
    }
}
