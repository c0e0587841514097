package dev.deja.device.tracer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LineReaderTest {

    private static LineReader reader(String s, int limit) {
        return new LineReader(new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8)), limit);
    }

    @Test
    void linesEndAtNewlineAndLoseOneCarriageReturn() throws IOException {
        LineReader r = reader("one\ntwo\r\n\nthr\u00e9e", 100);
        assertEquals(new LineReader.Text("one"), r.next());
        assertEquals(new LineReader.Text("two"), r.next());
        assertEquals(new LineReader.Text(""), r.next());
        assertEquals(new LineReader.Text("thr\u00e9e"), r.next(), "a last line without its newline");
        assertNull(r.next());
    }

    @Test
    void aLineAtTheLimitPassesALongerOneIsReportedAndSkipped() throws IOException {
        LineReader r = reader("12345\n123456\nok\n1234567", 5);
        assertEquals(new LineReader.Text("12345"), r.next());
        assertEquals(new LineReader.TooLong(5), r.next());
        assertEquals(new LineReader.Text("ok"), r.next());
        assertEquals(new LineReader.TooLong(5), r.next());
        assertNull(r.next());
    }

    @Test
    void aHugeLineIsReadThroughInBoundedMemory() throws IOException {
        long size = 3L << 30; // 3 GiB of 'a', never held: more than the test JVM's heap
        InputStream huge = new InputStream() {
            long left = size;

            @Override
            public int read() {
                throw new UnsupportedOperationException("the reader reads blocks");
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) return -1;
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 'a');
                left -= n;
                return n;
            }
        };
        LineReader r = new LineReader(new java.io.SequenceInputStream(huge,
                new ByteArrayInputStream("\nafter\n".getBytes(StandardCharsets.US_ASCII))), 1 << 20);
        assertEquals(new LineReader.TooLong(1 << 20), r.next());
        assertEquals(new LineReader.Text("after"), r.next());
        assertNull(r.next());
    }
}
