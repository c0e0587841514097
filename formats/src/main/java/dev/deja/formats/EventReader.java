package dev.deja.formats;

import dev.deja.formats.event.Event;

/** Events of a recording in journal order. Not thread-safe. */
public interface EventReader extends AutoCloseable {

    /**
     * The next event in journal order, or null at the end. A torn last entry of an incomplete
     * recording ends the stream quietly; corruption elsewhere throws.
     */
    Event next() throws RecordingException;

    /**
     * As {@link #next()}, the event's memory blocks left out (a syscall's inputs and outputs empty): what an
     * index of the journal needs, for a fraction of the work (no decompression). The entry is checked as by
     * {@link #next()} (its checksum, its structure, blocks' lengths, the blobs of blocks kept in the blob store).
     */
    default Event nextWithoutData() throws RecordingException {
        return next();
    }

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
