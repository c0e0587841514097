package dev.deja.device.tracer;

/** A line that is not a valid protocol message; the message says what is wrong, for the tracer to read. */
public final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
