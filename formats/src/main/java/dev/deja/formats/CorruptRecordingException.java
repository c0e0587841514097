package dev.deja.formats;

import java.nio.file.Path;

/**
 * A recording is damaged: a checksum mismatch, a truncated file, a blob whose content does not
 * match its hash, metadata that does not parse.
 */
public class CorruptRecordingException extends RecordingException {

    private final Path file;
    private final long entryIndex;
    private final long offset;

    /**
     * @param file       the damaged file
     * @param entryIndex the journal entry index (0-based), or -1 when not about an entry
     * @param offset     the byte (or, for metadata, character) offset in the file, or -1 when unknown
     * @param what       what was expected and what was found
     */
    public CorruptRecordingException(Path file, long entryIndex, long offset, String what) {
        this(file, entryIndex, offset, what, null);
    }

    public CorruptRecordingException(Path file, long entryIndex, long offset, String what, Throwable cause) {
        super(format(file, entryIndex, offset, what), cause);
        this.file = file;
        this.entryIndex = entryIndex;
        this.offset = offset;
    }

    private static String format(Path file, long entryIndex, long offset, String what) {
        StringBuilder sb = new StringBuilder("corrupt recording: ").append(file);
        if (entryIndex >= 0) sb.append(", entry ").append(entryIndex);
        if (offset >= 0) sb.append(", offset ").append(offset);
        return sb.append(": ").append(what).toString();
    }

    public Path file() {
        return file;
    }

    /** The journal entry index, or -1. */
    public long entryIndex() {
        return entryIndex;
    }

    /** The byte offset in {@link #file()}, or -1. */
    public long offset() {
        return offset;
    }
}
