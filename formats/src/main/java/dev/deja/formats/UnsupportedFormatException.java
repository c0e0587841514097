package dev.deja.formats;

import java.nio.file.Path;

/** The recording's format version is outside the range this deja reads: too new or too old. */
public class UnsupportedFormatException extends RecordingException {

    private final Path file;
    private final int found;
    private final int oldestSupported;
    private final int newestSupported;

    public UnsupportedFormatException(Path file, int found, int oldestSupported, int newestSupported) {
        super(file + ": recording format version " + found + " is too " + (found > newestSupported ? "new" : "old")
                + " for this deja, which reads versions " + oldestSupported + " to " + newestSupported
                + (found > newestSupported ? " (upgrade deja to read it)" : " (use an older deja to read it)"));
        this.file = file;
        this.found = found;
        this.oldestSupported = oldestSupported;
        this.newestSupported = newestSupported;
    }

    public Path file() {
        return file;
    }

    public int found() {
        return found;
    }

    public int oldestSupported() {
        return oldestSupported;
    }

    public int newestSupported() {
        return newestSupported;
    }

    public boolean tooNew() {
        return found > newestSupported;
    }
}
