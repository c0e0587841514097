package dev.deja.formats;

import java.nio.file.Path;

/** The path exists (or not) but is not a deja recording: no metadata, wrong magic, an empty directory. */
public class NotARecordingException extends RecordingException {

    private final Path path;

    public NotARecordingException(Path path, String why) {
        super(path + " is not a deja recording: " + why);
        this.path = path;
    }

    public Path path() {
        return path;
    }
}
