package dev.deja.device.tracer;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One tracer's line streams: what it writes ({@code in}) and what it reads ({@code out}).
 * Closing closes both (a tracer program sees end of file on its stdin).
 */
public record Connection(String label, InputStream in, OutputStream out, Closeable onClose) implements Closeable {
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
