package dev.deja.replayer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    /** The same sort in mapped files, as replay's index of a long recording makes it. */
    @Test
    void sortsInMappedFiles(@TempDir Path dir) throws Exception {
        Random rnd = new Random(6);
        int n = 50_003;
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) keys[i] = i + (rnd.nextInt(10) == 0 ? -rnd.nextInt(400) : 0);
        Integer[] want = new Integer[n];
        for (int i = 0; i < n; i++) want[i] = i;
        Arrays.sort(want, (a, b) -> keys[a] != keys[b] ? Long.compare(keys[a], keys[b]) : Integer.compare(a, b));
        try (IndexMemory memory = IndexMemory.in(dir, 0)) {
            IndexMemory.Ints got = memory.ints(n);
            for (int i = 0; i < n; i++) got.set(i, i);
            IntSort.sort(got, n, memory.ints((n + 1) / 2), (a, b) -> keys[a] != keys[b] ? Long.compare(keys[a], keys[b]) : Integer.compare(a, b),
                    memory::tick);
            assertEquals(2, memory.mappedArrays());
            for (int i = 0; i < n; i++) assertEquals(want[i], got.get(i), "element " + i);
        }
    }
}
