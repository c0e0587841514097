package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/deja-jdk/bin/java} as Gradle's {@code Test.executable}, called the way Gradle calls it (no
 * Gradle on the build machine): the toolchain probe ({@code java -Xmx32m -Xms32m -cp . JavaProbe} in a
 * temporary directory) runs unrecorded, and the test worker ({@code java -Xmx512m ... @ARGFILE
 * worker.org.gradle.process.internal.worker.GradleWorkerMain 'Gradle Test Executor N'}, the class path in the
 * argument file, from the project's directory) is recorded as {@code build/deja/PROJECT-gradle-test-executor-N},
 * deleted when it passed and kept when a test failed. The worker here is a tiny main of that name that prints
 * its arguments and, asked to, writes the failed test's markers as deja-junit would.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class GradleWorkerIT {
    @TempDir
    static Path work;

    private static Path classes;
    private static Path project;

    private static final String WORKER = """
            package worker.org.gradle.process.internal.worker;

            import java.io.FileOutputStream;
            import java.nio.charset.StandardCharsets;

            public class GradleWorkerMain {
                public static void main(String[] args) throws Exception {
                    System.out.println("worker " + String.join("|", args));
                    String fd = System.getenv("DEJA_MARKER_FD");
                    if (Boolean.getBoolean("fail") && fd != null) {
                        String id = "[engine:junit-jupiter]/[class:acme.CacheTest]/[method:evicts()]";
                        try (FileOutputStream out = new FileOutputStream("/proc/self/fd/" + fd)) {
                            out.write(("deja-test\\t1\\tstart\\ttest\\t" + id + "\\tacme.CacheTest#evicts\\tevicts()\\n")
                                    .getBytes(StandardCharsets.UTF_8));
                            out.write(("deja-test\\t1\\tend\\ttest\\t" + id + "\\tacme.CacheTest#evicts\\tevicts()\\tfailed\\tboom\\n")
                                    .getBytes(StandardCharsets.UTF_8));
                        }
                    }
                }
            }
            """;

    private static final String PROBE = """
            public class JavaProbe {
                public static void main(String[] args) {
                    System.out.println("GRADLE_PROBE_VALUE:" + System.getProperty("java.home"));
                }
            }
            """;

    @BeforeAll
    static void compile() throws IOException {
        Path src = Files.createDirectories(work.resolve("src/worker/org/gradle/process/internal/worker"));
        Files.writeString(src.resolve("GradleWorkerMain.java"), WORKER);
        Files.writeString(work.resolve("src/JavaProbe.java"), PROBE);
        classes = Files.createDirectories(work.resolve("classes"));
        int status = ToolProvider.getSystemJavaCompiler().run(null, null, null, "--release", "17", "-d", classes.toString(),
                src.resolve("GradleWorkerMain.java").toString(), work.resolve("src/JavaProbe.java").toString());
        assertEquals(0, status, "compiling the fake worker");
        project = Files.createDirectories(work.resolve("cache"));
        Files.writeString(project.resolve("build.gradle.kts"), "plugins { java }\n");
    }

    private static Path wrapper() {
        return Runs.launcher().resolveSibling("scripts/deja-jdk/bin/java");
    }

    /** Runs the wrapper with {@code args} in {@code dir}, as Gradle's daemon would: a finished run's status and output. */
    private static Runs.Result gradleRuns(Path dir, List<String> args) throws IOException, InterruptedException {
        return gradleRuns(dir, args, wrapper().toString());
    }

    /** Runs {@code program} with {@code args} in {@code dir}, in the environment Gradle's daemon gives its workers. */
    private static Runs.Result gradleRuns(Path dir, List<String> args, String program) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(program);
        cmd.addAll(args);
        Path out = work.resolve("out.txt");
        Path err = work.resolve("err.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("DEJA_JAVA_REAL", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        pb.environment().put("DEJA_HOME", Files.createDirectories(work.resolve("home")).toString());
        pb.environment().remove("DEJA_MARKER_FD");
        pb.environment().remove("DEJA_JAVA_WRAPPED");
        pb.environment().remove("DEJA_JAVA_RECORDINGS");
        Process p = pb.start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("the wrapper did not end within 3 min: " + cmd);
        }
        return new Runs.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** Gradle's test worker command line for executor {@code n}; the class path (and {@code jvmArgs}) in an argument file. */
    private static List<String> worker(int n, String... jvmArgs) throws IOException {
        Path argfile = work.resolve("gradle-worker-classpath" + n + ".txt");
        List<String> lines = new ArrayList<>(List.of(jvmArgs));
        lines.add("-cp");
        lines.add(classes.toString());
        Files.write(argfile, lines);
        return List.of("-Dorg.gradle.internal.worker.tmpdir=" + project.resolve("build/tmp/test/work"), "-Xmx512m",
                "-Dfile.encoding=UTF-8", "-Duser.country=US", "-Duser.language=en", "-ea", "-XX:TieredStopAtLevel=1",
                "@" + argfile, "worker.org.gradle.process.internal.worker.GradleWorkerMain", "'Gradle Test Executor " + n + "'");
    }

    private static List<String> recordings() throws IOException {
        Path dir = project.resolve("build/deja");
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * The whole build recorded ({@code deja record -- gradle test}): the wrapper, finding itself traced, runs the
     * real java in that recording (no recording of its own) and still hands it the marker descriptor, so the
     * build's recording has the tests.
     */
    @Test
    void underAWholeBuildRecordingTheWorkerRunsInItWithItsMarkers() throws IOException, InterruptedException {
        Path other = Files.createDirectories(work.resolve("other"));
        Files.writeString(other.resolve("build.gradle"), "plugins { id 'java' }\n");
        Path rec = work.resolve("whole-build");
        List<String> args = new ArrayList<>(List.of("record", "-q", "-o", rec.toString(), "--", wrapper().toString()));
        args.addAll(worker(7, "-Dfail=true"));
        Runs.Result r = gradleRuns(other, args, Runs.launcher().toString());
        assertEquals(0, r.status(), r.stderr());
        assertEquals("worker 'Gradle Test Executor 7'\n", r.stdout(), r.stderr());
        assertFalse(Files.exists(other.resolve("build/deja")), "no recording of the wrapper's own under a tracer");
        Runs.Result tests = Runs.deja(work.resolve("home"), "dump", "--tests", rec.toString());
        assertTrue(tests.stdout().contains("failed     acme.CacheTest#evicts: boom\n"), tests.stdout() + tests.stderr());
    }

    @Test
    void theToolchainProbeRunsUnrecorded() throws IOException, InterruptedException {
        Path tmp = Files.createDirectories(work.resolve("jvm-probe"));
        Files.copy(classes.resolve("JavaProbe.class"), tmp.resolve("JavaProbe.class"));
        Runs.Result r = gradleRuns(tmp, List.of("-Xmx32m", "-Xms32m", "-cp", ".", "JavaProbe"));
        assertEquals(0, r.status(), r.stderr());
        assertEquals("GRADLE_PROBE_VALUE:" + System.getProperty("java.home") + "\n", r.stdout(),
                "the probe sees the real JDK's properties: " + r.stderr());
        assertFalse(Files.exists(tmp.resolve("build")) || Files.exists(tmp.resolve("target")), "nothing recorded for the probe");
    }

    @Test
    void aPassingWorkerIsDeletedAndAFailingOneKeptUnderItsExecutorsName() throws IOException, InterruptedException {
        Runs.Result pass = gradleRuns(project, worker(1));
        assertEquals(0, pass.status(), pass.stderr());
        assertEquals("worker 'Gradle Test Executor 1'\n", pass.stdout(), "the worker's own output, untouched: " + pass.stderr());
        assertEquals("", pass.stderr(), "a passing worker: nothing from deja");
        assertEquals(List.of(), recordings(), "a passing worker's recording is deleted");

        Runs.Result fail = gradleRuns(project, worker(2, "-Dfail=true"));
        assertEquals(0, fail.status(), "the worker's own status (Gradle judges the tests by its results): " + fail.stderr());
        assertEquals("deja: kept recording build/deja/cache-gradle-test-executor-2 (1 test failed)\n", fail.stderr());
        assertEquals(List.of("cache-gradle-test-executor-2"), recordings());

        Runs.Result tests = Runs.deja(work.resolve("home"), "dump", "--tests", project.resolve("build/deja/cache-gradle-test-executor-2").toString());
        assertEquals(0, tests.status(), tests.stderr());
        assertTrue(tests.stdout().matches("(?s)#\\d+-#\\d+ +failed +acme\\.CacheTest#evicts: boom\n1 tests?: 0 passed, 1 failed.*"), tests.stdout());

        // The same executor number again (a later build without clean): the first free name after it.
        Runs.Result again = gradleRuns(project, worker(2, "-Dfail=true"));
        assertEquals("deja: kept recording build/deja/cache-gradle-test-executor-2-2 (1 test failed)\n", again.stderr());
    }
}
