package dev.deja.formats;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Copies that leave a file's runs of zeros as holes. A JVM's heap in a {@code memfd} (ZGC's) is
 * gigabytes of zeros when it is first mapped (sized by {@code ftruncate}, grown by {@code fallocate});
 * a recording keeps a copy of every mapped file, and writing those zeros out took most of such a
 * recording's time and its disk (6 GB for {@code java -XX:+UseZGC -version}). The content, and so a
 * blob's hash, is the same; only the blocks on disk differ.
 */
public final class SparseFiles {
    /** A run of zeros this long or longer becomes a hole (smaller ones are written: a block holds them anyway). */
    static final int CHUNK = 1 << 20;
    private static final byte[] ZEROS = new byte[CHUNK];

    private SparseFiles() {
    }

    /**
     * Copies {@code in} to {@code out} from its position 0, chunks of zeros skipped (holes), the file's
     * length set to what was read; every byte read also goes to {@code digest} when there is one.
     * Returns the number of bytes copied.
     */
    public static long copy(InputStream in, FileChannel out, MessageDigest digest) throws IOException {
        byte[] buf = new byte[CHUNK];
        long size = 0;
        boolean endsInHole = false;
        for (int n; (n = in.readNBytes(buf, 0, CHUNK)) > 0; ) {
            if (digest != null) digest.update(buf, 0, n);
            if (Arrays.mismatch(buf, 0, n, ZEROS, 0, n) == -1) {
                endsInHole = true;
            } else {
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                long at = size;
                while (b.hasRemaining()) at += out.write(b, at);
                endsInHole = false;
            }
            size += n;
        }
        // A hole at the end: the length comes from one written zero (truncate cannot lengthen a file).
        if (endsInHole) out.write(ByteBuffer.wrap(new byte[1]), size - 1);
        return size;
    }

    /** Copies file {@code from} to {@code to} (which must exist, empty, writable), holes for zeros. */
    public static long copy(Path from, Path to) throws IOException {
        try (InputStream in = Files.newInputStream(from);
             FileChannel out = FileChannel.open(to, java.nio.file.StandardOpenOption.WRITE)) {
            return copy(in, out, null);
        }
    }
}
