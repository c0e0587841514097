package dev.deja.device.tracer;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The lines deja sends one tracer, written by a thread of their own: a blocking write to a tracer
 * that stopped reading its input used to stop the device's thread for good (the pipe holds 64 KiB).
 * Senders queue lines and return; only when more than {@code budget} bytes wait do they wait too,
 * for at most the timeout. A tracer that has not taken a line for longer than the timeout (its
 * current write blocked, or the queue full all that time) is stuck: as after a failed write,
 * {@code onFailure} is told once, and lines are dropped from then on.
 */
final class Outbox {

    private final OutputStream out;
    private final long budget;
    private final long timeoutNanos;
    private final Consumer<String> onFailure;
    private final Object lock = new Object();
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private final Thread writer;

    // guarded by lock
    private long queued;
    /** When the line being written was taken (System.nanoTime), 0 while no write is in progress. */
    private long writingSince;
    private boolean closing;
    private boolean done;
    private boolean failed;

    /**
     * @param onFailure told once, from whichever thread finds it, why lines can no longer reach the
     *                  tracer: its input is closed, or it has not read it within the timeout
     */
    Outbox(String name, OutputStream out, long budget, Duration timeout, Consumer<String> onFailure) {
        this.out = out;
        this.budget = budget;
        this.timeoutNanos = timeout.toNanos();
        this.onFailure = onFailure;
        this.writer = Thread.ofPlatform().daemon().name("deja-tracer-writer " + name).start(this::writeLoop);
    }

    /**
     * Queues {@code line}; waits (at most the timeout) while more than the budget is queued.
     * False when the line will not be written: the tracer's input failed or it is stuck.
     */
    boolean offer(byte[] line) {
        synchronized (lock) {
            if (failed || closing) return false;
            long deadline = System.nanoTime() + timeoutNanos;
            while (true) {
                long now = System.nanoTime();
                if (writingSince != 0 && now - writingSince > timeoutNanos) break; // one write blocked that long
                // A line larger than the budget still goes, alone.
                if (queued == 0 || queued + line.length <= budget) {
                    queue.add(line);
                    queued += line.length;
                    lock.notifyAll();
                    return true;
                }
                long left = deadline - now;
                if (left <= 0) break; // the queue stayed full that long
                try {
                    lock.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            failed = true;
            queue.clear();
            lock.notifyAll();
        }
        onFailure.accept("it did not read its input for " + Duration.ofNanos(timeoutNanos).toMillis() + " ms");
        return false;
    }

    /**
     * Closes the tracer's input once the queued lines are written; waits at most {@code wait}.
     * False when the writer did not finish: the tracer does not read, and ending it (which fails
     * the blocked write) is the caller's business.
     */
    boolean close(Duration wait) {
        synchronized (lock) {
            closing = true;
            lock.notifyAll();
            long deadline = System.nanoTime() + wait.toNanos();
            while (!done) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                try {
                    lock.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    private void writeLoop() {
        try {
            while (true) {
                byte[] line;
                boolean last;
                synchronized (lock) {
                    while (queue.isEmpty() && !closing && !failed) lock.wait();
                    if (failed || queue.isEmpty()) break; // closing, everything written
                    line = queue.poll();
                    last = queue.isEmpty();
                    writingSince = System.nanoTime();
                }
                out.write(line);
                if (last) out.flush(); // lines queued meanwhile go out together
                synchronized (lock) {
                    queued -= line.length;
                    writingSince = 0;
                    lock.notifyAll();
                }
            }
            out.close();
        } catch (IOException e) {
            boolean first;
            synchronized (lock) {
                first = !failed;
                failed = true;
                queue.clear();
            }
            if (first) onFailure.accept("its input is closed (" + e.getMessage() + ")");
            closeQuietly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly();
        } finally {
            synchronized (lock) {
                done = true;
                writingSince = 0;
                lock.notifyAll();
            }
        }
    }

    private void closeQuietly() {
        try {
            out.close();
        } catch (IOException e) {
            // its input is gone already: nothing is left to tell it
        }
    }
}
