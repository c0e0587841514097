package dev.deja.device.tracer;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One tracer's line streams: what it writes ({@code in}) and what it reads ({@code out}).
 * Closing closes both (a tracer program sees end of file on its stdin) and runs {@code onClose}
 * (a program: wait a moment for it, then end its process group). {@code abort} ends the tracer at
 * once, from any thread, and must make a write blocked on {@code out} fail: for a program, kill
 * its process group (the pipe then has no reader); for a socket, close it.
 */
public record Connection(String label, InputStream in, OutputStream out, Closeable onClose, Runnable abort)
        implements Closeable {

    /** A connection whose abort closes its streams (channels: a blocked write then fails). */
    public Connection(String label, InputStream in, OutputStream out, Closeable onClose) {
        this(label, in, out, onClose, null);
    }

    public Connection {
        if (abort == null) {
            Closeable inStream = in;
            Closeable outStream = out;
            abort = () -> {
                closeQuietly(outStream);
                closeQuietly(inStream);
            };
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    @Override
    public void close() throws IOException {
        try {
            out.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (onClose != null) onClose.close();
        } finally {
            in.close();
        }
    }
}
