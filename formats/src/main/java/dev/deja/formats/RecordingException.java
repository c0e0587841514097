package dev.deja.formats;

/** A recording could not be written or read. The message names the file and, where it applies, the entry and offset. */
public class RecordingException extends Exception {

    public RecordingException(String message) {
        super(message);
    }

    public RecordingException(String message, Throwable cause) {
        super(message, cause);
    }
}
