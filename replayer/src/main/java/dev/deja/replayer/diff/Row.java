package dev.deja.replayer.diff;

import dev.deja.formats.event.Event;

/**
 * One row of a thread's alignment: an event of run A and the event of run B it pairs with; one of
 * them is null when only one run has the event.
 */
public record Row(Event a, Event b) {

    public Row {
        if (a == null && b == null) throw new IllegalArgumentException("a row holds at least one event");
    }

    public boolean onlyA() {
        return b == null;
    }

    public boolean onlyB() {
        return a == null;
    }
}
