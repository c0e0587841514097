package dev.deja.replayer.diff;

import java.util.HashMap;
import java.util.Map;

/**
 * The correspondence of process and thread ids between run A and run B, built from the matched
 * threads: ids differ between two runs, and a call that names a process (kill, wait4, the result of
 * clone or getpid) is the same call when it names the corresponding one.
 */
final class IdMap {

    /** How two ids relate. */
    enum Match {
        /** The same id (0, -1, other non-positive values) or corresponding ids. */
        SAME,
        /** Ids of the runs that do not correspond (another child, another thread). */
        OTHER,
        /** At least one id from outside the recording (deja's pid as the parent, a foreign process). */
        FOREIGN
    }

    private final Map<Integer, Integer> aToB = new HashMap<>();
    private final Map<Integer, Integer> bToA = new HashMap<>();

    void put(int a, int b) {
        if (a > 0 && b > 0) {
            aToB.putIfAbsent(a, b);
            bToA.putIfAbsent(b, a);
        }
    }

    Match match(long a, long b) {
        // Non-positive values are not ids of a task: 0 (self, any in the group), -1 (any child), -pgid.
        if (a <= 0 || b <= 0) return a == b ? Match.SAME : Match.OTHER;
        Integer mapped = aToB.get((int) a);
        if (mapped != null) return mapped == b ? Match.SAME : (bToA.containsKey((int) b) ? Match.OTHER : Match.FOREIGN);
        if (bToA.containsKey((int) b)) return Match.FOREIGN;
        return a == b ? Match.SAME : Match.FOREIGN;
    }
}
