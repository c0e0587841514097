package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample {@code samples/java/flaky-cache} (docs/walkthroughs.md, "A flaky Java test, from CI to the
 * line"): a copy of it is built offline and its tests run under {@code scripts/deja-java} with
 * {@code --chaos}, at most {@link #MAX_BUILDS} times, until a fork fails and its recording is kept. The
 * race fails nearly every chaos run (it fails natively only sometimes). The kept recording lists the
 * failed test with the race's message, and {@code deja replay} repeats the failure: the replayed fork
 * reports the same assertion to Surefire, with the recorded status, at each of {@link #REPLAYS} replays.
 * The five reads of prices.txt in the recording show the race: apple was loaded twice.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class FlakySampleIT {
    private static final int MAX_BUILDS = 3;
    private static final int REPLAYS = 2;
    private static final Duration BUILD_LIMIT = Duration.ofMinutes(2);
    private static final String MESSAGE =
            "prices.txt read once for pear and once for apple ==> expected: <2> but was: <3>";

    @TempDir
    Path work;

    @Test
    void aChaosRunFailsAndItsRecordingReplaysTheFailure() throws IOException, InterruptedException {
        Path repo = Runs.launcher().getParent();
        assertTrue(Files.isRegularFile(repo.resolve("junit/target/deja-junit-0.1.0-SNAPSHOT.jar")),
                "build the junit module first (mvn -pl junit,cli -am verify)");
        Path project = work.resolve("flaky-cache");
        copy(repo.resolve("samples/java/flaky-cache"), project);
        Path home = Files.createDirectories(work.resolve("home"));

        Path kept = null;
        List<String> notes = new ArrayList<>();
        for (int i = 1; i <= MAX_BUILDS && kept == null; i++) {
            String out = mvnTest(project, repo, home, i);
            Matcher m = Pattern.compile("deja: kept recording (\\S+) \\(1 test failed\\)").matcher(out);
            if (!m.find()) {
                if (out.contains("tests failed; exit status 137)")) {
                    // deja-java's --timeout ended a fork recorded under chaos (seen once on a slow CI run:
                    // the fork took over 90 s): its recording is kept, but it shows no race. Hunt on.
                    notes.add("build " + i + ": the fork reached --timeout 90s");
                    continue;
                }
                assertTrue(out.contains("Tests run: 2, Failures: 0"), "a build that kept nothing passed:\n" + out);
                notes.add("build " + i + " passed");
                continue;
            }
            assertTrue(out.contains("Tests run: 2, Failures: 1"), "Surefire reports the failure as without deja:\n" + out);
            assertTrue(out.contains(MESSAGE), out);
            Path rec = project.resolve(m.group(1));
            // A fork deja could not finish tracing is kept too, incomplete: hunt on for a whole one.
            if (Runs.deja(home, "info", rec.toString()).stdout().contains("status:    complete")) kept = rec;
            else notes.add("build " + i + ": recording incomplete");
        }
        assertNotNull(kept, "no failing fork recorded whole in " + MAX_BUILDS + " chaos builds: " + notes);
        checkRecording(home, kept);

        // Every replay repeats the failure, the recorded status included. Until 2026-12-06 a replay that diverged at a
        // recorded preemption was tried again and the test skipped when all did (a replayer bug: cpuid's APIC IDs, then
        // its topology leaves, in a compiler thread's memory witness; docs/replay.md); now a divergence fails it.
        for (int r = 1; r <= REPLAYS; r++) {
            Runs.Result replay = replay(home, kept, work.resolve("replay-" + r));
            if (replay.status() != 0) {
                // Kept for whoever looks into it: packed (the recording's files are in this test's deja home, which goes).
                Path pack = repo.resolve("cli/target/flaky-sample-diverged.deja");
                Runs.Result packed = Runs.deja(home, "pack", "-f", "-q", "-o", pack.toString(), kept.toString());
                String where = packed.status() == 0 ? " (recording kept: " + pack + ")" : "";
                fail("replay " + r + " ended with status " + replay.status() + ", not the fork's recorded 0 (Surefire's"
                        + " forks exit 0 when a test fails)" + where + ":\n" + replay.stderr());
            }
            assertTrue(replay.stdout().contains(MESSAGE), "the replayed fork reports the same failure to Surefire");
        }
    }

    /** The kept recording lists the failed test with its message, and holds the race. */
    private static void checkRecording(Path home, Path kept) throws IOException, InterruptedException {
        Runs.Result tests = Runs.deja(home, "dump", "--tests", kept.toString());
        assertEquals(0, tests.status(), tests.stderr());
        assertTrue(tests.stdout().matches("(?s).*#\\d+-#\\d+ +failed +acme\\.PriceCacheTest#twoReadersLoadOnce: "
                + "org\\.opentest4j\\.AssertionFailedError: " + Pattern.quote(MESSAGE) + "\n.*"), tests.stdout());
        assertTrue(tests.stdout().contains("2 tests: 1 passed, 1 failed"), tests.stdout());
        // Five reads of prices.txt: readsPrices' two, the warm-up's, and both readers' (apple loaded twice).
        Runs.Result dump = Runs.deja(home, "dump", kept.toString());
        assertEquals(5, Pattern.compile("openat\\(AT_FDCWD, \"[^\"]*/prices\\.txt\", O_RDONLY\\)")
                .matcher(dump.stdout()).results().count(), "the file is read once too often");
    }

    /**
     * {@code deja replay REC}, its output decoded leniently: the fork's stdout is Surefire's channel, not
     * all of it UTF-8.
     */
    private static Runs.Result replay(Path home, Path rec, Path out) throws IOException, InterruptedException {
        Path stdout = Path.of(out + ".out");
        Path stderr = Path.of(out + ".err");
        ProcessBuilder pb = new ProcessBuilder(Runs.launcher().toString(), "replay", rec.toString())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("DEJA_HOME", home.toString());
        Process p = pb.start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("deja replay did not end within 2 min");
        }
        return new Runs.Result(p.exitValue(), new String(Files.readAllBytes(stdout), StandardCharsets.UTF_8),
                new String(Files.readAllBytes(stderr), StandardCharsets.UTF_8));
    }

    private static String mvnTest(Path project, Path repo, Path home, int run) throws IOException, InterruptedException {
        Path out = project.resolve("mvn-" + run + ".out");
        ProcessBuilder pb = new ProcessBuilder("mvn", "-B", "-o", "test", "-Ddeja.root=" + repo)
                .directory(project.toFile()).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("DEJA_HOME", home.toString());
        pb.environment().put("DEJA_JAVA_ARGS", "--chaos --timeout 90s");
        pb.environment().remove("DEJA_MARKER_FD");
        pb.environment().remove("DEJA_JAVA_OFF");
        long started = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(BUILD_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("mvn test under deja-java did not end within " + BUILD_LIMIT.toMinutes() + " min");
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        System.out.printf("flaky-cache build %d under deja-java --chaos: status %d in %.1f s%n", run, p.exitValue(),
                (System.nanoTime() - started) / 1e9);
        return text;
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path rel = from.relativize(f);
                if (rel.startsWith("target")) continue;
                Path dest = to.resolve(rel.toString());
                if (Files.isDirectory(f)) Files.createDirectories(dest);
                else Files.copy(f, dest);
            }
        }
    }
}
