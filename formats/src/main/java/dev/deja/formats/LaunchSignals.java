package dev.deja.formats;

/**
 * The signal state the recorded program started with (bit N-1 stands for signal N, as in
 * /proc/PID/status): a shell started in the background begins with SIGINT and SIGQUIT ignored,
 * and a program decides on that (dash does not even install its handlers then). Replay starts the
 * program with the same state, or it would take a recorded SIGINT differently.
 *
 * @param blocked the signal mask (SigBlk)
 * @param ignored the signals whose action was SIG_IGN (SigIgn); all others had their default action
 */
public record LaunchSignals(long blocked, long ignored) {

    /** 16 hex digits, as /proc/PID/status shows a signal set. */
    public static String hex(long set) {
        return String.format("%016x", set);
    }

    /** The inverse of {@link #hex}. */
    public static long parseHex(String hex) {
        if (hex.isEmpty() || hex.length() > 16) throw new NumberFormatException("not a 64-bit signal set: '" + hex + "'");
        return Long.parseUnsignedLong(hex, 16);
    }
}
