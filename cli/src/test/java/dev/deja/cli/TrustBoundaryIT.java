package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What crosses between deja and the program it records or replays (issue 16): the program gets the
 * descriptors it would get without deja, never deja's own.
 */
class TrustBoundaryIT {

    @TempDir
    Path home;

    /** Runs {@code command} from a shell that gives it descriptor 7 (as a user's shell may), natively or under deja. */
    private static Runs.Result withFd7(Path home, List<String> command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "exec 7</dev/null; exec \"$@\"", "bash"));
        cmd.addAll(command);
        return Runs.run(home, cmd);
    }

    private static Set<String> lines(String text) {
        return new TreeSet<>(text.lines().map(String::trim).filter(l -> !l.isEmpty()).toList());
    }

    @Test
    void theProgramSeesTheDescriptorsItSeesWithoutDeja() throws Exception {
        Runs.Result natively = withFd7(null, List.of("ls", "/proc/self/fd"));
        assertEquals(0, natively.status(), natively.stderr());
        // ls's own directory descriptor (3), the standard ones and the one the shell gave: nothing else
        assertEquals(Set.of("0", "1", "2", "3", "7"), lines(natively.stdout()));

        Path rec = home.resolve("fds");
        Runs.Result recorded = withFd7(home, List.of(Runs.launcher().toString(), "record", "-q", "-o", rec.toString(),
                "--", "ls", "/proc/self/fd"));
        assertEquals(0, recorded.status(), recorded.stderr());
        assertEquals(lines(natively.stdout()), lines(recorded.stdout()),
                "under deja record the program sees exactly the descriptors it sees natively");

        Runs.Result replayed = withFd7(home, List.of(Runs.launcher().toString(), "replay", rec.toString()));
        assertEquals(0, replayed.status(), replayed.stderr());
        assertEquals(recorded.stdout(), replayed.stdout());
    }

    @Test
    void theProgramCannotWriteIntoTheJournal() throws Exception {
        // deja's journal once sat on descriptor 40, read-write, in the program: writing there broke the recording
        String script = "head -c 4096 /dev/urandom >&40; echo status $?; head -c 16 /dev/urandom >&41; echo status $?";
        Runs.Result natively = Runs.nativeRun("bash", "-c", script);
        Path rec = home.resolve("fd40");
        Runs.Result recorded = Runs.deja(home, "record", "-q", "-o", rec.toString(), "--", "bash", "-c", script);
        assertEquals(natively.status(), recorded.status(), recorded.stderr());
        assertEquals(natively.stdout(), recorded.stdout());
        assertEquals("status 1\nstatus 1\n", recorded.stdout());
        assertTrue(recorded.stderr().contains("40: Bad file descriptor"), recorded.stderr());

        Runs.Result checked = Runs.deja(home, "info", "--check", rec.toString());
        assertEquals(0, checked.status(), checked.stderr());
        assertTrue(checked.stdout().contains("checksums: all verified"), checked.stdout());
        Runs.Result replayed = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replayed.status(), replayed.stderr());
        assertEquals(recorded.stdout(), replayed.stdout());
    }
}
