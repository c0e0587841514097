package dev.deja.cli;

import dev.deja.device.syscall.Arch;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.Recordings;
import dev.deja.formats.SharedBlobs;
import dev.deja.formats.internal.Metadata;
import dev.deja.formats.pack.PackReader;
import dev.deja.formats.pack.Packs;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opening the recording a command names: a path, a name under deja's home, the latest, or a packed
 * recording (a {@code .deja} file), which is unpacked into a private temporary directory that
 * closing the recording (or deja's exit) removes.
 */
final class RecordingArg {
    private RecordingArg() {
    }

    static Recording open(String nameOrPath) {
        try {
            Path p = Recordings.resolve(nameOrPath);
            if (!isPackedFile(p)) {
                Recording rec = Recording.open(p);
                rec.checkBlobsThrough(SharedBlobs.inHome(Recordings.home()));
                return rec;
            }
            // Removed on close, and by a shutdown hook on Ctrl-C or SIGTERM; a SIGKILL's leftover by the next unpack.
            // Its blobs are new files at each unpack: checked without the stat cache.
            return Recording.openOwned(Packs.unpackToTemp(p));
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** The architecture the recording was made on, when this deja has its syscall tables. */
    static Arch arch(Recording rec) {
        try {
            return Arch.parse(rec.header().arch());
        } catch (IllegalArgumentException e) {
            throw new UserError(rec.path() + " was recorded on " + rec.header().arch() + " (its meta.json says so); this"
                    + " deja reads recordings of x86_64 and aarch64");
        }
    }

    /**
     * True for a regular file other than a recording's meta.json: a pack, or something to refuse
     * with the pack reader's message (empty, an executable, text).
     */
    static boolean isPackedFile(Path p) {
        return Files.isRegularFile(p) && (PackReader.isPack(p) || !p.getFileName().toString().equals(Metadata.FILE_NAME));
    }
}
