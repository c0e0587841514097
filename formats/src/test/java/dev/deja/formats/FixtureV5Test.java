package dev.deja.formats;

import dev.deja.formats.event.Event;
import dev.deja.formats.event.ScheduleEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The stored recording of format version 5 (src/test/resources/fixtures/v5/tiny), written by the
 * version-5 writer when version 6 was made: version 4's events and a preemption with a memory witness
 * (two registers' windows and two pointers). Version 6 changed no bytes, only what the witness's hashes
 * cover (cpuid's APIC IDs left out): the reader must keep saying 5, for replay to hash this witness as
 * version 5 did. To regenerate it (only when creating a new format version's fixture, never to "fix"
 * this test): run {@link #main} with the target directory.
 */
class FixtureV5Test {

    static RecordingHeader header() {
        RecordingHeader v1 = FixtureV1Test.header();
        return new RecordingHeader(5, v1.dejaVersion(), v1.id(), v1.command(), v1.environment(), v1.cwd(), v1.uid(),
                v1.gid(), v1.kernel(), v1.arch(), v1.hostname(), v1.startTimeNs());
    }

    static List<Event> events(String exeHash) {
        List<Event> events = new ArrayList<>(FixtureV4Test.events(exeHash));
        long t = 1_700_000_000_270_000_000L;
        long[] registers = new long[27];
        for (int i = 0; i < registers.length; i++) registers[i] = 0x3000L * i + 5;
        events.add(new ScheduleEvent(16, 500, 501, t, ScheduleEvent.Kind.PREEMPT, t + 4, registers,
                0x2233_4455_6677_8899L, 0x1fed_cba9_8765_4320L, 2_500_000, (1 << 1) | (1 << 10),
                new long[] {0x5555_5555_a100L, 0x5555_5555_a1c0L}, 0x0123_4567_89ab_cdefL, 0x7edc_ba98_7654_3210L));
        return events;
    }

    static RecordingSummary summary() {
        return new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_000_300_000_000L, 3, 16, 1);
    }

    /** Writes the fixture into args[0] (which must not exist), its queue file cut after the data. */
    public static void main(String[] args) throws Exception {
        FixtureV2Test.write(Path.of(args[0]), header(), summary(), FixtureV5Test::events);
    }

    private static Path fixture() throws URISyntaxException {
        return Path.of(FixtureV5Test.class.getResource("/fixtures/v5/tiny/meta.json").toURI()).getParent();
    }

    @Test
    void readsTheStoredVersion5Recording(@TempDir Path tmp) throws Exception {
        FixtureV2Test.assertReads(fixture(), tmp, header(), summary(), FixtureV5Test::events);
    }
}
