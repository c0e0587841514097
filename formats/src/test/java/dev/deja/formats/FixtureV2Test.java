package dev.deja.formats;

import dev.deja.formats.event.Event;
import dev.deja.formats.event.ScheduleEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The stored recording of format version 2 (src/test/resources/fixtures/v2/tiny): version 1's
 * events and two schedule events (a thread's start, a preemption with its registers and stack hash)
 * must read the same forever. To regenerate it (only when creating a new format version's fixture,
 * never to "fix" this test): run {@link #main} with the target directory.
 */
class FixtureV2Test {

    static RecordingHeader header() {
        RecordingHeader v1 = FixtureV1Test.header();
        return new RecordingHeader(2, v1.dejaVersion(), v1.id(), v1.command(), v1.environment(), v1.cwd(), v1.uid(),
                v1.gid(), v1.kernel(), v1.arch(), v1.hostname(), v1.startTimeNs());
    }

    static List<Event> events(String exeHash) {
        List<Event> events = new ArrayList<>(FixtureV1Test.events(exeHash));
        long t = 1_700_000_000_250_000_000L;
        long[] registers = new long[27];
        for (int i = 0; i < registers.length; i++) registers[i] = 0x1000L * i + i;
        events.add(ScheduleEvent.start(12, 500, 501, t));
        events.add(new ScheduleEvent(13, 500, 501, t + 1, ScheduleEvent.Kind.PREEMPT, t + 5, registers,
                0x0123_4567_89ab_cdefL, 3_500_000));
        return events;
    }

    static RecordingSummary summary() {
        return new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_000_300_000_000L, 3, 13, 1);
    }

    /** Writes the fixture into args[0] (which must not exist), its queue file cut after the data. */
    public static void main(String[] args) throws Exception {
        write(Path.of(args[0]), header(), summary(), FixtureV2Test::events);
    }

    /** Writes a fixture of version-1's executable blob and {@code events} into {@code dir}, cut after its data. */
    static void write(Path dir, RecordingHeader header, RecordingSummary summary, Events events) throws Exception {
        try (RecordingWriter w = RecordingWriter.create(dir, header)) {
            String hash = w.storeBlob(FixtureV1Test.EXE);
            if (!hash.equals(FixtureV1Test.exeHash())) throw new AssertionError(hash);
            for (Event e : events.of(hash)) w.append(e);
            w.finish(summary);
        }
        cutSparseTail(dir);
    }

    /** A fixture's events, given the hash of its executable blob. */
    interface Events {
        List<Event> of(String exeHash);
    }

    /** Reads a copy of stored fixture {@code fixture} (never the fixture itself) and checks all of it. */
    static void assertReads(Path fixture, Path tmp, RecordingHeader header, RecordingSummary summary, Events events)
            throws Exception {
        Path copy = tmp.resolve("tiny");
        FixtureV1Test.copyTree(fixture, copy);
        try (Recording r = Recording.open(copy)) {
            assertEquals(header, r.header());
            assertEquals(RecordingStatus.COMPLETE, r.status());
            assertEquals(summary, r.summary().orElseThrow());
            String hash = FixtureV1Test.exeHash();
            assertArrayEquals(FixtureV1Test.EXE, Files.readAllBytes(r.blob(hash)));
            try (EventReader er = r.events()) {
                for (Event expected : events.of(hash)) assertEquals(expected, er.next());
                assertNull(er.next());
            }
            r.verify();
        }
    }

    /** Cuts each queue file of recording {@code dir} after its data: the sparse tail is zeros (keeps git's copy small). */
    static void cutSparseTail(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir.resolve("journal"))) {
            for (Path q : s.filter(p -> p.toString().endsWith(".cq4")).toList()) {
                byte[] all = Files.readAllBytes(q);
                int last = all.length - 1;
                while (last >= 0 && all[last] == 0) last--;
                long keep = ((last + 1) + 4095) / 4096 * 4096;   // the sparse tail is zeros: keep the git file small
                try (FileChannel ch = FileChannel.open(q, StandardOpenOption.WRITE)) {
                    ch.truncate(keep);
                }
            }
        }
    }

    private static Path fixture() throws URISyntaxException {
        return Path.of(FixtureV2Test.class.getResource("/fixtures/v2/tiny/meta.json").toURI()).getParent();
    }

    @Test
    void readsTheStoredVersion2Recording(@TempDir Path tmp) throws Exception {
        assertReads(fixture(), tmp, header(), summary(), FixtureV2Test::events);
    }
}
