package dev.deja.formats;

import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.internal.BlobStore;
import dev.deja.formats.internal.FileOps;
import dev.deja.formats.internal.Journal;
import dev.deja.formats.internal.JournalEventReader;
import dev.deja.formats.internal.Metadata;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * An open recording. Opening reads and checks the metadata (magic, version range, fields); the
 * journal and blobs are checked as they are read, or all at once by {@link #verify()}.
 */
public final class Recording implements AutoCloseable {

    private final Path dir;
    private final Metadata meta;
    private final BlobStore blobs;
    private final Set<String> verifiedBlobs = ConcurrentHashMap.newKeySet();
    private final List<JournalEventReader> readers = new ArrayList<>();
    private Path recoveryCopy;
    private Path deleteOnClose;
    /** The user's store, whose stat cache spares re-reading a blob hashed before; null: every blob is read. */
    private volatile SharedBlobs hashed;

    private Recording(Path dir, Metadata meta) {
        this.dir = dir;
        this.meta = meta;
        this.blobs = new BlobStore(dir.resolve(BlobStore.DIR_NAME));
    }

    /**
     * Prepares the journal's library for a first open soon, on the calling thread (a second one,
     * while this one does other work), so that the first open costs only the open. Never while a tracer
     * runs: it starts a child process (JNA's {@code ldconfig}), which the tracer's {@code waitpid(-1)}
     * would take from the JDK.
     */
    public static void warmUp() {
        Journal.warmUp();
    }

    /** Opens the recording in a directory (or the directory of a {@code meta.json} given directly). */
    public static Recording open(Path dirOrFile) throws RecordingException {
        Path dir = dirOrFile;
        FileOps.requireReachable(dirOrFile);
        if (Files.isRegularFile(dirOrFile)) {
            if (!dirOrFile.getFileName().toString().equals(Metadata.FILE_NAME)) {
                throw new NotARecordingException(dirOrFile, "a recording is a directory (holding " + Metadata.FILE_NAME + ")");
            }
            dir = dirOrFile.toAbsolutePath().getParent();
        }
        if (!Files.isDirectory(dir)) {
            throw new NotARecordingException(dir, "neither a recording directory nor a packed recording (not a regular file or directory)");
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            if (!ds.iterator().hasNext()) throw new NotARecordingException(dir, "the directory is empty");
        } catch (AccessDeniedException e) {
            throw new RecordingException("cannot list " + dir + ": permission denied", e);
        } catch (IOException e) {
            throw new RecordingException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        Metadata meta = Metadata.read(dir);
        Path journal = dir.resolve(Journal.DIR_NAME);
        if (!Files.isDirectory(journal)) {
            throw new CorruptRecordingException(journal, -1, -1, "the journal directory is missing");
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(journal)) {
            for (Path p : ds) FileOps.requireRegularIfPresent(p);
        } catch (IOException e) {
            throw new RecordingException("cannot list " + journal + ": " + e.getMessage(), e);
        }
        return new Recording(dir, meta);
    }

    /**
     * Opens a recording in a directory of its own (a packed recording unpacked for one command) that
     * {@link #close()} deletes; when the open fails the directory is deleted at once.
     */
    public static Recording openOwned(Path dir) throws RecordingException {
        try {
            Recording r = open(dir);
            r.deleteOnClose = dir;
            return r;
        } catch (RecordingException | RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
    }

    public Path path() {
        return dir;
    }

    /**
     * The files under the recorded HOME the program opened, as the recorder listed them in meta.json (the
     * first {@value Metadata#MAX_HOME_FILES}, sorted, and how many); empty for a recording that has no such
     * list (made before 2026-12-04, or not finished): then only its journal says.
     */
    public Optional<Metadata.HomeFiles> homeFilesRead() {
        return Optional.ofNullable(meta.homeFiles());
    }

    public RecordingHeader header() {
        return meta.header();
    }

    public RecordingStatus status() {
        return meta.status();
    }

    /**
     * True when {@code meta.json} carried its checksum (and it matched: opening checks it); false for a
     * recording made before deja wrote one, whose metadata nothing vouches for.
     */
    public boolean metadataChecksummed() {
        return meta.checksummed();
    }

    /** The summary written at finish; empty while the recording is incomplete. */
    public Optional<RecordingSummary> summary() {
        return Optional.ofNullable(meta.summary());
    }

    /** A fresh reader from the first event. Close it (try-with-resources). */
    public synchronized EventReader events() throws RecordingException {
        Path journal = dir.resolve(Journal.DIR_NAME);
        Path toRead = journal;
        Path named = journal;
        try {
            List<Path> files = Journal.queueFiles(journal);
            if (files.size() == 1) named = files.get(0);
            for (Path f : files) {
                if (!Journal.plausibleSize(Files.size(f), meta.blockSize())) {
                    named = f;
                    toRead = recoveryCopy(journal);
                    break;
                }
            }
        } catch (IOException e) {
            throw new RecordingException("cannot read the journal " + journal + ": " + e, e);
        }
        JournalEventReader r = new JournalEventReader(toRead, named, meta.blockSize(),
                meta.status() != RecordingStatus.INCOMPLETE, meta.journalEntries(),
                (hash, len) -> blobs.read(hash, len), this::closed);
        readers.add(r);
        return r;
    }

    private synchronized void closed(JournalEventReader r) {
        readers.remove(r);
    }

    /** A truncated queue file is read through a zero-padded copy (Chronicle maps whole chunks). */
    private Path recoveryCopy(Path journal) throws IOException {
        if (recoveryCopy == null) {
            Path tmp = Files.createTempDirectory("deja-journal-");
            Journal.recoverInto(journal, tmp, meta.blockSize());
            recoveryCopy = tmp;
        }
        return recoveryCopy;
    }

    /**
     * Checks blobs through the user's stat cache from now on ({@link BlobStore#verify(String, SharedBlobs)}):
     * for commands that run a recording ({@link #blob}); {@link #verify()} still reads every blob.
     */
    public void checkBlobsThrough(SharedBlobs store) {
        this.hashed = store;
    }

    /** The blob's file, after checking (once per open) that its size and hash match. */
    public Path blob(String hash) throws RecordingException {
        if (verifiedBlobs.contains(hash)) return blobs.pathOf(hash);
        Path p = blobs.verify(hash, hashed);
        verifiedBlobs.add(hash);
        return p;
    }

    /**
     * Bytes used on disk: metadata, blobs, and the used part of the (sparse) journal files. For a finished
     * recording, what its metadata says it had when it was finished: measuring the journal means starting
     * Chronicle, most of {@code deja ls}'s time.
     */
    public long sizeBytes() {
        if (meta.status() != RecordingStatus.INCOMPLETE && meta.bytes() >= 0) return meta.bytes();
        long outside = sizeOutsideJournal(dir);
        try {
            return outside + Journal.usedBytes(dir.resolve(Journal.DIR_NAME), meta.blockSize());
        } catch (RecordingException e) {
            return outside + apparentSize(dir.resolve(Journal.DIR_NAME));
        }
    }

    static long sizeOutsideJournal(Path dir) {
        long total = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.getFileName().toString().equals(Journal.DIR_NAME)) continue;
                total += apparentSize(p);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot measure " + dir, e);
        }
        return total;
    }

    private static long apparentSize(Path p) {
        long[] total = {0};
        try {
            Files.walkFileTree(p, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    total[0] += attrs.size();
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot measure " + p, e);
        }
        return total[0];
    }

    /**
     * The cheap check: every blob the blob index lists is present with its indexed size; contents are not
     * read ({@link #verify()} does). Returns how many blobs were checked.
     */
    public int checkBlobSizes() throws RecordingException {
        return blobs.checkSizes();
    }

    /**
     * Full check: every journal entry's framing, checksum and decoding; every blob's hash; every
     * blob the events and the index name present.
     */
    public void verify() throws RecordingException {
        Set<String> referenced = new TreeSet<>();
        int rootPid = 0;
        ExitEvent rootExit = null;
        try (EventReader r = events()) {
            for (Event e; (e = r.next()) != null; ) {
                if (rootPid == 0) rootPid = e.pid();
                switch (e) {
                    case ExecEvent x when !x.exeBlob().isEmpty() -> referenced.add(x.exeBlob());
                    case MappingEvent m when !m.blob().isEmpty() -> referenced.add(m.blob());
                    case ExitEvent x when x.processExit() -> {
                        if (x.pid() == rootPid) rootExit = x;
                    }
                    default -> { }
                }
            }
        }
        // The summary against the journal, for metadata without a checksum (or one recomputed after an edit).
        RecordingSummary s = meta.summary();
        if (s != null && s.status() == RecordingStatus.COMPLETE && rootExit != null
                && rootExit.shellStatus() != s.exitStatus()) {
            throw new CorruptRecordingException(dir.resolve(Metadata.FILE_NAME), -1, -1, "exitStatus " + s.exitStatus()
                    + " differs from the program's recorded exit (status " + rootExit.shellStatus() + " at event "
                    + rootExit.seq() + ")");
        }
        Set<String> present = new TreeSet<>(blobs.list());
        for (String h : present) blob(h);
        for (String h : blobs.indexed()) {
            if (!present.contains(h)) {
                throw new CorruptRecordingException(blobs.pathOf(h), -1, -1, "blob " + h + " is in the blob index but missing");
            }
        }
        for (String h : referenced) {
            if (!present.contains(h)) {
                throw new CorruptRecordingException(blobs.pathOf(h), -1, -1, "blob " + h + " is named by an event but missing");
            }
        }
    }

    @Override
    public synchronized void close() {
        for (JournalEventReader r : List.copyOf(readers)) r.close();
        if (recoveryCopy != null) {
            deleteTree(recoveryCopy);
            recoveryCopy = null;
        }
        if (deleteOnClose != null) {
            deleteTree(deleteOnClose);
            deleteOnClose = null;
        }
    }

    /**
     * Deletes a directory tree (links are removed, not followed), logging (not throwing) what cannot be
     * deleted. Another thread may delete the same tree meanwhile (a replay's end and its Ctrl-C hook):
     * what is already gone is skipped.
     */
    public static void deleteTree(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null && !(e instanceof NoSuchFileException)) throw e;
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException gone) {
            // deleted meanwhile, or never made
        } catch (IOException e) {
            System.getLogger(Recording.class.getName()).log(System.Logger.Level.WARNING, "cannot delete " + root + ": " + e);
        }
    }

    @Override
    public String toString() {
        return "Recording[" + dir + ", " + meta.status().word() + ", id " + meta.header().id() + "]";
    }
}
