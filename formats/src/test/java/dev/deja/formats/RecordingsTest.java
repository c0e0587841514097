package dev.deja.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RecordingsTest {

    @Test
    void home() {
        assertEquals(Path.of("/d"), Recordings.home(Map.of("DEJA_HOME", "/d", "XDG_DATA_HOME", "/x"), "/h"));
        assertEquals(Path.of("/x/deja"), Recordings.home(Map.of("XDG_DATA_HOME", "/x"), "/h"));
        assertEquals(Path.of("/h/.local/share/deja"), Recordings.home(Map.of("XDG_DATA_HOME", "relative"), "/h"));
        assertEquals(Path.of("/h/.local/share/deja"), Recordings.home(Map.of(), "/h"));
        assertNotNull(Recordings.home());
    }

    @Test
    void numbersIncreaseAndAreNeverReused(@TempDir Path home) throws Exception {
        Path a = Recordings.newRecordingDir(home, "/usr/bin/date");
        Path b = Recordings.newRecordingDir(home, "date");
        Path c = Recordings.newRecordingDir(home, "ls");
        assertEquals(home.resolve("date-1"), a);
        assertEquals(home.resolve("date-2"), b);
        assertEquals(home.resolve("ls-1"), c);
        Files.delete(b);
        assertEquals(home.resolve("date-3"), Recordings.newRecordingDir(home, "date"));
        Files.createDirectory(home.resolve("date-9"));   // made by hand
        assertEquals(home.resolve("date-10"), Recordings.newRecordingDir(home, "date"));
        assertEquals(home.resolve("weird_name-1"), Recordings.newRecordingDir(home, "weird name"));
        assertEquals(home.resolve("recording-1"), Recordings.newRecordingDir(home, ""));
    }

    @Test
    void aHomeThatIsAFileIsRefusedWithItsName(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        RecordingException e = assertThrows(RecordingException.class, () -> Recordings.resolve(null, file));
        assertTrue(e.getMessage().contains(file + " is not a directory"), e.getMessage());
        Recordings.requireUsable(tmp.resolve("missing"));   // created when the first recording is made
    }

    @Test
    void newRecordingsArePrivate(@TempDir Path home) throws Exception {
        Path dir = Recordings.newRecordingDir(home, "prog");
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    @Test
    void latestListAndResolve(@TempDir Path home) throws Exception {
        RecordingException none = assertThrows(RecordingException.class, () -> Recordings.resolve(null, home));
        assertTrue(none.getMessage().contains("latest"), none.getMessage());
        Path r1 = Recordings.newRecordingDir(home, "prog");
        try (RecordingWriter w = RecordingWriter.create(r1, RandomEvents.header())) {
            w.finish(RandomEvents.summary(0));
        }
        Recordings.pointLatest(home, r1);
        Path r2 = Recordings.newRecordingDir(home, "prog");
        try (RecordingWriter w = RecordingWriter.create(r2, RandomEvents.header())) {
            w.append(RandomEvents.getppid(1));
        }
        Recordings.pointLatest(home, r2);
        assertTrue(Files.isSymbolicLink(home.resolve("latest")));
        assertEquals(Path.of("prog-2"), Files.readSymbolicLink(home.resolve("latest")));
        assertEquals(r2.toRealPath(), Recordings.resolve("latest", home));
        assertEquals(r2.toRealPath(), Recordings.resolve(null, home));
        assertEquals(home.resolve("prog-1"), Recordings.resolve("prog-1", home));
        assertEquals(r1, Recordings.resolve(r1.toString(), home));
        RecordingException e = assertThrows(RecordingException.class, () -> Recordings.resolve("prog-7", home));
        assertTrue(e.getMessage().contains("prog-7"), e.getMessage());
        for (int i = 3; i <= 10; i++) {
            Path d = Recordings.newRecordingDir(home, "prog");
            try (RecordingWriter w = RecordingWriter.create(d, RandomEvents.header())) {
                w.finish(RandomEvents.summary(0));
            }
        }
        Files.createDirectory(home.resolve("not-a-recording"));
        List<Path> list = Recordings.list(home);
        assertEquals(10, list.size());
        assertEquals(home.resolve("prog-1"), list.get(0));
        assertEquals(home.resolve("prog-10"), list.get(9));
        try (Recording r = Recording.open(Recordings.resolve("latest", home))) {
            assertEquals(RecordingStatus.INCOMPLETE, r.status());
        }
        assertEquals(List.of(), Recordings.list(home.resolve("nowhere")));
    }
}
