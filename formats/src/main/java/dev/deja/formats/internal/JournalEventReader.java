package dev.deja.formats.internal;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.EventReader;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.Event;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Reads journal entries with a Chronicle tailer, checks each entry's framing and CRC32C, and
 * decodes it. A bad entry that is the last one of an incomplete recording is a torn write and ends
 * the stream; anywhere else it is corruption.
 */
public final class JournalEventReader implements EventReader {

    private final Path file;                // named in errors: the queue file of the recording (not a recovery copy)
    private final boolean complete;
    private final long expectedEntries;
    private final EntryCodec codec;
    private final Consumer<JournalEventReader> onClose;
    private final CRC32C crc = new CRC32C();
    private SingleChronicleQueue queue;
    private ExcerptTailer tailer;
    private byte[] payload = new byte[256];
    private long index;
    private boolean done;
    private boolean tornTail;
    /** How many entries have been read at least once, and where those runs of Chronicle indexes start. */
    private long furthest;
    private long[] runStart = new long[4];
    private long[] runIndex = new long[4];
    private int runs;
    private long lastChronicleIndex = Long.MIN_VALUE;

    /**
     * @param journalDir      the queue directory to read (the recording's, or a recovery copy of it)
     * @param file            the file to name in errors
     * @param complete        whether the metadata says the writer finished
     * @param expectedEntries the entry count the metadata records, or -1
     */
    public JournalEventReader(Path journalDir, Path file, long blockSize, boolean complete, long expectedEntries,
                              EntryCodec.BlobSource blobs, Consumer<JournalEventReader> onClose)
            throws RecordingException {
        this.file = file;
        this.complete = complete;
        this.expectedEntries = expectedEntries;
        this.codec = new EntryCodec(data -> {
            throw new IllegalStateException("the reader never stores blocks");
        }, blobs);
        this.onClose = onClose;
        try {
            queue = Journal.openForRead(journalDir, blockSize);
            tailer = queue.createTailer();
            // Replay indexes the journal on its main thread and reads events again on its tracing
            // thread: one thread at a time, which Chronicle's same-thread check cannot tell.
            tailer.singleThreadedCheckDisabled(true);
        } catch (RuntimeException | InternalError e) {
            close();
            throw new CorruptRecordingException(file, -1, -1, "Chronicle cannot open the journal: " + e, e);
        } catch (Exception e) {
            // Chronicle throws some checked exceptions undeclared: a damaged queue header is a StreamCorruptedException.
            close();
            if (e instanceof RecordingException r) throw r;
            throw new CorruptRecordingException(file, -1, 0, "the journal's header is damaged: " + e.getMessage(), e);
        }
    }

    /** True when the stream ended at a torn last entry (an incomplete recording cut mid-write). */
    public boolean endedAtTornEntry() {
        return tornTail;
    }

    @Override
    public long position() {
        return index;
    }

    @Override
    public Event next() throws RecordingException {
        return read(true);
    }

    @Override
    public Event nextWithoutData() throws RecordingException {
        return read(false);
    }

