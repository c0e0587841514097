package dev.deja.device.syscall;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Reads by page: the same bytes as the memory gives, each page read once, a short page ends a read there. */
class PageCachedMemoryTest {
    /** Readable from 0x10000 to 0x12800 (the next page unmapped), byte i = i * 7. */
    private static final long START = 0x10000;
    private static final long END = 0x12800;
    private int reads;

    private final TraceeMemory memory = (address, dst, off, len) -> {
        reads++;
        int n = 0;
        for (long a = address; n < len && a >= START && a < END; a++, n++) dst[off + n] = (byte) (a * 7);
        return n;
    };

    private static byte[] expected(long address, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) b[i] = (byte) ((address + i) * 7);
        return b;
    }

    @Test
    void smallReadsAcrossPagesReadEachPageOnce() {
        PageCachedMemory cached = new PageCachedMemory(memory);
        for (long a = 0x10ff0; a < 0x11020; a += 8) {
            byte[] b = new byte[8];
            assertEquals(8, cached.read(a, b, 0, 8));
            assertArrayEquals(expected(a, 8), b);
        }
        assertEquals(2, reads, "pages 0x10000 and 0x11000");
    }

    @Test
    void aReadStopsWhereThePageStopsBeingReadable() {
        PageCachedMemory cached = new PageCachedMemory(memory);
        byte[] b = new byte[0x1000];
        assertEquals(0x12800 - 0x12400, cached.read(0x12400, b, 0, b.length), "up to the end of what is mapped");
        assertArrayEquals(expected(0x12400, 0x400), Arrays.copyOf(b, 0x400));
        assertEquals(0, cached.read(0x13000, b, 0, 8));
        byte[] across = new byte[0x100];
        assertEquals(0x100, cached.read(0x11f80, across, 0, 0x100), "two readable pages");
        assertArrayEquals(expected(0x11f80, 0x100), across);
    }
}
