package dev.deja.replayer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The boxing-free sort behind replay's index, against Arrays.sort, on random, sorted and nearly sorted input. */
class IntSortTest {

    @Test
    void sortsAsArraysSortDoes() {
        Random rnd = new Random(16);
        for (int n : new int[] {0, 1, 2, 23, 24, 25, 100, 1000, 10_007}) {
            for (int shape = 0; shape < 3; shape++) {
                long[] keys = new long[n];
                for (int i = 0; i < n; i++) {
                    keys[i] = switch (shape) {
                        case 0 -> rnd.nextInt(50);                   // many ties
                        case 1 -> i;                                 // sorted
                        default -> i + (rnd.nextInt(10) == 0 ? -rnd.nextInt(40) : 0); // nearly sorted
                    };
                }
                Integer[] want = new Integer[n];
                for (int i = 0; i < n; i++) want[i] = i;
                Arrays.sort(want, (a, b) -> keys[a] != keys[b] ? Long.compare(keys[a], keys[b]) : Integer.compare(a, b));
                int[] got = new int[n];
                for (int i = 0; i < n; i++) got[i] = i;
                IntSort.sort(got, (a, b) -> keys[a] != keys[b] ? Long.compare(keys[a], keys[b]) : Integer.compare(a, b));
                assertArrayEquals(Arrays.stream(want).mapToInt(Integer::intValue).toArray(), got, "n=" + n + " shape=" + shape);
            }
        }
    }
}
