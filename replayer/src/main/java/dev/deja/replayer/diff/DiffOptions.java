package dev.deja.replayer.diff;

/**
 * What a diff reports.
 *
 * @param context rows of the alignment shown before and after each difference
 * @param all     every difference, not only the first of each thread
 * @param data    also the pure data differences (clock values, random bytes, stat fields, ...), shown first
 */
public record DiffOptions(int context, boolean all, boolean data) {

    /** Three rows of context, the first control-flow difference of each thread, no data differences. */
    public static final DiffOptions DEFAULT = new DiffOptions(3, false, false);

    public DiffOptions {
        if (context < 0) throw new IllegalArgumentException("context must not be negative: " + context);
    }
}
