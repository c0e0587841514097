package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.formats.json.Json;
import dev.deja.samples.Samples;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deja diff} on the heisenbug samples as a user would run it: record until there is a passing
 * and a failing run (bounded), diff them, and check that the report leads with the failing write and
 * names the data that decided it (the random byte, the clock value, the pipe's order, the child's
 * status) as a cause.
 */
class DiffIT {
    /** Each sample passes and fails with probability at least 1/4 per run: 40 runs miss one with p < 1e-4. */
    private static final int MAX_RUNS = 40;

    @TempDir
    Path home;

    private int recordings;

    private record Pair(Path passing, Path failing) {
    }

    private Pair passAndFail(String sample) throws IOException, InterruptedException {
        Path passing = null;
        Path failing = null;
        for (int run = 0; run < MAX_RUNS && (passing == null || failing == null); run++) {
            Path rec = home.resolve(sample + "-" + recordings++);
            Runs.Result r = Runs.deja(home, "record", "-q", "-o", rec.toString(), "--", Samples.path(sample));
            if (r.status() == 0 && passing == null) passing = rec;
            else if (r.status() == 1 && failing == null) failing = rec;
            else assertTrue(r.status() == 0 || r.status() == 1, sample + " exited " + r.status() + ": " + r.stderr());
        }
        assertNotNull(passing, sample + " never passed in " + MAX_RUNS + " runs");
        assertNotNull(failing, sample + " never failed in " + MAX_RUNS + " runs");
        return new Pair(passing, failing);
    }

    /** The diff of a passing and a failing run; checks the common shape and returns the text. */
    private String diffLeadsWithTheFailure(String sample, Pair p) throws IOException, InterruptedException {
        return diffLeadsWithTheFailure(sample, p, "the runs part in 1 thread: ");
    }

