package dev.deja.recorder;

import dev.deja.device.SchedulePolicy;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingWriter;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * The observing tracer behind {@code deja record}: appends every event to the journal as it
 * completes, and copies each executable and mapped file into the blob store once per content.
 */
final class RecordingTracer implements Tracer {
    private final RecordingWriter writer;
    /** Files already copied, by identity and version, so a library mapped 1000 times is hashed once. */
    private final Map<FileKey, String> copied = new HashMap<>();
    private final KernelCopies kernelCopies = new KernelCopies();

    /** Notes the files under HOME the program opens, for {@code deja info} (meta.json's homeFilesRead). */
    private final HomeFileOpens homeFileOpens;

    RecordingTracer(RecordingWriter writer) {
        this.writer = writer;
        this.homeFileOpens = new HomeFileOpens(SyscallTable.of(Arch.current()), writer.header().environment(),
                writer.header().cwd());
        writer.watchHomeFiles();
    }

    private record FileKey(Object inode, long size, long modified) {
    }

    /** Threads of one process take turns, so the recording holds the order of their memory accesses. */
    @Override
    public SchedulePolicy scheduling() {
        return SchedulePolicy.FIFO;
    }

    /** The CPU a thread runs on is read from the world: through getcpu, recorded, not through rseq's area. */
    @Override
    public boolean refusesRseq() {
        return true;
    }

    @Override
    public void onSchedule(ScheduleEvent event) {
        append(event);
    }

    @Override
    public void onSyscall(SyscallEvent event, Tracee tracee) {
        append(kernelCopies.withMovedBytes(event, tracee));
        String home = homeFileOpens.opened(event);
        if (home != null) writer.noteHomeFile(home);
    }

    @Override
    public void onSignal(SignalEvent event, Tracee tracee) {
        append(event);
    }

    @Override
    public void onSpawn(SpawnEvent event) {
        append(event);
    }

    @Override
    public void onExec(ExecEvent event, Path executable) {
        String blob = copy(executable);
        append(new ExecEvent(event.seq(), event.pid(), event.tid(), event.timeNs(), event.formerTid(), event.path(),
                event.argv(), blob, event.auxv(), event.atRandom()));
    }

    @Override
    public void onMapping(MappingEvent event, Path source) {
        String blob = copy(source);
        append(new MappingEvent(event.seq(), event.pid(), event.tid(), event.timeNs(), event.address(),
                event.length(), event.prot(), event.flags(), event.offset(), event.path(), event.fileSize(), blob));
    }

    @Override
    public void onContext(ContextEvent event) {
        append(event);
    }

    @Override
    public void onExit(ExitEvent event) {
        append(event);
    }

    /** Copies a regular file into the blob store; "" when it is not a regular file or cannot be read. */
    private String copy(Path source) {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(source, BasicFileAttributes.class);
        } catch (IOException e) {
            return "";
        }
        if (!attrs.isRegularFile()) return "";
        FileKey key = new FileKey(attrs.fileKey(), attrs.size(), attrs.lastModifiedTime().toMillis());
        String known = key.inode() == null ? null : copied.get(key);
        if (known != null) return known;
        try {
            String hash = writer.storeBlob(source);
            if (key.inode() != null) copied.put(key, hash);
            return hash;
        } catch (RecordingException e) {
            // The file went away between its stat and its copy: a /proc/PID/exe whose process deja's kill (Ctrl-C)
            // just ended. As a file that cannot be read; a journal or blob store that cannot be written fails.
            if (e.getCause() instanceof NoSuchFileException gone && source.toString().equals(gone.getFile())) return "";
            throw new RecorderFailure(e);
        }
    }

    private void append(Event event) {
        try {
            writer.append(event);
        } catch (RecordingException e) {
            throw new RecorderFailure(e);
        }
    }

    /** Carries a journal failure out of a device callback, which cannot throw checked exceptions. */
    static final class RecorderFailure extends RuntimeException {
        RecorderFailure(RecordingException cause) {
            super(cause.getMessage(), cause);
        }

        RecordingException recordingException() {
            return (RecordingException) getCause();
        }
    }
}
