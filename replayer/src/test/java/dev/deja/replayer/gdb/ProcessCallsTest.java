package dev.deja.replayer.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ProcessCallsTest {
    private final ProcessCalls calls = new ProcessCalls();

    ProcessCallsTest() {
        // process 100 makes calls 1, 2, 5, 9; process 200 (its child) calls 6 and 7; 3, 4 and 8 are other events
        for (long seq : new long[] {1, 2, 5, 9}) calls.add(100, seq);
        calls.add(200, 6);
        calls.add(200, 7);
    }

    @Test
    void aCallOfTheProcessIsItsOwnTarget() {
        assertTrue(calls.isCallOf(100, 5));
        assertEquals(5, calls.nextCallOf(100, 5));
    }

    @Test
    void anotherEventLeadsToTheProcesssNextCall() {
        assertFalse(calls.isCallOf(100, 3));
        assertEquals(5, calls.nextCallOf(100, 3));
        assertEquals(9, calls.nextCallOf(100, 6)); // a call of the child: the parent's next
        assertEquals(200, calls.processOf(6));
        assertEquals(0, calls.processOf(8));
    }

    @Test
    void pastTheLastCallThereIsNone() {
        assertEquals(-1, calls.nextCallOf(100, 10));
        assertEquals(9, calls.lastCallOf(100));
        assertEquals(-1, calls.nextCallOf(300, 1));
        assertEquals(-1, calls.lastCallOf(300));
        assertEquals(-1, ProcessCalls.NONE.nextCallOf(100, 1));
    }

    @Test
    void numbersBeyondWhatABitSetHoldsAreNoTargets() {
        calls.add(100, 1L << 40);
        assertFalse(calls.isCallOf(100, 1L << 40));
        assertEquals(-1, calls.nextCallOf(100, 1L << 40));
        assertEquals(1, calls.nextCallOf(100, -5));
    }
}
