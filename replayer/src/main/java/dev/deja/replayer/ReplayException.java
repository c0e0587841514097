package dev.deja.replayer;

/** A recording cannot be replayed here (another architecture, a missing blob, a call deja cannot reproduce). */
public final class ReplayException extends Exception {
    public ReplayException(String message) {
        super(message);
    }

    public ReplayException(String message, Throwable cause) {
        super(message, cause);
    }
}
