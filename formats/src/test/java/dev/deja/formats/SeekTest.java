package dev.deja.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.deja.formats.event.Event;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A reader goes back to entries it has read, by position: what replay's index relies on. */
class SeekTest {

    @Test
    void seekReturnsTheEntryAtAnyPositionReadBefore(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        int n = 5_000;
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            for (int i = 1; i <= n; i++) w.append(RandomEvents.getppid(i));
            w.finish(RandomEvents.summary(n));
        }
        try (Recording r = Recording.open(dir); EventReader er = r.events()) {
            assertThrows(IllegalArgumentException.class, () -> er.seek(10), "nothing read yet");
            while (er.next() != null) {
                // one pass, as replay's index makes
            }
            Random rnd = new Random(16);
            for (int k = 0; k < 500; k++) {
                int pos = rnd.nextInt(n);
                er.seek(pos);
                assertEquals(pos, er.position());
                Event e = er.next();
                assertEquals(pos + 1, e.seq(), "entry " + pos);
                assertEquals(pos + 1, er.position());
            }
            // A few entries ahead, as a replay reading threads in turn seeks: passed over by their headers
            for (int k = 0; k < 300; k++) {
                int pos = rnd.nextInt(n - 80);
                er.seek(pos);
                assertEquals(pos + 1, er.next().seq());
                int ahead = pos + 1 + rnd.nextInt(40); // 0 to 39 entries further: both sides of the skip's limit
                er.seek(ahead);
                assertEquals(ahead, er.position());
                assertEquals(ahead + 1, er.next().seq(), "entry " + ahead + " after " + pos);
            }
            er.seek(n - 1);
            assertEquals(n, er.next().seq());
            assertNull(er.next(), "the end again after the last entry");
            assertThrows(IllegalArgumentException.class, () -> er.seek(n + 1));
        }
    }
}
