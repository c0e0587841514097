package dev.deja.device.syscall;

import java.util.HashMap;
import java.util.Map;

/**
 * A view of a thread's memory that reads each page once, for one capture of many small pieces that lie
 * together (an array of string pointers and its strings). A page read short (its end unmapped, or the
 * thread gone) keeps what it got; reads past it come back short as from the memory itself.
 */
final class PageCachedMemory implements TraceeMemory {
    private static final int PAGE = 4096;
    private final TraceeMemory memory;
    private final Map<Long, byte[]> pages = new HashMap<>();

    PageCachedMemory(TraceeMemory memory) {
        this.memory = memory;
    }

    @Override
    public int read(long address, byte[] dst, int off, int len) {
        int done = 0;
        while (done < len) {
            long at = address + done;
            long page = at & -PAGE;
            byte[] bytes = pages.computeIfAbsent(page, this::load);
            int from = (int) (at - page);
            int n = Math.min(len - done, bytes.length - from);
            if (n <= 0) break;
            System.arraycopy(bytes, from, dst, off + done, n);
            done += n;
            if (bytes.length < PAGE) break; // the page was read short: nothing more is readable after it
        }
        return done;
    }

    private byte[] load(long page) {
        byte[] b = new byte[PAGE];
        int got = memory.read(page, b, 0, PAGE);
        return got >= PAGE ? b : java.util.Arrays.copyOf(b, Math.max(got, 0));
    }
}
