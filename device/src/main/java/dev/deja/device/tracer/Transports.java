package dev.deja.device.tracer;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Where tracers come from: programs started on pipes. */
public final class Transports {
    private Transports() {
    }

    /**
     * Starts {@code command} with {@code /bin/sh -c}, its stdin and stdout on pipes to deja and its
     * stderr shared with deja's. Closing the connection closes its stdin, waits two seconds for it
     * to end and then kills it. (The trace device waits for any child of deja, so it may be the one
     * that reaps the tracer's exit status; the JDK copes, and deja only needs its streams.)
     */
    public static Connection spawn(String command) throws IOException {
        Process p = new ProcessBuilder(List.of("/bin/sh", "-c", command))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new Connection(command, p.getInputStream(), p.getOutputStream(), () -> {
            try {
                if (!p.waitFor(2, TimeUnit.SECONDS)) p.destroyForcibly();
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        });
    }
}
