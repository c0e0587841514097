package dev.deja.cli;

import java.util.Collection;
import java.util.Optional;

/** "Did you mean": the closest known word to a mistyped one, when it is close enough to be the intended one. */
public final class Suggest {
    private Suggest() {
    }

    /**
     * The candidate nearest to {@code word} by edit distance (a swap of two neighbours counts once),
     * if at most a third of the word's letters (at least 1, at most 3) differ.
     */
    public static Optional<String> closest(String word, Collection<String> candidates) {
        int limit = Math.clamp(word.length() / 3, 1, 3);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            if (c.equals(word)) return Optional.empty();
            int d = distance(word, c);
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return bestDistance <= limit ? Optional.of(best) : Optional.empty();
    }

    /** Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one substring). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    /** The message of an unknown syscall name, with the nearest known one: "unknown syscall 'opnat' (did you mean 'openat'?)". */
    public static String syscall(dev.deja.device.tracer.UnknownSyscallException e, dev.deja.device.syscall.SyscallTable table) {
        return e.getMessage() + closest(e.name(), table.names()).map(m -> " (did you mean '" + m + "'?)").orElse("");
    }
}
