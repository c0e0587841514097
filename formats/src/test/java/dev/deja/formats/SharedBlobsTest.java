package dev.deja.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class SharedBlobsTest {
    /** A file older than the racy window, as executables and libraries are: /usr/bin/true. */
    private static final Path OLD_FILE = Path.of("/usr/bin/true");

    private static String write(Path dir, SharedBlobs shared, Path file, int[] linked) throws Exception {
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header(), shared)) {
            String h = w.storeBlob(file);
            assertEquals(h, w.storeBlob(file), "the same file twice in one recording: one blob");
            if (linked != null) linked[0] = w.filesLinkedFromShared();
            w.finish(RandomEvents.summary(0));
            return h;
        }
    }

    private static Path blobIn(Path rec, String h) {
        return rec.resolve("blobs").resolve(h.substring(0, 2)).resolve(h.substring(2));
    }

    private static int links(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void recordingsLinkOneCopyAndAnUnchangedFileIsNotReadAgain(@TempDir Path tmp) throws Exception {
        SharedBlobs store = new SharedBlobs(tmp.resolve("home/blobs"));
        int[] linked = new int[1];
        String h1 = write(tmp.resolve("a"), store, OLD_FILE, linked);
        assertEquals(1, linked[0]);
        SharedBlobs.Stamp stamp = SharedBlobs.stamp(OLD_FILE);
        assertEquals(h1, store.lookup(stamp), "an old file is remembered by its stat");
        String h2 = write(tmp.resolve("b"), store, OLD_FILE, linked);
        assertEquals(h1, h2);
        assertEquals(1, linked[0]);
        assertEquals(3, links(store.pathOf(h1)), "the store's file and one link per recording");
        assertEquals(Files.readString(blobIn(tmp.resolve("a"), h1), java.nio.charset.StandardCharsets.ISO_8859_1),
                Files.readString(OLD_FILE, java.nio.charset.StandardCharsets.ISO_8859_1));
        assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.pathOf(h1))));
        for (String r : List.of("a", "b")) {
            try (Recording rec = Recording.open(tmp.resolve(r))) {
                rec.verify();
                assertEquals(List.of(h1 + " " + Files.size(OLD_FILE)), Files.readAllLines(tmp.resolve(r + "/blobs/index")));
            }
        }

        // A blob written in place through one recording's link (truncated here) is the store's file too: it is
        // not linked again, the next recording gets a fresh copy; the damaged one stays with a and b only.
        try (FileChannel ch = FileChannel.open(blobIn(tmp.resolve("a"), h1), StandardOpenOption.WRITE)) {
            ch.truncate(10);
        }
        assertNull(store.lookup(stamp));
        assertEquals(h1, write(tmp.resolve("d"), store, OLD_FILE, null));
        assertEquals(Files.size(OLD_FILE), Files.size(blobIn(tmp.resolve("d"), h1)));
        assertEquals(2, links(store.pathOf(h1)));
        assertEquals(2, links(blobIn(tmp.resolve("a"), h1)));
        try (Recording rec = Recording.open(tmp.resolve("d"))) {
            rec.verify();
        }
        assertEquals(h1, store.lookup(stamp));

        // A remembered stat whose blob is gone (removed by gc meanwhile) is not trusted: the file is copied again.
        Files.delete(store.pathOf(h1));
        assertNull(store.lookup(stamp));
        assertEquals(h1, write(tmp.resolve("c"), store, OLD_FILE, null));
        assertEquals(2, links(store.pathOf(h1)));
        assertEquals(h1, store.lookup(stamp));
    }

    @Test
    void aFreshFileIsLinkedButNotRememberedAndADeletedOneIsCopied(@TempDir Path tmp) throws Exception {
        SharedBlobs store = new SharedBlobs(tmp.resolve("home/blobs"));
        Path fresh = tmp.resolve("fresh.so");
        Files.writeString(fresh, "just built");
        int[] linked = new int[1];
        String h = write(tmp.resolve("a"), store, fresh, linked);
        assertEquals(1, linked[0]);
        assertEquals(2, links(store.pathOf(h)));
        assertNull(store.lookup(SharedBlobs.stamp(fresh)), "changed within the racy window: not remembered");

        // A file with no name left (a memfd, a deleted library) is per run: copied into the recording only.
        Path gone = tmp.resolve("deleted.so");
        Files.writeString(gone, "deleted while mapped");
        FileChannel open = FileChannel.open(gone, StandardOpenOption.READ);
        try (open) {
            Files.delete(gone);
            Path viaProc = Path.of("/proc/self/fd").resolve(Integer.toString(fdOf(gone)));
            assertNull(SharedBlobs.stamp(viaProc));
            String hd = write(tmp.resolve("b"), store, viaProc, linked);
            assertEquals(0, linked[0]);
            assertEquals(1, links(blobIn(tmp.resolve("b"), hd)));
            assertFalse(Files.exists(store.pathOf(hd)));
        }
    }

    /** The descriptor this process holds open on the (deleted) file. */
    private static int fdOf(Path deleted) throws Exception {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals(deleted + " (deleted)")) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (java.io.IOException closedMeanwhile) {
                    // the listing's own descriptor
                }
            }
        }
        throw new AssertionError("no descriptor open on " + deleted);
    }

    @Test
    void gcAndDropRemoveOnlyWhatNoRecordingLinks(@TempDir Path tmp) throws Exception {
        SharedBlobs store = new SharedBlobs(tmp.resolve("home/blobs"));
        String h = write(tmp.resolve("a"), store, OLD_FILE, null);
        write(tmp.resolve("b"), store, OLD_FILE, null);
        Files.createDirectories(store.dir().resolve("stat"));
        Files.createSymbolicLink(store.dir().resolve("stat/1-2-3-4-5"), Path.of("f".repeat(64)));

        SharedBlobs.Sweep dry = store.gc(true);
        assertEquals(0, dry.blobsRemoved());
        assertEquals(1, dry.blobsKept());
        assertEquals(Files.size(OLD_FILE), dry.bytesKept());
        assertEquals(1, dry.staleEntries());
        assertTrue(Files.exists(store.dir().resolve("stat/1-2-3-4-5"), LinkOption.NOFOLLOW_LINKS), "a dry run removes nothing");

        Recording.deleteTree(tmp.resolve("a"));
        assertEquals(0, store.dropUnreferenced(List.of(h)).blobsRemoved(), "b still links it");
        assertEquals(0, store.gc(false).blobsRemoved());
        assertFalse(Files.exists(store.dir().resolve("stat/1-2-3-4-5"), LinkOption.NOFOLLOW_LINKS));

        List<String> held = SharedBlobs.blobsOf(tmp.resolve("b"));
        assertEquals(List.of(h), held);
        Recording.deleteTree(tmp.resolve("b"));
        SharedBlobs.Sweep dropped = store.dropUnreferenced(held);
        assertEquals(1, dropped.blobsRemoved());
        assertEquals(Files.size(OLD_FILE), dropped.bytesRemoved());
        assertFalse(Files.exists(store.pathOf(h)));
        SharedBlobs.Sweep after = store.gc(false);
        assertEquals(0, after.blobsKept());
        assertEquals(1, after.staleEntries(), "the stat entry of the dropped blob");
        assertNull(store.lookup(SharedBlobs.stamp(OLD_FILE)));
    }

    @Test
    void aBlobCheckedOnceIsNotReadAgainUntilItsStampMoves(@TempDir Path tmp) throws Exception {
        SharedBlobs store = new SharedBlobs(tmp.resolve("home/blobs"));
        String h = write(tmp.resolve("a"), store, OLD_FILE, null);
        Path blob = blobIn(tmp.resolve("a"), h);
        SharedBlobs.Stamp stamp = SharedBlobs.stamp(blob);
        try (Recording rec = Recording.open(tmp.resolve("a"))) {
            rec.checkBlobsThrough(store);
            assertEquals(blob, rec.blob(h));
        }
        assertFalse(store.hashed(stamp, h), "just linked: its ctime is within the racy window, not remembered");
        store.rememberHashed(blob, stamp, h, System.currentTimeMillis() * 1_000_000L + 10_000_000_000L);
        assertTrue(store.hashed(stamp, h));
        assertFalse(store.hashed(stamp, "0".repeat(64)), "only for the hash it was checked against");

        // Damaged in place, same size: the ctime moves, the entry no longer matches, the blob is read and refused
        Files.setPosixFilePermissions(blob, PosixFilePermissions.fromString("rw-------"));
        byte[] bytes = Files.readAllBytes(blob);
        bytes[bytes.length / 2] ^= 1;
        Files.write(blob, bytes);
        assertFalse(store.hashed(SharedBlobs.stamp(blob), h));
        try (Recording rec = Recording.open(tmp.resolve("a"))) {
            rec.checkBlobsThrough(store);
            RecordingException e = assertThrows(RecordingException.class, () -> rec.blob(h));
            assertTrue(e.getMessage().contains("does not match its hash"), e.getMessage());
        }
        assertEquals(1, store.gc(false).staleEntries(), "the entry of the blob's old stamp can never match again");
        assertFalse(store.hashed(stamp, h));
    }

    @Test
    void aStoreOnAnotherFileSystemIsNotUsed(@TempDir Path tmp) throws Exception {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm));
        assumeTrue(!Files.getAttribute(shm, "unix:dev").equals(Files.getAttribute(tmp, "unix:dev")));
        Path storeDir = Files.createTempDirectory(shm, "deja-store");
        try {
            SharedBlobs store = new SharedBlobs(storeDir);
            int[] linked = new int[1];
            String h = write(tmp.resolve("a"), store, OLD_FILE, linked);
            assertEquals(0, linked[0]);
            assertEquals(1, links(blobIn(tmp.resolve("a"), h)));
            assertFalse(Files.exists(store.pathOf(h)), "nothing copied into a store it cannot link from");
        } finally {
            Recording.deleteTree(storeDir);
        }
    }
}
