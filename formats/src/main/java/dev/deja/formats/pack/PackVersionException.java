package dev.deja.formats.pack;

import dev.deja.formats.RecordingException;

import java.nio.file.Path;

/** The pack's format version is outside the range this deja reads. */
public final class PackVersionException extends RecordingException {

    private final int found;

    public PackVersionException(Path file, int found) {
        super(file + ": pack format version " + Integer.toUnsignedString(found) + " is too "
                + (found > PackFormat.CURRENT_VERSION || found < 0 ? "new" : "old") + " for this deja, which reads versions "
                + PackFormat.OLDEST_READABLE_VERSION + " to " + PackFormat.CURRENT_VERSION
                + (found > PackFormat.CURRENT_VERSION || found < 0 ? " (upgrade deja to read it)" : " (use an older deja to read it)"));
        this.found = found;
    }

    public int found() {
        return found;
    }
}
