package dev.deja.formats;

import dev.deja.formats.event.Event;
import dev.deja.formats.internal.BlobStore;
import dev.deja.formats.internal.EntryCodec;
import dev.deja.formats.internal.FileOps;
import dev.deja.formats.internal.Journal;
import dev.deja.formats.internal.Metadata;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Writes a recording, streaming: each event goes to the journal as it is appended, nothing is
 * kept in memory. Single-threaded. Every appended event survives the death of the writing process
 * (the journal is a memory-mapped file); {@link #finish} marks the recording complete.
 */
public final class RecordingWriter implements AutoCloseable {

    private final Path dir;
    private final Metadata started;
    private final BlobStore blobs;
    private final EntryCodec codec;
    private final CRC32C crc = new CRC32C();
    private SingleChronicleQueue queue;
    private ExcerptAppender appender;
    private long entries;
    private boolean finished;
    /** Files under HOME the program opened, when watched (else null). */
    private java.util.TreeSet<String> homeFiles;
    /** A write to the mapped journal faulted: closing must not fault again on the same pages. */
    private boolean faulted;

    /** Free space below which a faulted journal write is put down to a full file system (a chunk's page tables, a few pages). */
    private static final long FULL_BELOW = 1 << 20;

    private RecordingWriter(Path dir, RecordingHeader header, SharedBlobs shared) {
        this.dir = dir;
        this.started = Metadata.started(header);
        this.blobs = new BlobStore(dir.resolve(BlobStore.DIR_NAME), shared);
        this.codec = new EntryCodec(data -> blobs.store(data, 0, data.length), (hash, len) -> {
            throw new IllegalStateException("the writer never reads blocks");
        });
    }

    /** Creates the recording directory (which must not exist, or be empty) with status incomplete. */
    public static RecordingWriter create(Path dir, RecordingHeader header) throws RecordingException {
        return create(dir, header, null);
    }

    /**
     * As {@link #create(Path, RecordingHeader)}, the files it stores hard-linked from {@code shared} (the
     * user's store) when that is on the same file system; null: every file is copied into the recording.
     */
    public static RecordingWriter create(Path dir, RecordingHeader header, SharedBlobs shared) throws RecordingException {
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) throw new RecordingException("cannot record into " + dir + ": it is not a directory");
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                if (ds.iterator().hasNext()) throw new RecordingException("cannot record into " + dir + ": the directory is not empty");
            } catch (IOException e) {
                throw new RecordingException("cannot list " + dir + ": " + e, e);
            }
        }
        try {
            // Private (0700): a recording holds the environment and everything the program read. A directory the
            // user made beforehand keeps its mode; what deja creates in it is private.
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            if (!Files.isDirectory(dir)) FileOps.createPrivateDirectory(dir);
            FileOps.createPrivateDirectories(dir.resolve(BlobStore.DIR_NAME));
            FileOps.createPrivateDirectories(dir.resolve(Journal.DIR_NAME));
        } catch (IOException e) {
            throw new RecordingException("cannot create recording directory " + dir + ": " + e, e);
        }
        RecordingWriter w = new RecordingWriter(dir, header, shared);
        w.started.write(dir);
        try {
            w.queue = Journal.openForWrite(dir.resolve(Journal.DIR_NAME), header.startTimeNs() / 1_000_000);
            w.appender = w.queue.createAppender();
            FileOps.makePrivate(dir.resolve(Journal.DIR_NAME));
        } catch (IOException e) {
            w.close();
            throw new RecordingException("cannot make the journal in " + dir.resolve(Journal.DIR_NAME) + " private: " + e, e);
        } catch (RuntimeException e) {
            w.close();
            throw new RecordingException("cannot open the journal in " + dir.resolve(Journal.DIR_NAME) + ": " + e, e);
        }
        return w;
    }

    public Path path() {
        return dir;
    }

    /** Appends one event as one journal entry. */
    public void append(Event event) throws RecordingException {
        if (appender == null) throw new IllegalStateException("recording " + dir + " is " + (finished ? "finished" : "closed"));
        int len = codec.encode(event);
        byte[] buf = codec.buffer();
        crc.reset();
        crc.update(buf, 0, len);
        int sum = (int) crc.getValue();
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte(EntryCodec.TAG_EVENT_V1);
            b.writeInt(len);
            b.writeInt(sum);
            b.write(buf, 0, len);
        } catch (RuntimeException e) {
            throw new RecordingException("cannot append entry " + entries + " (event " + event.seq() + ") to the journal in "
                    + dir.resolve(Journal.DIR_NAME) + ": " + e, e);
        } catch (InternalError e) {
            // Chronicle writes through a memory-mapped file: a page the file system cannot back (a full
            // disk, or a file cut meanwhile) faults, and the JVM turns that SIGBUS into an InternalError.
            faulted = true;
            Path journal = dir.resolve(Journal.DIR_NAME);
            throw new RecordingException("cannot write event " + event.seq() + " into the journal in " + journal + ": "
                    + whyFaulted(journal) + "; the " + entries + " events before it are kept (the recording stays"
                    + " incomplete, and readable)", e);
        }
        entries++;
    }

    /** A memory-mapped write faulted: most likely the file system is full; say what it has left. */
    private static String whyFaulted(Path journal) {
        long free;
        try {
            free = Files.getFileStore(journal).getUsableSpace();
        } catch (IOException e) {
            return "a write to its memory-mapped file failed (the file system is probably full; its free space cannot be read: "
                    + e.getMessage() + ")";
        }
        if (free < FULL_BELOW) return "no space left on its file system (" + free + " bytes free)";
        return "a write to its memory-mapped file failed, with " + free + " bytes free on its file system (was the file"
                + " cut, or the device removed?)";
    }

    /** Number of entries appended so far. */
    public long entries() {
        return entries;
    }

    /** Copies a file into the blob store; returns its SHA-256 (hex). The same content is stored once. */
    public String storeBlob(Path file) throws RecordingException {
        return blobs.store(file);
    }

    /** The header the recording was created with. */
    public RecordingHeader header() {
        return started.header();
    }

    /** Makes {@link #finish} list the home files noted (none noted: an empty list, not an unknown one). */
    public void watchHomeFiles() {
        if (homeFiles == null) homeFiles = new java.util.TreeSet<>();
    }

    /** A file under the recorded HOME the program opened (see {@link #watchHomeFiles}). */
    public void noteHomeFile(String path) {
        watchHomeFiles();
        homeFiles.add(path);
    }

    /** How many stored files were hard-linked from the shared store rather than copied. */
    public int filesLinkedFromShared() {
        return blobs.linkedFromShared();
    }

    public String storeBlob(byte[] content) throws RecordingException {
        return blobs.store(content, 0, content.length);
    }

    /**
     * Closes the journal, makes it durable, and rewrites the metadata atomically with the summary's
     * status (complete or interrupted). Call {@link #close()} after (it is then a no-op).
     */
    public void finish(RecordingSummary summary) throws RecordingException {
        if (summary.status() == RecordingStatus.INCOMPLETE) {
            throw new IllegalArgumentException("finish() needs status COMPLETE or INTERRUPTED; close() leaves a recording incomplete");
        }
        if (queue == null) throw new IllegalStateException("recording " + dir + " is " + (finished ? "already finished" : "closed"));
        closeJournal();
        Path journal = dir.resolve(Journal.DIR_NAME);
        try {
            FileOps.makePrivate(journal);   // Chronicle created its files with the umask's mode
            for (Path f : Journal.queueFiles(journal)) FileOps.syncFile(f);
            FileOps.syncDirectory(journal);
        } catch (IOException e) {
            throw new RecordingException("cannot sync the journal in " + journal + ": " + e, e);
        }
        long bytes = Journal.usedBytes(journal, Journal.BLOCK_SIZE) + Recording.sizeOutsideJournal(dir);
        Metadata.HomeFiles home = homeFiles == null ? null
                : new Metadata.HomeFiles(homeFiles.stream().limit(Metadata.MAX_HOME_FILES).toList(), homeFiles.size());
        started.finished(summary, entries, bytes, home).write(dir);
        finished = true;
    }

    private void closeJournal() {
        try {
            if (appender != null) appender.close();
            if (queue != null) queue.close();
        } catch (InternalError e) {
            // Only after a faulted append (see append): closing touches the mapped pages once more. What was
            // appended before stays readable; the fault was reported with the append.
            if (!faulted) throw e;
        } finally {
            appender = null;
            queue = null;
        }
    }

    /** Closes the journal. Without {@link #finish} the recording stays incomplete, and readable. */
    @Override
    public void close() {
        closeJournal();
    }
}
