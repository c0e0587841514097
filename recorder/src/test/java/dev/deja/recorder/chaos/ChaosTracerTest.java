package dev.deja.recorder.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.Tracer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ChaosTracerTest {
    private static final Tracer NOTHING = new Tracer() {
    };

    @Test
    void pickedCpusAreOneOrTwoDistinctAllowedOnesInOrder() {
        List<Integer> allowed = List.of(0, 3, 5, 7);
        Set<Integer> counts = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) {
            List<Integer> cpus = ChaosTracer.pickCpus(new SplittableRandom(seed), allowed);
            counts.add(cpus.size());
            assertTrue(cpus.size() == 1 || cpus.size() == 2, "one or two CPUs: " + cpus);
            assertTrue(allowed.containsAll(cpus), cpus + " within " + allowed);
            assertEquals(cpus.stream().distinct().sorted().toList(), cpus, "distinct and sorted: " + cpus);
        }
        assertEquals(Set.of(1, 2), counts, "both core counts occur over 200 seeds");
    }

    @Test
    void aSingleAllowedCpuIsTheOneUsed() {
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(List.of(4), ChaosTracer.pickCpus(new SplittableRandom(seed), List.of(4)));
        }
    }

    @Test
    void theSameSeedPicksTheSameCpus() {
        List<Integer> allowed = List.of(0, 1, 2, 3, 4, 5, 6, 7);
        for (long seed = 0; seed < 50; seed++) {
            assertEquals(new ChaosTracer(NOTHING, seed, allowed).cpus(), new ChaosTracer(NOTHING, seed, allowed).cpus());
        }
    }

    @Test
    void chaosIsAPolicyOfTheDeviceSchedulerNotAnOrderOfItsOwn() {
        ChaosTracer t = new ChaosTracer(NOTHING, 1, List.of(0));
        assertTrue(t.decides());
        assertTrue(!t.ordersThreads());
        var policy = t.scheduling();
        assertTrue(policy.sliceNs() >= ChaosTracer.MIN_SLICE_NS && policy.sliceNs() <= ChaosTracer.MAX_SLICE_NS);
        // The same waiting threads: the same seed picks the same one; priorities make some pick not the first.
        Set<Integer> picked = new HashSet<>();
        for (long seed = 0; seed < 50; seed++) {
            int a = new ChaosTracer(NOTHING, seed, List.of(0)).scheduling().pick(List.of(10, 11, 12));
            int b = new ChaosTracer(NOTHING, seed, List.of(0)).scheduling().pick(List.of(10, 11, 12));
            assertEquals(a, b);
            picked.add(a);
        }
        assertEquals(Set.of(10, 11, 12), picked, "every waiting thread is picked first for some seed");
    }

    @Test
    void aThreadThatYieldsGoesBehindEveryWaitingOne() {
        for (long seed = 0; seed < 50; seed++) {
            var policy = new ChaosTracer(NOTHING, seed, List.of(0)).scheduling();
            List<Integer> others = List.of(11, 12);
            policy.pick(List.of(10, 11, 12)); // every thread has its priority
            policy.yielded(10, others);
            assertTrue(!policy.keepsTurn(10, others), "seed " + seed + ": a yielder keeps no turn");
            // Picks may give the picked thread a new priority: only the first pick after the yield is certain.
            int next = policy.pick(List.of(10, 11, 12));
            assertTrue(next != 10, "seed " + seed + ": the yielder was picked before the threads it yielded to");
        }
    }

    @Test
    void noCpuIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ChaosTracer(NOTHING, 1, List.of()));
    }
}