    private String diffLeadsWithTheFailure(String sample, Pair p, String summary) throws IOException, InterruptedException {
        Runs.Result r = Runs.deja(home, "diff", p.passing().toString(), p.failing().toString());
        assertEquals(1, r.status(), "the runs differ; stderr: " + r.stderr() + "\n" + r.stdout());
        String out = r.stdout();
        assertTrue(out.startsWith("--- A " + p.passing() + " (exit status 0; ")
                && out.contains("\n+++ B " + p.failing() + " (exit status 1; "), out);
        // The first control-flow difference: the write of the failure message, made by B only.
        assertTrue(out.contains("\nthread 1 (A pid "), out);
        assertTrue(out.contains("): only in B (1 event), after A #"), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("  > ") && l.contains("write(2, \"" + sample + ": FAILED")), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("  ! ") && l.contains("A exit_group(0)")), out);
        assertTrue(out.contains("before it, the kernel gave this thread different data (what it consumed first, then most recent first):"), out);
        assertTrue(out.strip().lines().toList().getLast().startsWith(summary), out);
        return out;
    }

    /** The block of causes printed after the first control-flow difference. */
    private static String causes(String out) {
        int from = out.indexOf("before it, the kernel gave this thread different data");
        return out.substring(from, out.indexOf("\n\n", from));
    }

    @Test
    void aLowRandomByteIsTheCauseOfTheFailingWrite() throws Exception {
        Pair p = passAndFail("heisen_random");
        String out = diffLeadsWithTheFailure("heisen_random", p);
        assertTrue(causes(out).contains("getrandom: different output data (argument 1: 1 byte, first difference at byte 0)"),
                out);

        Runs.Result json = Runs.deja(home, "diff", "--json", p.passing().toString(), p.failing().toString());
        assertEquals(1, json.status(), json.stderr());
        Map<?, ?> root = (Map<?, ?>) Json.parse(json.stdout().strip());
        assertEquals(false, root.get("same_control_flow"));
        Map<?, ?> first = (Map<?, ?>) root.get("first");
        assertEquals("only_b", first.get("kind"));
        List<?> causes = (List<?>) first.get("causes");
        assertTrue(causes.stream().anyMatch(c -> ((Map<?, ?>) c).get("a").toString().startsWith("getrandom(")
                && ((Map<?, ?>) c).get("detail").toString().startsWith("argument 1: 1 byte")), json.stdout());
    }

    @Test
    void anOddClockValueIsTheCauseOfTheFailingWrite() throws Exception {
        String out = diffLeadsWithTheFailure("heisen_time", passAndFail("heisen_time"));
        assertTrue(causes(out).contains("clock_gettime: different output data"), out);
        assertTrue(causes(out).contains("A clock_gettime(CLOCK_REALTIME, {tv_sec="), out);
    }

    @Test
    void thePipesOrderIsTheCauseOfTheFailingWriteNotTheFutexWaits() throws Exception {
        // Events are numbered at their entry (docs/limits.md, "Order"): when both writes are in the kernel at once,
        // a passing run's writes may be numbered b before a (about 1 run in 12 here). Such a pair shows the race
        // only in the data it read; the test wants one whose numbering shows it too.
        Pair p = passAndFail("heisen_threads");
        for (int again = 0; again < 3 && !writesNumbered(p.passing(), "a", "b"); again++) p = passAndFail("heisen_threads");
        String out = diffLeadsWithTheFailure("heisen_threads", p);
        assertTrue(causes(out).contains("read: different output data (argument 2: 2 bytes, first difference at byte 0)"), out);
        assertTrue(causes(out).contains("A read(3, \"ab\", 2) = 2") && causes(out).contains("B read(3, \"ba\", 2) = 2"), out);
        assertTrue(out.contains("thread 1 (A pid") && !out.contains("thread 2 (A"), "only the main thread parts: " + out);

        // With --data --all the data differences come first, the thread order among them.
        Runs.Result all = Runs.deja(home, "diff", "--data", "--all", "-C", "0", p.passing().toString(), p.failing().toString());
        assertEquals(1, all.status(), all.stderr());
        int data = all.stdout().indexOf(": data differences\n");
        int control = all.stdout().indexOf("): only in B");
        assertTrue(data > 0 && control > data, all.stdout());
        assertTrue(all.stdout().lines().anyMatch(l -> l.startsWith("  ~ ") && l.contains(" read: different output data")),
                all.stdout());
        // The race itself: the two threads' writes to the pipe came in the other order.
        assertTrue(all.stdout().lines().anyMatch(l -> l.startsWith("  ~ ")
                && l.contains(" write: different order across threads (after thread ")), all.stdout());
    }

    /** Whether the recording's two pipe writes are numbered {@code first} then {@code second}. */
    private boolean writesNumbered(Path rec, String first, String second) throws IOException, InterruptedException {
        String dump = Runs.deja(home, "dump", rec.toString()).stdout();
        int a = dump.indexOf("write(4, \"" + first + "\"");
        int b = dump.indexOf("write(4, \"" + second + "\"");
        return a >= 0 && b > a;
    }

    @Test
    void aChildsStatusAcrossThreeProcessesLeadsBackToTheRandomByte() throws Exception {
        Pair p = passAndFail("heisen_fork");
        String out = diffLeadsWithTheFailure("heisen_fork", p, "the runs part in ");
        // The parent learnt the child's status from wait4; the shell exited otherwise after reading od's output.
        int parent = out.indexOf("\nthread 1 (A pid ");
        assertTrue(causes(out.substring(parent)).contains("wait4: different output data"), out);
        int shell = out.indexOf("\nthread 2 (A pid ");
        assertTrue(shell > 0, "the shell's process parts too: " + out);
        assertTrue(causes(out.substring(shell)).contains("read: different output data"), out);
        Runs.Result all = Runs.deja(home, "diff", "--data", "--all", "-C", "0", p.passing().toString(), p.failing().toString());
        assertEquals(1, all.status(), all.stderr());
        // od, the third process, read one different byte of /dev/urandom.
        int od = all.stdout().indexOf("\nthread 3 (A pid ");
        assertTrue(od > 0, all.stdout());
        assertTrue(all.stdout().indexOf(" read: different output data (argument 2: 1 byte, first difference at byte 0)", od) > 0,
                all.stdout());
    }

    @Test
    void aRecordingIsTheSameAsItselfAndAMissingOneIsAnError() throws Exception {
        Path rec = home.resolve("self");
        Runs.Result r = Runs.deja(home, "record", "-q", "-o", rec.toString(), "--", Samples.path("heisen_time"));
        assertTrue(r.status() == 0 || r.status() == 1, r.stderr());
        Runs.Result same = Runs.deja(home, "diff", "--data", rec.toString(), rec.toString());
        assertEquals(0, same.status(), same.stdout() + same.stderr());
        assertTrue(same.stdout().endsWith("\nthe runs are the same: no data differences\n"), same.stdout());

        Runs.Result missing = Runs.deja(home, "diff", rec.toString(), home.resolve("nope").toString());
        assertEquals(125, missing.status());
        assertTrue(missing.stderr().startsWith("deja: ") && missing.stderr().contains("nope"), missing.stderr());
        assertEquals("", missing.stdout());

        Runs.Result badContext = Runs.deja(home, "diff", "-C", "-1", rec.toString(), rec.toString());
        assertEquals(125, badContext.status());
        assertTrue(badContext.stderr().startsWith("deja: -C takes"), badContext.stderr());
    }
}
