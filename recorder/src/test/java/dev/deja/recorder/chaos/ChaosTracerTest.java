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
    void chaosDecidesAndOrdersThreads() {
        ChaosTracer t = new ChaosTracer(NOTHING, 1, List.of(0));
        assertTrue(t.decides());
        assertTrue(t.ordersThreads());
    }

    @Test
    void noCpuIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ChaosTracer(NOTHING, 1, List.of()));
    }
}
