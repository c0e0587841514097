package dev.deja.replayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** DEJA_REPLAY_IN_ORDER: unset, empty or 0 lets processes go ahead side by side; 1 keeps the recorded order; anything else is refused. */
class InOrderSettingTest {
    @Test
    void sideBySideUnlessTheOrderIsAskedFor() {
        assertTrue(Replayer.inParallelWanted(null));
        assertTrue(Replayer.inParallelWanted(""));
        assertTrue(Replayer.inParallelWanted("0"));
        assertFalse(Replayer.inParallelWanted("1"));
    }

    @Test
    void anythingElseIsRefusedWithTheVariableNamed() {
        for (String bad : new String[] {"2", "yes", "true", " 1", "1 ", "-1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Replayer.inParallelWanted(bad));
            assertEquals("DEJA_REPLAY_IN_ORDER=" + bad + ": expected 1 (every step in the recorded order) or 0", e.getMessage());
        }
    }
}
