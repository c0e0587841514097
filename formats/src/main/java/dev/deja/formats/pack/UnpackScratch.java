package dev.deja.formats.pack;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.ScratchDirs;
import dev.deja.formats.internal.FileOps;

import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A directory a pack is unpacked into before it is renamed or used: removed when deja is stopped meanwhile.
 * SIGINT and SIGTERM run a shutdown hook that waits for the chunk being written, stops further writes and
 * deletes the directory. SIGKILL runs nothing, so the name carries the owner's pid and start time
 * ({@code <prefix><pid>-<start ms>-<random>}) and the next unpack into the same place
 * ({@link ScratchDirs#sweep(Path, Pattern)}) deletes the leftovers of processes that are gone.
 */
final class UnpackScratch implements AutoCloseable {

    /** Writes without a directory of its own to guard (extractInto a caller's directory). */
    static final UnpackScratch NONE = new UnpackScratch(null);

    /** Names in the temp directory: {@code deja-unpacked-<pid>-<start>-<random>}. */
    static final String TEMP_PREFIX = "deja-unpacked-";
    static final Pattern TEMP_NAME = Pattern.compile(Pattern.quote(TEMP_PREFIX) + "(\\d+)-(\\d+)-\\d+");
    /** Names next to an unpack target: {@code .<target>.unpack-<pid>-<start>-<uuid>}. */
    static final Pattern HIDDEN_NAME = Pattern.compile("\\..+\\.unpack-(\\d+)-(\\d+)-[0-9a-f-]{36}");

    private final Path dir;
    private final Thread hook;
    private boolean abandoned;   // guarded by this

    /** The functional part of a write: file system calls that may fail. */
    @FunctionalInterface
    interface Write {
        void run() throws IOException;
    }

    private UnpackScratch(Path dir) {
        this.dir = dir;
        this.hook = dir == null ? null : new Thread(this::abandon, "deja-unpack-cleanup");
    }

    /** Creates {@code dir} (private) and guards it until {@link #close()}. */
    static UnpackScratch create(Path dir) throws IOException {
        FileOps.createPrivateDirectory(dir);
        UnpackScratch s = new UnpackScratch(dir);
        Runtime.getRuntime().addShutdownHook(s.hook);
        return s;
    }

    Path dir() {
        return dir;
    }

    /** Runs one write into the directory unless deja is being stopped (then the directory is going away). */
    synchronized void write(Path target, Write w) throws RecordingException {
        if (abandoned) throw new RecordingException("deja was stopped while unpacking into " + dir);
        try {
            w.run();
        } catch (IOException e) {
            throw new RecordingException("cannot write " + target + " while unpacking: " + e.getMessage(), e);
        }
    }

    /** What the shutdown hook does: wait for the write in progress, refuse the next ones, delete the directory. */
    void abandon() {
        synchronized (this) {
            abandoned = true;
        }
        Recording.deleteTree(dir);
    }

    /** Stops guarding: the directory was renamed away, or its new owner deletes it. */
    @Override
    public void close() {
        if (hook == null) return;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs now, or is about to
        }
    }
}
