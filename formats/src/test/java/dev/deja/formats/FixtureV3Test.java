package dev.deja.formats;

import dev.deja.formats.event.Event;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SignalEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The stored recording of format version 3 (src/test/resources/fixtures/v3/tiny), written when
 * version 4 was made: version 2's events, a preemption with its deeper stack hash, and a signal a
 * recorded process sent (which a version-3 replay runs for real: the reader must keep saying 3).
 * To regenerate it (only when creating a new format version's fixture, never to "fix" this test):
 * run {@link #main} with the target directory.
 */
class FixtureV3Test {

    static RecordingHeader header() {
        RecordingHeader v1 = FixtureV1Test.header();
        return new RecordingHeader(3, v1.dejaVersion(), v1.id(), v1.command(), v1.environment(), v1.cwd(), v1.uid(),
                v1.gid(), v1.kernel(), v1.arch(), v1.hostname(), v1.startTimeNs());
    }

    static List<Event> events(String exeHash) {
        List<Event> events = new ArrayList<>(FixtureV2Test.events(exeHash));
        long t = 1_700_000_000_260_000_000L;
        long[] registers = new long[27];
        for (int i = 0; i < registers.length; i++) registers[i] = 0x2000L * i + 7;
        events.add(new ScheduleEvent(14, 500, 501, t, ScheduleEvent.Kind.PREEMPT, t + 3, registers,
                0x1122_3344_5566_7788L, 0x0fed_cba9_8765_4321L, 1_250_000));
        byte[] siginfo = new byte[128];
        siginfo[0] = 10;       // si_signo SIGUSR1
        siginfo[8] = -6;       // si_code SI_TKILL (-6), little-endian
        siginfo[9] = -1;
        siginfo[10] = -1;
        siginfo[11] = -1;
        siginfo[16] = (byte) 0xf4; // si_pid 500
        siginfo[17] = 0x01;
        events.add(new SignalEvent(15, 500, 501, t + 10, 10, -6, 500, 0, siginfo, true));
        return events;
    }

    static RecordingSummary summary() {
        return new RecordingSummary(RecordingStatus.COMPLETE, 1_700_000_000_300_000_000L, 3, 15, 1);
    }

    /** Writes the fixture into args[0] (which must not exist), its queue file cut after the data. */
    public static void main(String[] args) throws Exception {
        FixtureV2Test.write(Path.of(args[0]), header(), summary(), FixtureV3Test::events);
    }

    private static Path fixture() throws URISyntaxException {
        return Path.of(FixtureV3Test.class.getResource("/fixtures/v3/tiny/meta.json").toURI()).getParent();
    }

    @Test
    void readsTheStoredVersion3Recording(@TempDir Path tmp) throws Exception {
        FixtureV2Test.assertReads(fixture(), tmp, header(), summary(), FixtureV3Test::events);
    }
}
