package dev.deja.cli;

/** An expected failure: printed as one line "deja: message", exiting with {@link #status()}. */
final class UserError extends RuntimeException {
    private final int status;

    UserError(String message, int status) {
        super(message);
        this.status = status;
    }

    UserError(String message) {
        this(message, ExitCodes.DEJA_FAILURE);
    }

    int status() {
        return status;
    }
}
