package dev.deja.cli.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class CheckpointPolicyTest {
    private static final CheckpointPolicy P = new CheckpointPolicy(100, 1000, 3, 1000);

    @Test
    void dueOnlyAfterTheIntervalAndFarEnoughFromTheNearestCheckpoint() {
        assertFalse(P.due(5000, 99, -1), "before the interval");
        assertTrue(P.due(5000, 100, -1));
        assertTrue(P.due(5000, 100, 4000));
        assertFalse(P.due(5000, 100, 4001), "999 events after one");
        // Without any checkpoint the start counts as one: a short recording gets none.
        assertFalse(P.due(999, 1_000_000, -1));
        assertTrue(P.due(1000, 1_000_000, -1));
        assertFalse(CheckpointPolicy.OFF.due(1_000_000, Long.MAX_VALUE, -1));
    }

    @Test
    void theEnvironmentSetsTheIntervalOrTurnsThemOff() {
        assertEquals(CheckpointPolicy.DEFAULT, CheckpointPolicy.fromEnvironment(null));
        assertEquals(CheckpointPolicy.DEFAULT, CheckpointPolicy.fromEnvironment(" "));
        assertEquals(CheckpointPolicy.DEFAULT, CheckpointPolicy.fromEnvironment("soon"));
        assertEquals(CheckpointPolicy.OFF, CheckpointPolicy.fromEnvironment("off"));
        assertEquals(CheckpointPolicy.OFF, CheckpointPolicy.fromEnvironment("0"));
        assertFalse(CheckpointPolicy.OFF.enabled());
        assertEquals(250_000_000L, CheckpointPolicy.fromEnvironment("250").intervalNs());
        assertTrue(CheckpointPolicy.fromEnvironment("250").enabled());
    }

    private static CheckpointPolicy.Mark auto(int n, long seq) {
        return new CheckpointPolicy.Mark(n, seq, true, 10);
    }

    @Test
    void withinBoundsNothingIsDropped() {
        assertEquals(OptionalInt.empty(), P.toDrop(List.of()));
        assertEquals(OptionalInt.empty(), P.toDrop(List.of(auto(1, 1000), auto(2, 2000), auto(3, 3000))));
    }

    @Test
    void pastTheCountTheOneBetweenTheClosestNeighboursGoes() {
        // 2 sits between 1000 and 2500 (gap 1500), 3 between 2000 and 9000, 1 between 0 and 2000.
        assertEquals(OptionalInt.of(2), P.toDrop(List.of(auto(1, 1000), auto(2, 2000), auto(3, 2500), auto(4, 9000))));
        // Never the newest, nor one the user took.
        List<CheckpointPolicy.Mark> marks = List.of(auto(1, 1000), new CheckpointPolicy.Mark(2, 1100, false, 10),
                auto(3, 1200), auto(4, 1300), auto(5, 5000));
        assertEquals(OptionalInt.of(3), P.toDrop(marks));
        assertEquals(OptionalInt.empty(), P.toDrop(List.of(new CheckpointPolicy.Mark(1, 1, false, 10),
                new CheckpointPolicy.Mark(2, 2, false, 10), new CheckpointPolicy.Mark(3, 3, false, 10),
                new CheckpointPolicy.Mark(4, 4, false, 10))), "only the user's: none to drop");
    }

    @Test
    void pastTheMemoryBoundTheyAreThinnedUntilWithin() {
        List<CheckpointPolicy.Mark> marks = new ArrayList<>(List.of(new CheckpointPolicy.Mark(1, 1000, true, 600),
                new CheckpointPolicy.Mark(2, 3000, true, 600)));
        assertEquals(OptionalInt.of(1), P.toDrop(marks));
        marks.removeFirst();
        assertEquals(OptionalInt.empty(), P.toDrop(marks), "one of 600 bytes fits in 1000");
        // Unknown sizes (-1) count as nothing.
        assertEquals(OptionalInt.empty(), P.toDrop(List.of(new CheckpointPolicy.Mark(1, 1, true, -1))));
    }

    @Test
    void thinningKeepsTheSpreadEven() {
        CheckpointPolicy p = new CheckpointPolicy(1, 1, 8, Long.MAX_VALUE);
        List<CheckpointPolicy.Mark> marks = new ArrayList<>();
        for (int i = 1; i <= 64; i++) {
            marks.add(auto(i, i * 1000L));
            OptionalInt drop;
            while ((drop = p.toDrop(marks)).isPresent()) {
                int n = drop.getAsInt();
                marks.removeIf(m -> m.number() == n);
            }
        }
        assertEquals(8, marks.size());
        assertEquals(64, marks.getLast().number(), "the newest stays");
        long widest = 0;
        long prev = 0;
        for (CheckpointPolicy.Mark m : marks) {
            widest = Math.max(widest, m.seq() - prev);
            prev = m.seq();
        }
        // Eight left over 64000 events: no gap wider than a quarter of the run.
        assertTrue(widest <= 16_000, marks.toString());
    }
}
