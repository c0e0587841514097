package acme;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PriceCacheTest {
    @TempDir
    Path dir;

    private PriceCache cache() throws Exception {
        return new PriceCache(Files.writeString(dir.resolve("prices.txt"), "apple 3\npear 5\nplum 7\n"));
    }

    @Test
    void readsPrices() throws Exception {
        PriceCache cache = cache();
        assertEquals(3, cache.price("apple"));
        assertEquals(5, cache.price("pear"));
        assertEquals(3, cache.price("apple"));
        assertEquals(2, cache.loads());
    }

    @Test
    void twoReadersLoadOnce() throws Exception {
        PriceCache cache = cache();
        cache.price("pear"); // warm up: the file code is loaded before the race
        CyclicBarrier both = new CyclicBarrier(2); // the two readers ask at the same moment
        int[] seen = new int[2];
        Thread[] readers = new Thread[2];
        for (int i = 0; i < 2; i++) {
            int n = i;
            readers[i] = new Thread(() -> {
                try {
                    both.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                seen[n] = cache.price("apple");
            }, "reader-" + (i + 1));
            readers[i].start();
        }
        for (Thread t : readers) t.join();
        assertEquals(3, seen[0]);
        assertEquals(3, seen[1]);
        assertEquals(2, cache.loads(), "prices.txt read once for pear and once for apple");
    }
}
