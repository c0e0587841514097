package dev.deja.formats;

import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Path;
import static org.junit.jupiter.api.Assertions.*;

class ChronicleSmokeTest {
    @Test void roundTrip(@TempDir Path dir) {
        try (ChronicleQueue q = SingleChronicleQueueBuilder.single(dir.toFile()).build();
             ExcerptAppender a = q.createAppender()) {
            a.writeBytes(b -> b.writeInt(42).write(new byte[]{1,2,3}));
            ExcerptTailer t = q.createTailer();
            assertTrue(t.readBytes(b -> assertEquals(42, b.readInt())));
        }
    }
}
