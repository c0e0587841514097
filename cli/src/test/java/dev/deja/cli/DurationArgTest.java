package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationArgTest {

    @Test
    void unitsAndBareSeconds() {
        assertEquals(Duration.ofMillis(500), DurationArg.parse("500ms"));
        assertEquals(Duration.ofSeconds(30), DurationArg.parse("30s"));
        assertEquals(Duration.ofSeconds(30), DurationArg.parse("30"));
        assertEquals(Duration.ofMinutes(5), DurationArg.parse("5m"));
        assertEquals(Duration.ofHours(2), DurationArg.parse("2h"));
        assertEquals(Duration.ofSeconds(7), DurationArg.parse(" 7s "));
    }

    @Test
    void nonsenseZeroAndNegativeAreRefusedWithTheText() {
        for (String bad : new String[] {"", "s", "abc", "30x", "-5s", "1.5s", "0", "0ms", "5 s", "1m30s", "9999999999s"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DurationArg.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void formatReadsBack() {
        for (String text : new String[] {"500ms", "1500ms", "30s", "90s", "5m", "2h", "61m"}) {
            Duration d = DurationArg.parse(text);
            assertEquals(text, DurationArg.format(d));
            assertEquals(d, DurationArg.parse(DurationArg.format(d)));
        }
    }

    @Test
    void aHuntsRunsUseConsecutiveSeedsFromThePrintedOne() {
        assertEquals(42, RecordCommand.runSeed(42, 1));
        assertEquals(58, RecordCommand.runSeed(42, 17));
    }
}