    private Event read(boolean withData) throws RecordingException {
        if (done) return null;
        if (tailer == null) throw new IllegalStateException("event reader of " + file + " is closed");
        long offset = -1;
        String problem = null;
        int len = 0;
        try {
            try (DocumentContext dc = tailer.readingDocument()) {
                if (!dc.isPresent()) {
                    done = true;
                    checkEnd();
                    return null;
                }
                Bytes<?> b = dc.wire().bytes();
                offset = b.readPosition();
                long avail = b.readRemaining();
                if (avail < EntryCodec.HEADER_SIZE) {
                    problem = "the entry has " + avail + " bytes, fewer than its " + EntryCodec.HEADER_SIZE + "-byte header";
                } else {
                    byte tag = b.readByte();
                    len = b.readInt();
                    int stored = b.readInt();
                    if (tag != EntryCodec.TAG_EVENT_V1) {
                        problem = "unknown entry tag " + tag + ", expected " + EntryCodec.TAG_EVENT_V1;
                    } else if (len != avail - EntryCodec.HEADER_SIZE) {
                        problem = "the header gives a payload of " + len + " bytes, the entry holds " + (avail - EntryCodec.HEADER_SIZE);
                    } else {
                        if (payload.length < len) payload = new byte[Math.max(len, payload.length * 2)];
                        b.read(payload, 0, len);
                        crc.reset();
                        crc.update(payload, 0, len);
                        int actual = (int) crc.getValue();
                        if (actual != stored) {
                            problem = String.format("CRC32C mismatch: the header says %08x, the payload's is %08x", stored, actual);
                        } else if (index == furthest) {
                            noteIndex(dc.index());
                        }
                    }
                }
            }
            if (problem != null) {
                if (!complete && !hasMore()) {
                    tornTail = true;
                    done = true;
                    return null;
                }
                throw new CorruptRecordingException(file, index, offset, problem);
            }
        } catch (InternalError e) {
            throw new CorruptRecordingException(file, index, offset,
                    "the journal file is shorter than its entries (truncated?): " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new CorruptRecordingException(file, index, offset, "Chronicle cannot read the entry: " + e, e);
        } catch (Exception e) {
            // an undeclared checked exception from Chronicle (a damaged header or index)
            if (e instanceof RecordingException r) throw r;
            throw new CorruptRecordingException(file, index, offset, "Chronicle cannot read the entry: " + e, e);
        }
        Event ev;
        try {
            ev = withData ? codec.decode(payload, len) : codec.decodeWithoutData(payload, len);
        } catch (EntryCodec.DecodeException e) {
            throw new CorruptRecordingException(file, index, offset, e.getMessage(), e);
        } catch (RecordingException e) {
            throw new CorruptRecordingException(file, index, offset, "a memory block kept in the blob store: " + e.getMessage(), e);
        }
        index++;
        furthest = Math.max(furthest, index);
        return ev;
    }

    /** Chronicle numbers entries consecutively within a roll cycle: one run per cycle is kept. */
    private void noteIndex(long chronicleIndex) {
        if (runs == 0 || chronicleIndex != lastChronicleIndex + 1) {
            if (runs == runStart.length) {
                runStart = Arrays.copyOf(runStart, runs * 2);
                runIndex = Arrays.copyOf(runIndex, runs * 2);
            }
            runStart[runs] = index;
            runIndex[runs] = chronicleIndex;
            runs++;
        }
        lastChronicleIndex = chronicleIndex;
    }

    @Override
    public void seek(long position) throws RecordingException {
        if (tailer == null) throw new IllegalStateException("event reader of " + file + " is closed");
        if (position == index) return;
        if (position < 0 || position >= furthest) {
            throw new IllegalArgumentException("entry " + position + " of " + file + " has not been read yet ("
                    + furthest + " have)");
        }
        if (position > index && position - index <= SKIP_FORWARD && skipTo(position)) return;
        int r = runs - 1;
        while (runStart[r] > position) r--;
        long chronicleIndex = runIndex[r] + (position - runStart[r]);
        boolean found;
        try {
            found = tailer.moveToIndex(chronicleIndex);
        } catch (RuntimeException | InternalError e) {
            throw new CorruptRecordingException(file, position, -1, "Chronicle cannot go back to the entry: " + e, e);
        }
        if (!found) {
            throw new CorruptRecordingException(file, position, -1, "the entry read before is no longer in the journal"
                    + " (Chronicle index 0x" + Long.toHexString(chronicleIndex) + ")");
        }
        index = position;
        done = false;
    }

    /**
     * Entries a seek forward passes over by their headers rather than through Chronicle's index (which finds
     * the indexed entry at or before the target, one in 64, and walks from there): a replay reading threads'
     * events in turn mostly seeks a few entries ahead.
     */
    private static final long SKIP_FORWARD = 32;

    /** Moves to entry {@code position} (ahead, read before) by passing over the entries before it; false when one is missing. */
    private boolean skipTo(long position) {
        while (index < position) {
            try (DocumentContext dc = tailer.readingDocument()) {
                if (!dc.isPresent()) return false;
            } catch (RuntimeException | InternalError e) {
                return false; // Chronicle's index finds it, or says what is wrong
            }
            index++;
        }
        done = false;
        return true;
    }

    private boolean hasMore() {
        try (DocumentContext dc = tailer.readingDocument()) {
            if (dc.isPresent()) {
                dc.rollbackOnClose();
                return true;
            }
            return false;
        }
    }

    private void checkEnd() throws CorruptRecordingException {
        if (complete && expectedEntries >= 0 && index != expectedEntries) {
            throw new CorruptRecordingException(file, index, -1, "the journal ends after " + index
                    + " entries but the metadata records " + expectedEntries + " (truncated journal?)");
        }
    }

    @Override
    public void close() {
        if (tailer != null) tailer.close();
        if (queue != null) queue.close();
        tailer = null;
        queue = null;
        if (onClose != null) onClose.accept(this);
    }
}
