package dev.deja.formats;

import dev.deja.formats.event.Event;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** 100k events: memory stays flat while writing and reading; prints size and rate figures (not asserted). */
class StreamingTest {

    private static long usedHeap() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    void hundredThousandEventsWithFlatHeap(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        Random rnd = new Random(5);
        byte[] page = new byte[4096];
        long heapAt10k = 0;
        int n = 100_000;
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            for (int i = 1; i <= n; i++) {
                Event e;
                if (i % 10 == 0) {
                    rnd.nextBytes(page);
                    e = new SyscallEvent(i, 7, 7, i, i + 1, 0, new long[]{3, 0x7f00_0000_0000L, 4096, 0, 0, 0}, List.of(),
                            4096, List.of(new MemoryBlock(1, 0x7f00_0000_0000L, page)), 0);
                } else {
                    e = RandomEvents.getppid(i);
                }
                w.append(e);
                if (i == 10_000) heapAt10k = usedHeap();
            }
            long heapAt100k = usedHeap();
            System.out.printf("writer heap after 10k events: %d KiB, after 100k: %d KiB%n", heapAt10k >> 10, heapAt100k >> 10);
            assertTrue(heapAt100k - heapAt10k < 32 << 20, "heap grew by " + (heapAt100k - heapAt10k));
            w.finish(RandomEvents.summary(n));
        }
        try (Recording r = Recording.open(dir); EventReader er = r.events()) {
            long count = 0;
            long heapAt10kRead = 0;
            for (Event e; (e = er.next()) != null; ) {
                assertEquals(++count, e.seq());
                if (count == 10_000) heapAt10kRead = usedHeap();
            }
            long heapEnd = usedHeap();
            assertEquals(n, count);
            System.out.printf("reader heap after 10k events: %d KiB, after 100k: %d KiB; recording %d bytes%n",
                    heapAt10kRead >> 10, heapEnd >> 10, r.sizeBytes());
            assertTrue(heapEnd - heapAt10kRead < 32 << 20, "heap grew by " + (heapEnd - heapAt10kRead));
        }
    }

    @Test
    void getppidFigures(@TempDir Path tmp) throws Exception {
        int n = 200_000;
        for (int round = 0; round < 2; round++) {      // the first round warms up the JIT
            Path dir = tmp.resolve("rec" + round);
            long t0 = System.nanoTime();
            try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
                for (int i = 1; i <= n; i++) w.append(RandomEvents.getppid(i));
                long t1 = System.nanoTime();
                w.finish(RandomEvents.summary(n));
                try (Recording r = Recording.open(dir)) {
                    long empty;
                    Path d0 = tmp.resolve("empty" + round);
                    try (RecordingWriter e = RecordingWriter.create(d0, RandomEvents.header())) {
                        e.append(RandomEvents.getppid(1));
                        e.finish(RandomEvents.summary(1));
                    }
                    try (Recording r0 = Recording.open(d0)) {
                        empty = r0.sizeBytes();
                    }
                    long t2 = System.nanoTime();
                    try (EventReader er = r.events()) {
                        while (er.next() != null) { }
                    }
                    long t3 = System.nanoTime();
                    System.out.printf("round %d: getppid event %.1f bytes each on disk; append %.0f events/s (%.2f us each);"
                                    + " read %.0f events/s%n", round, (r.sizeBytes() - empty) / (double) (n - 1),
                            n / ((t1 - t0) / 1e9), (t1 - t0) / 1e3 / n, n / ((t3 - t2) / 1e9));
                }
            }
        }
    }
}
