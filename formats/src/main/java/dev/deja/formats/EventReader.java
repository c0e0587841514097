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

    /**
     * Goes back (or forward) to an entry this reader has already read once, by its position: the
     * next {@link #next()} returns it again. Replay reads the journal once to index it, then reads
     * single events again by position rather than keeping them all.
     *
     * @throws IllegalArgumentException when {@code position} is beyond the entries read so far
     */
    void seek(long position) throws RecordingException;

    @Override
    void close();
}
