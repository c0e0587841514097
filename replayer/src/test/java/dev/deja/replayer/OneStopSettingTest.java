package dev.deja.replayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** DEJA_REPLAY_STOPS: unset, empty or 1 answers skipped calls at one stop; 2 stops twice; anything else is refused. */
class OneStopSettingTest {
    @Test
    void oneStopUnlessTwoAreAskedFor() {
        assertTrue(Replayer.oneStopWanted(null));
        assertTrue(Replayer.oneStopWanted(""));
        assertTrue(Replayer.oneStopWanted("1"));
        assertFalse(Replayer.oneStopWanted("2"));
    }

    @Test
    void anythingElseIsRefusedWithTheVariableNamed() {
        for (String bad : new String[] {"0", "3", "two", " 2", "2 ", "-1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Replayer.oneStopWanted(bad));
            assertEquals("DEJA_REPLAY_STOPS=" + bad + ": expected 1 or 2 (stops per replayed call)", e.getMessage());
        }
    }
}
