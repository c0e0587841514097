package dev.deja.cli;

/**
 * deja's exit statuses. {@code record} exits with the program's own status (128+N when a signal
 * N killed it); these are the statuses deja uses for itself (documented in docs/commands.md).
 */
public final class ExitCodes {
    /** The command ran and deja's own part succeeded. */
    public static final int OK = 0;
    /** {@code diff}: the two runs differ (in control flow, or in data with --data), as diff(1) says it. */
    public static final int DIFFERENT = 1;
    /**
     * {@code replay}: the replaying program left the recording (another call, other arguments or input
     * bytes, another result); deja stopped it at the first divergence and printed where.
     */
    public static final int DIVERGENCE = 124;
    /**
     * deja itself failed: bad usage, an unreadable or corrupt recording, the device could not trace, the
     * disk filled up while recording (the events written so far are kept).
     */
    public static final int DEJA_FAILURE = 125;
    /** The program exists but cannot be executed (as a shell reports it). */
    public static final int NOT_EXECUTABLE = 126;
    /** The program was not found (as a shell reports it). */
    public static final int NOT_FOUND = 127;

    private ExitCodes() {
    }
}
