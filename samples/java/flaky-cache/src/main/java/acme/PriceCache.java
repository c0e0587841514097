package acme;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Prices read from a file of "item price" lines, each item's price read from the file once and cached. */
public class PriceCache {
    private final Path file;
    private final Map<String, Integer> cache = new HashMap<>();
    private final AtomicInteger loads = new AtomicInteger();

    public PriceCache(Path file) {
        this.file = file;
    }

    public int price(String item) {
        Integer price = cache.get(item);
        if (price == null) {
            price = load(item);
            cache.put(item, price);
        }
        return price;
    }

    /** How many times the file was read. */
    public int loads() {
        return loads.get();
    }

    private int load(String item) {
        loads.incrementAndGet();
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.split(" ");
                if (f[0].equals(item)) return Integer.parseInt(f[1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalArgumentException("no price for " + item);
    }
}
