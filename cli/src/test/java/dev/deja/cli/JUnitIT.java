package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Maven build (offline, with the plugins and JUnit 5 in ~/.m2) whose Surefire forks run under
 * {@code scripts/deja-java} with deja-junit's listener: one fork per test class, one class passing and
 * one failing. The build runs once (a JVM under deja is slow) and every case reads its result: the
 * passing fork's recording is deleted, the failing one's kept and announced, its markers land in the
 * recording, and {@code deja dump --tests} and the shell's {@code tests}, {@code goto test:} and
 * {@code break test} find them.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class JUnitIT {
    private static final Duration BUILD_LIMIT = Duration.ofMinutes(6);

    @TempDir
    static Path work;

    private static Path project;
    private static Runs.Result build;
    private static Path kept;

    private static final String POM = """
            <?xml version="1.0" encoding="UTF-8"?>
            <project xmlns="http://maven.apache.org/POM/4.0.0">
              <modelVersion>4.0.0</modelVersion>
              <groupId>acme</groupId>
              <artifactId>cache</artifactId>
              <version>1</version>
              <properties>
                <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
                <maven.compiler.release>17</maven.compiler.release>
              </properties>
              <dependencies>
                <dependency><groupId>org.junit.jupiter</groupId><artifactId>junit-jupiter</artifactId><version>5.14.1</version><scope>test</scope></dependency>
              </dependencies>
              <build>
                <plugins>
                  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
                  <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.14.0</version></plugin>
                  <plugin>
                    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId><version>3.5.4</version>
                    <configuration>
                      <jvm>${deja.java}</jvm>
                      <environmentVariables><DEJA_JAVA_REAL>${java.home}/bin/java</DEJA_JAVA_REAL></environmentVariables>
                      <forkCount>1</forkCount>
                      <reuseForks>false</reuseForks>
                      <additionalClasspathElements><additionalClasspathElement>${deja.junit.jar}</additionalClasspathElement></additionalClasspathElements>
                    </configuration>
                  </plugin>
                </plugins>
              </build>
            </project>
            """;

    private static final String PASSING = """
            package acme;
            import static org.junit.jupiter.api.Assertions.assertEquals;
            import org.junit.jupiter.api.Test;
            class PassTest {
                @Test void adds() { assertEquals(2, 1 + 1); }
            }
            """;

    private static final String FAILING = """
            package acme;
            import static org.junit.jupiter.api.Assertions.assertEquals;
            import org.junit.jupiter.api.Test;
            class CacheTest {
                @Test void keeps() { assertEquals(1, 1); }
                @Test void evicts() { assertEquals(1, 2, "evicted\\tthe wrong entry"); }
            }
            """;

    @BeforeAll
    static void buildOnce() throws IOException, InterruptedException {
        Path repo = Runs.launcher().getParent();
        Path jar;
        try (Stream<Path> jars = Files.list(repo.resolve("junit/target"))) {
            jar = jars.filter(p -> p.getFileName().toString().matches("deja-junit-.*\\d(-SNAPSHOT)?\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("junit/target/deja-junit-*.jar is missing: build the junit module first"));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new AssertionError("junit/target is missing: build the junit module first (mvn -pl junit,cli -am verify)", e);
        }
        project = work.resolve("cache");
        Path tests = Files.createDirectories(project.resolve("src/test/java/acme"));
        Files.writeString(project.resolve("pom.xml"), POM);
        Files.writeString(tests.resolve("PassTest.java"), PASSING);
        Files.writeString(tests.resolve("CacheTest.java"), FAILING);

        List<String> cmd = List.of("mvn", "-B", "-o", "test",
                "-Ddeja.java=" + repo.resolve("scripts/deja-jdk/bin/java"), "-Ddeja.junit.jar=" + jar);
        Path out = work.resolve("mvn.out");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(project.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("DEJA_HOME", Files.createDirectories(work.resolve("home")).toString());
        pb.environment().remove("DEJA_MARKER_FD");
        long started = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(BUILD_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("mvn test under deja-java did not end within " + BUILD_LIMIT.toMinutes() + " min");
        }
        build = new Runs.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), "");
        System.out.printf("mvn test under deja-java: status %d in %.1f s%n%s%n", build.status(),
                (System.nanoTime() - started) / 1e9, build.stdout());
        Matcher m = Pattern.compile("deja: kept recording (\\S+) \\((\\d+) tests? failed\\)").matcher(build.stdout());
        kept = m.find() ? project.resolve(m.group(1)) : null;
    }

    @Test
    void theFailingForkIsKeptAndThePassingOneDeleted() throws IOException {
        assertTrue(build.status() != 0, "the build fails as without deja (a test failed):\n" + build.stdout());
        assertTrue(build.stdout().contains("Tests run: 3, Failures: 1"), "Surefire talked to both forks:\n" + build.stdout());
        Matcher m = Pattern.compile("deja: kept recording (target/deja/cache-surefire-\\d+) \\(1 test failed\\)")
                .matcher(build.stdout());
        assertTrue(m.find(), "the kept recording is announced:\n" + build.stdout());
        List<String> left = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(project.resolve("target/deja"))) {
            dirs.forEach(d -> left.add(d.getFileName().toString()));
        }
        assertEquals(List.of(Path.of(m.group(1)).getFileName().toString()), left,
                "only the failing fork's recording is left (the passing fork's is deleted)");
        assertTrue(Files.isRegularFile(kept.resolve("meta.json")), "a whole recording: " + kept);
    }

    @Test
    void dumpListsTheMarkedTests() throws IOException, InterruptedException {
        Runs.Result r = Runs.deja(work.resolve("home"), "dump", "--tests", kept.toString());
        assertEquals(0, r.status(), r.stderr());
        String[] lines = r.stdout().split("\n");
        assertEquals(3, lines.length, r.stdout());
        assertTrue(r.stdout().matches("(?s).*#\\d+-#\\d+ +failed +acme\\.CacheTest#evicts: "
                + "org\\.opentest4j\\.AssertionFailedError: evicted\\\\tthe wrong entry ==> expected: <1> but was: <2>\n.*"),
                "the failed test, its events and its message, on one line:\n" + r.stdout());
        assertTrue(r.stdout().matches("(?s).*#\\d+-#\\d+ +passed +acme\\.CacheTest#keeps\n.*"), r.stdout());
        assertEquals("2 tests: 1 passed, 1 failed, 0 aborted, 0 skipped", lines[2]);
        Runs.Result threads = Runs.deja(work.resolve("home"), "dump", "--threads", kept.toString());
        assertEquals(0, threads.status(), threads.stderr());
        assertTrue(threads.stdout().startsWith("TID      PID      EVENTS"), threads.stdout());
        assertTrue(Pattern.compile("(?m)^\\d+ +\\d+ +#\\d+-#\\d+ +\\d+  .*\"VM Thread\"$").matcher(threads.stdout()).find(),
                "dump --threads names HotSpot's threads:\n" + threads.stdout());
        assertTrue(threads.stdout().matches("(?s).*\n\\d+ threads in \\d+ process\\(es\\), \\d+ named\n"), threads.stdout());
        Runs.Result raw = Runs.deja(work.resolve("home"), "dump", kept.toString());
        assertTrue(raw.stdout().contains("write(") && raw.stdout().contains("\"deja-test\\t1\\tstart\\ttest\\t"),
                "each marker is a recorded write(2)");
    }

    @Test
    void theShellGoesToTestsAndStopsAtEach() throws IOException, InterruptedException {
        String script = String.join("\n", "tests", "goto test:CacheTest#evicts", "goto test:CacheTest#evicts end",
                "goto test:nosuch", "break test", "run", "continue", "continue", "threads", "ps", "");
        Path commands = Files.writeString(work.resolve("commands"), script);
        Runs.Result r = Runs.deja(work.resolve("home"), "debug", "--no-exec", "-x", commands.toString(), kept.toString());
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        String out = r.stdout();
        Matcher start = Pattern.compile("start of acme\\.CacheTest#evicts: #(\\d+)\n#(\\d+) \\[pid \\d+\\] write\\(\\d+, "
                + "\"deja-test\\\\t1\\\\tstart").matcher(out);
        assertTrue(start.find(), "goto test:ID stops at the test's start marker:\n" + out);
        assertEquals(start.group(1), start.group(2));
        assertTrue(Pattern.compile("end of acme\\.CacheTest#evicts \\(failed\\): #(\\d+)\n#\\1 \\[pid \\d+\\] write\\(")
                .matcher(out).find(), "goto test:ID end stops at its end marker:\n" + out);
        assertTrue(out.contains("error: goto test:nosuch: no such test"), out);
        assertTrue(out.contains("Breakpoint 1: test (2 recorded calls match)"), out);
        assertEquals(2, Pattern.compile("Breakpoint 1, #\\d+ \\[pid \\d+\\] write\\(\\d+, \"deja-test\\\\t1\\\\tstart")
                .matcher(out).results().count(), "break test stops at each test's start:\n" + out);
        assertTrue(Pattern.compile("tid \\d+ \"[^\"]+\" \\(pid \\d+\\)").matcher(out).find(),
                "threads shows the names HotSpot gave its threads:\n" + out);
        assertTrue(Pattern.compile("\n      threads: \\d+ \"[^\"]+\"(, \\d+ \"[^\"]+\")+\n").matcher(out).find(),
                "ps names the JVM's running threads:\n" + out);
    }

    @Test
    void aLiveReplayGoesToTheFailingTest() throws IOException, InterruptedException {
        Path commands = Files.writeString(work.resolve("live"), "goto test:evicts\ninfo\n");
        Runs.Result r = Runs.dejaWithin(Duration.ofMinutes(3), work.resolve("home"), "debug", "-x", commands.toString(),
                kept.toString());
        assertEquals(0, r.status(), r.stdout() + r.stderr());
        // The replayed JVM's own output may come between the two lines.
        assertTrue(Pattern.compile("(?s)start of acme\\.CacheTest#evicts: #(\\d+)\n.*#\\1 \\[pid").matcher(r.stdout()).find(),
                "the replay runs to the test's start:\n" + r.stdout());
    }
}
