package dev.deja.formats;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class DeleteTreeTest {

    private static Path tree(Path parent) throws Exception {
        Path root = Files.createDirectories(parent.resolve("replay"));
        for (int d = 0; d < 20; d++) {
            Path dir = Files.createDirectories(root.resolve("d" + d).resolve("inner"));
            for (int f = 0; f < 50; f++) Files.writeString(dir.resolve("f" + f), "x");
        }
        return root;
    }

    /** A replay's end and its Ctrl-C hook delete the same directory at once: neither throws, nothing is left. */
    @RepeatedTest(10)
    void twoThreadsDeletingOneTreeBothEndQuietly(@TempDir Path tmp) throws Exception {
        Path root = tree(tmp);
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable delete = () -> {
            try {
                go.await();
                Recording.deleteTree(root);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        };
        Thread a = Thread.ofPlatform().start(delete);
        Thread b = Thread.ofPlatform().start(delete);
        go.countDown();
        a.join();
        b.join();
        assertNull(failure.get());
        assertFalse(Files.exists(root));
    }

    @Test
    void aMissingTreeAndALinkAreNoTrouble(@TempDir Path tmp) throws Exception {
        Recording.deleteTree(tmp.resolve("never-made"));
        Path kept = Files.writeString(tmp.resolve("kept"), "keep me");
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createSymbolicLink(root.resolve("link"), kept);
        Files.createSymbolicLink(tmp.resolve("dirlink"), root);
        Recording.deleteTree(tmp.resolve("dirlink")); // the link goes, not what it points to
        assertTrue(Files.isDirectory(root));
        Recording.deleteTree(root);
        assertFalse(Files.exists(root));
        assertEquals("keep me", Files.readString(kept));
    }
}
