package dev.deja.device.tracer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The lines a tracer writes, each at most {@code limit} bytes: a tracer must not make deja hold an
 * unbounded line in memory (a 1.5 GiB line used to end in an OutOfMemoryError). A longer line is
 * reported as {@link TooLong} as soon as it passes the limit, and the rest of it, up to its
 * newline, is read and dropped. Lines end at {@code \n}; one {@code \r} before it is removed.
 * Bytes are decoded as UTF-8 (malformed input becomes U+FFFD, which no message accepts).
 */
final class LineReader {

    /** What {@link #next} read. */
    sealed interface Line permits Text, TooLong {
    }

    record Text(String text) implements Line {
    }

    /** A line of more than {@code limit} bytes; it is skipped. */
    record TooLong(int limit) implements Line {
    }

    private static final int KEEP = 64 << 10;

    private final InputStream in;
    private final int limit;
    private final byte[] buf = new byte[64 << 10];
    private int pos;
    private int end;
    private boolean skipping;
    private ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineReader(InputStream in, int limit) {
        if (limit <= 0) throw new IllegalArgumentException("limit must be positive, got " + limit);
        this.in = in;
        this.limit = limit;
    }

    /** The next line, or null at the end of the stream. */
    Line next() throws IOException {
        while (true) {
            if (pos == end) {
                int n = in.read(buf);
                if (n < 0) {
                    if (skipping || line.size() == 0) return null;
                    return text(); // a last line without its newline
                }
                pos = 0;
                end = n;
            }
            int nl = pos;
            while (nl < end && buf[nl] != '\n') nl++;
            boolean complete = nl < end;
            if (skipping) {
                pos = complete ? nl + 1 : end;
                if (complete) skipping = false;
                continue;
            }
            int take = nl - pos;
            if ((long) line.size() + take > limit) {
                skipping = true;
                pos = nl; // the newline, if any, ends the skipping at the next call
                reset();
                return new TooLong(limit);
            }
            line.write(buf, pos, take);
            pos = complete ? nl + 1 : end;
            if (complete) return text();
        }
    }

    private Text text() {
        byte[] b = line.toByteArray();
        int n = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
        reset();
        return new Text(new String(b, 0, n, StandardCharsets.UTF_8));
    }

    /** Forgets the current line; a buffer grown by a long line is not kept. */
    private void reset() {
        if (line.size() > KEEP) {
            line = new ByteArrayOutputStream();
        } else {
            line.reset();
        }
    }
}
