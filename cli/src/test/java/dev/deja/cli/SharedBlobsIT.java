package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recordings hard-link their copied files from deja's blob store; rm and gc keep the store from growing. */
class SharedBlobsIT {

    private static int maxLinks(Path rec) throws Exception {
        try (Stream<Path> walk = Files.walk(rec.resolve("blobs"))) {
            int max = 0;
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (p.getFileName().toString().length() == 62 && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    max = Math.max(max, (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS));
                }
            }
            return max;
        }
    }

    @Test
    void twoRecordingsShareTheirFilesAndRmAndGcFreeThem(@TempDir Path home) throws Exception {
        for (int i = 1; i <= 2; i++) {
            Runs.Result r = Runs.deja(home, "record", "-q", "--", "echo", "hi " + i);
            assertEquals(0, r.status(), r.stderr());
        }
        assertEquals(3, maxLinks(home.resolve("echo-2")), "echo and libc: the store's copy and one link per recording");
        Runs.Result ls = Runs.deja(home, "ls");
        assertEquals(0, ls.status(), ls.stderr());
        assertTrue(ls.stdout().contains("\necho-1 ") && ls.stdout().contains("\necho-2 ") && !ls.stdout().contains("\nblobs"), ls.stdout());
        assertTrue(ls.stdout().matches("(?s).*\nblob store " + java.util.regex.Pattern.quote(home.resolve("blobs").toString())
                + ": [0-9.]+ [KM]iB shared by recordings \\(each SIZE counts the files it uses\\)\n"), ls.stdout());

        Runs.Result rm1 = Runs.deja(home, "rm", "echo-1");
        assertEquals(0, rm1.status(), rm1.stderr());
        assertEquals("deja: removed " + home.toRealPath().resolve("echo-1") + "\n", rm1.stderr(), "nothing freed: echo-2 uses it all");
        assertFalse(Files.exists(home.resolve("echo-1")));
        Runs.Result replay = Runs.deja(home, "replay", "echo-2");
        assertEquals(0, replay.status(), replay.stderr());
        assertEquals("hi 2\n", replay.stdout());

        Runs.Result rm2 = Runs.deja(home, "rm", "latest");
        assertEquals(0, rm2.status(), rm2.stderr());
        assertTrue(rm2.stderr().matches("(?s)deja: removed .*/echo-2\ndeja: freed [0-9.]+ [KM]iB in the blob store \\([0-9]+ files no other recording uses\\)\n"),
                rm2.stderr());
        assertFalse(Files.exists(home.resolve("latest"), LinkOption.NOFOLLOW_LINKS), "latest went with it");
        Runs.Result gc = Runs.deja(home, "gc");
        assertEquals(0, gc.status(), gc.stderr());
        assertTrue(gc.stdout().startsWith("removed 0 unused files (0 B) from " + home.resolve("blobs") + "; 0 (0 B) are in use"), gc.stdout());

        // --until-fail deletes the passing runs; what they linked stays in the store (the next run links it) until gc
        Runs.Result hunt = Runs.deja(home, "record", "-q", "--until-fail", "--max-runs", "2", "--", "true");
        assertEquals(0, hunt.status(), hunt.stderr());
        Runs.Result dry = Runs.deja(home, "gc", "--dry-run");
        assertTrue(dry.stdout().matches("would remove [1-9][0-9]* unused files? .*\n"), dry.stdout());
        Runs.Result gc2 = Runs.deja(home, "gc");
        assertTrue(gc2.stdout().matches("removed [1-9][0-9]* unused files? .*; 0 \\(0 B\\) are in use by recordings\n"), gc2.stdout());
        try (Stream<Path> left = Files.list(home.resolve("blobs"))) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().length() == 2).filter(p -> {
                try (Stream<Path> in = Files.list(p)) {
                    return in.findAny().isPresent();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList());
        }
    }

    @Test
    void rmRefusesWhatIsNotARecording(@TempDir Path home) throws Exception {
        Path plain = Files.createDirectories(home.resolve("photos"));
        Files.writeString(plain.resolve("cat.jpg"), "meow");
        Runs.Result r = Runs.deja(home, "rm", plain.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, r.status());
        assertEquals("deja: refusing to delete " + plain + ": it has no meta.json, so it is not a recording\n", r.stderr());
        assertTrue(Files.exists(plain.resolve("cat.jpg")));
        Runs.Result none = Runs.deja(home, "rm", "nothing-here");
        assertEquals(ExitCodes.DEJA_FAILURE, none.status());
        assertTrue(none.stderr().startsWith("deja: no recording named 'nothing-here'"), none.stderr());
    }
}
