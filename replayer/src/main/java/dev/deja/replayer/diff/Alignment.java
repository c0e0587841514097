package dev.deja.replayer.diff;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Aligns two sequences of keys (one thread's events in run A and in run B) so that equal stretches
 * pair up and the calls one run made and the other did not stand out.
 *
 * <p>The walk is greedy and bounded: while the next keys are equal they pair; at a mismatch it looks
 * for the nearest point where both sequences agree again, trying every split of {@code d} skipped
 * keys between A and B for d = 1, 2, ... up to {@code window}, and accepts a point only when the
 * {@code confirm} keys after it agree as well (or both sequences end), so that one common call does
 * not re-synchronise two runs that went different ways. Skipping {@code i} keys of A and {@code j} of B
 * costs i+j; among equal costs the most balanced split wins (a substitution reads better than a
 * deletion and an insertion). When no point within the window agrees, the rest of both sequences is
 * one block: the runs parted for good. The cost is O(n + m) when the runs agree and O(window²·confirm)
 * per mismatch.
 */
public final class Alignment {

    /** One step of an alignment: {@code a} and/or {@code b} are indexes into the sequences, -1 when absent. */
    public record Step(int a, int b) {
        public boolean paired() {
            return a >= 0 && b >= 0;
        }
    }

    private Alignment() {
    }

    /**
     * The alignment of {@code a} and {@code b}: every index of each appears exactly once, in order.
     * Paired steps hold equal keys; unpaired steps come in blocks, A's indexes before B's.
     */
    public static <K> List<Step> align(List<K> a, List<K> b, int window, int confirm) {
        if (window < 1) throw new IllegalArgumentException("window must be at least 1: " + window);
        if (confirm < 0) throw new IllegalArgumentException("confirm must not be negative: " + confirm);
        List<Step> out = new ArrayList<>(Math.max(a.size(), b.size()));
        int i = 0;
        int j = 0;
        while (i < a.size() && j < b.size()) {
            if (Objects.equals(a.get(i), b.get(j))) {
                out.add(new Step(i++, j++));
                continue;
            }
            int[] skip = resync(a, b, i, j, window, confirm);
            int toI = skip == null ? a.size() : i + skip[0];
            int toJ = skip == null ? b.size() : j + skip[1];
            while (i < toI) out.add(new Step(i++, -1));
            while (j < toJ) out.add(new Step(-1, j++));
        }
        while (i < a.size()) out.add(new Step(i++, -1));
        while (j < b.size()) out.add(new Step(-1, j++));
        return out;
    }

    /** The cheapest (skipA, skipB) after which the sequences agree and stay agreeing, or null. */
    private static <K> int[] resync(List<K> a, List<K> b, int i, int j, int window, int confirm) {
        for (int d = 1; d <= window; d++) {
            // Most balanced split first: d/2 from each side, then outwards.
            for (int t = 0; t <= d; t++) {
                int skipA = d / 2 + (t % 2 == 1 ? (t + 1) / 2 : -(t / 2));
                if (skipA < 0 || skipA > d) continue;
                int skipB = d - skipA;
                if (agrees(a, b, i + skipA, j + skipB, confirm)) return new int[] {skipA, skipB};
            }
        }
        return null;
    }

    /** True when a[i..] and b[j..] agree on their next confirm+1 keys, or run out together. */
    private static <K> boolean agrees(List<K> a, List<K> b, int i, int j, int confirm) {
        if (i > a.size() || j > b.size()) return false;
        for (int k = 0; k <= confirm; k++) {
            boolean endA = i + k >= a.size();
            boolean endB = j + k >= b.size();
            if (endA || endB) return endA && endB;
            if (!Objects.equals(a.get(i + k), b.get(j + k))) return false;
        }
        return true;
    }
}
