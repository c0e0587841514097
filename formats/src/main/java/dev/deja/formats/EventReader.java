package dev.deja.formats;

import dev.deja.formats.event.Event;

/** Events of a recording in journal order. Not thread-safe. */
public interface EventReader extends AutoCloseable {

    /**
     * The next event in journal order, or null at the end. A torn last entry of an incomplete
     * recording ends the stream quietly; corruption elsewhere throws.
     */
    Event next() throws RecordingException;

    /** Index of the next entry (0-based; equals the number of events returned so far). */
    long position();

    @Override
    void close();
}
