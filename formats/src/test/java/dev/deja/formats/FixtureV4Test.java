package dev.deja.formats;

import dev.deja.formats.event.Event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

/**
 * The stored recording of format version 4 (src/test/resources/fixtures/v4/tiny), written when
 * version 5 was made: version 3's events under version 4, whose bytes are version 3's (its change
 * was what a kill between recorded processes means to replay). Its preemption has no memory
 * witness: a version-5 reader must find none. To regenerate it (only when creating a new format
 * version's fixture, never to "fix" this test): run {@link #main} with the target directory.
 */
class FixtureV4Test {

    static RecordingHeader header() {
        RecordingHeader v1 = FixtureV1Test.header();
        return new RecordingHeader(4, v1.dejaVersion(), v1.id(), v1.command(), v1.environment(), v1.cwd(), v1.uid(),
                v1.gid(), v1.kernel(), v1.arch(), v1.hostname(), v1.startTimeNs());
    }

    static List<Event> events(String exeHash) {
        return FixtureV3Test.events(exeHash);
    }

    /** Writes the fixture into args[0] (which must not exist), its queue file cut after the data. */
    public static void main(String[] args) throws Exception {
        FixtureV2Test.write(Path.of(args[0]), header(), FixtureV3Test.summary(), FixtureV4Test::events);
    }

    private static Path fixture() throws URISyntaxException {
        return Path.of(FixtureV4Test.class.getResource("/fixtures/v4/tiny/meta.json").toURI()).getParent();
    }

    @Test
    void readsTheStoredVersion4Recording(@TempDir Path tmp) throws Exception {
        FixtureV2Test.assertReads(fixture(), tmp, header(), FixtureV3Test.summary(), FixtureV4Test::events);
    }
}
