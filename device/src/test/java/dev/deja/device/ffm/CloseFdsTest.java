package dev.deja.device.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class CloseFdsTest {

    @Test
    void keepsTheGivenDescriptorsAboveTheStandardOnesSortedOnce() {
        CloseFds c = CloseFds.allBut(List.of(9, 1, 7, 9, 3));
        assertEquals(List.of(3, 7, 9), c.kept());
        assertEquals(9, c.highestKept());
    }

    @Test
    void withNothingGivenOnlyTheStandardOnesStay() {
        assertEquals(List.of(), CloseFds.allButStdio().kept());
        assertEquals(2, CloseFds.allButStdio().highestKept());
        assertEquals(2, CloseFds.allBut(List.of(0, 1, 2)).highestKept());
    }

    @Test
    void refusesANegativeDescriptor() {
        assertThrows(IllegalArgumentException.class, () -> CloseFds.allBut(List.of(-1)));
    }
}
