package dev.deja.recorder;

import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingWriter;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A recording writer being created on its own thread: opening the journal (Chronicle's start-up)
 * takes about as long as launching the program, so the two overlap. The tracer waits for the
 * writer at its first event.
 */
final class PendingWriter implements AutoCloseable {
    private final CompletableFuture<RecordingWriter> future = new CompletableFuture<>();

    static PendingWriter start(Path dir, RecordingHeader header) {
        PendingWriter p = new PendingWriter();
        Thread.ofPlatform().name("deja-journal-open").start(() -> {
            try {
                p.future.complete(RecordingWriter.create(dir, header));
            } catch (RecordingException | RuntimeException e) {
                p.future.completeExceptionally(e);
            }
        });
        return p;
    }

    /** The writer, once created; the creation's failure otherwise. */
    RecordingWriter get() throws RecordingException {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RecordingException r) throw r;
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
    }

    /** Closes the writer if it was created (a recording not finished stays readable, incomplete). */
    @Override
    public void close() {
        RecordingWriter w;
        try {
            w = future.join();
        } catch (CompletionException e) {
            return; // never created: nothing to close
        }
        w.close();
    }
}
