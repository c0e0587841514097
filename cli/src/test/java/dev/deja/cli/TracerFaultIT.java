package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tracers that misbehave, one bad thing each (docs/protocol.md, "Limits and misbehaving tracers"):
 * deja must end within a bound, say what happened in one {@code deja:} line (never a Java stack
 * trace), exit with a documented status, and leave no process of the tracer running. Each tracer
 * names a unique {@code sleep} (its "nap") so that its processes can be found afterwards.
 */
class TracerFaultIT {

    @TempDir
    Path tmp;

    private static final Duration BOUND = Duration.ofSeconds(90);

    private static final String PRELUDE = """
            import os, subprocess, sys, time
            def send(line):
                sys.stdout.write(line + "\\n"); sys.stdout.flush()
            assert sys.stdin.readline().strip() == "deja-tracer 1"
            """;

    /** A sleep no other process runs: "sleep 300.<random digits>". */
    private final String nap = "300." + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);

    private Path tracer(String name, String body) throws IOException {
        Path p = tmp.resolve(name + ".py");
        Files.writeString(p, PRELUDE + body.replace("NAP", nap));
        return p;
    }

    @Test
    void aSetAtAnUnmappedAddressIsRefusedWithAnErrorReplyAndTheRunGoesOn() throws Exception {
        Path replies = tmp.resolve("replies.log");
        Path t = tracer("setter", """
                send("hello setter"); send("subscribe decide write"); send("ready")
                log = open(%s, "w")
                for line in sys.stdin:
                    if not line.startswith("event "): continue
                    seq = line.split()[1]
                    send(seq + ' set 0x10 "x"')
                    log.write(sys.stdin.readline()); log.flush()
                    send(seq + " continue")
                """.formatted("'" + replies + "'"));
        Runs.Result r = Runs.dejaWithin(BOUND, tmp, "run", "--tracer", "python3 " + t, "--", "/bin/sh", "-c", "echo hi");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("hi\n", r.stdout());
        String reply = Files.readString(replies).strip();
        assertTrue(reply.matches("error \\d+ set refused: cannot write 1 bytes at 0x10 in pid \\d+ tid \\d+: .*"), reply);

        assertClean(r, 0);
        assertNothingLeft(t.toString());
    }

    @Test
    void aTracerThatStopsReadingIsDroppedAfterTheTimeoutInsteadOfHangingTheRun() throws Exception {
        Path t = tracer("deaf", """
                send("hello deaf"); send("subscribe observe all"); send("ready")
                time.sleep(300)
                """);
        Runs.Result r = Runs.dejaWithin(BOUND, tmp, "run", "--timeout", "1000", "--tracer", "python3 " + t, "--",
                "/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done");
        assertEquals(0, r.status(), r.stderr());
        assertEquals(20000, r.stdout().lines().count());
        assertEquals(List.of("deja: tracer deaf is gone: it did not read its input for 1000 ms; the run goes on without it"),
                dejaLines(r), r.stderr());
        assertClean(r, 1);
        assertNothingLeft(t.toString());
    }

    @Test
    void aDecidingTracerThatClosesItsStdoutButLivesIsNoticedAtOnce() throws Exception {
        Path t = tracer("closer", """
                send("hello closer"); send("subscribe decide write"); send("ready")
                os.close(1)
                time.sleep(300)
                """);
        Runs.Result r = Runs.dejaWithin(BOUND, tmp, "run", "--tracer", "python3 " + t, "--", "/bin/sh", "-c", "echo one");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("one\n", r.stdout());
        // Not "did not answer event N within 10000 ms": its events continue as soon as its output ends.
        assertEquals(List.of("deja: tracer closer is gone: it hung up; the run goes on without it"), dejaLines(r), r.stderr());
        assertClean(r, 1);
        assertNothingLeft(t.toString());
    }

    @Test
    void anObservingTracerThatClosesItsStdoutButLivesIsNoticed() throws Exception {
        String cmd = "read greeting; echo hello shut; echo subscribe observe write; echo ready; exec >&-; sleep " + nap;
        Runs.Result r = Runs.dejaWithin(BOUND, tmp, "run", "--tracer", cmd, "--", "/bin/sh", "-c", "echo one; echo two");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("one\ntwo\n", r.stdout());
        assertEquals(List.of("deja: tracer shut is gone: it hung up; the run goes on without it"), dejaLines(r), r.stderr());
        assertClean(r, 1);
        assertNothingLeft("sleep " + nap);
    }

    @Test
    void aTracerThatFailsTheHandshakeIsEndedWithWhatItStarted() throws Exception {
        String cmd = "sleep " + nap + " >/dev/null & echo nonsense";
        Runs.Result r = Runs.dejaWithin(BOUND, tmp, "run", "--tracer", cmd, "--", "/bin/sh", "-c", "echo never");
        assertEquals(ExitCodes.DEJA_FAILURE, r.status(), r.stderr());
        assertEquals("", r.stdout());
        assertEquals(List.of("deja: run: tracer '" + cmd + "': tracer " + cmd + " hung up during the handshake"),
                dejaLines(r), r.stderr());
        assertClean(r, 1);
        assertNothingLeft("sleep " + nap);
    }

    @Test
    void whatATracerStartedIsEndedWithItWhenTheRunIsOver() throws Exception {
        Path t = tracer("spawner", """
                subprocess.Popen(["sleep", "NAP"])
                send("hello spawner"); send("subscribe observe write"); send("ready")
                for line in sys.stdin: pass
                """);
        Runs.Result r = Runs.dejaWithin(BOUND, tmp, "run", "--tracer", "python3 " + t, "--", "/bin/sh", "-c", "echo one");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("one\n", r.stdout());
        assertClean(r, 0);
        assertNothingLeft("sleep " + nap);
    }

    @Test
    void aLineOfOneAndAHalfGibibytesIsRefusedWithoutExhaustingMemory() throws Exception {
        Path replies = tmp.resolve("replies.log");
        Path t = tracer("longline", """
                send("hello longline"); send("subscribe decide write"); send("ready")
                log = open(%s, "w")
                chunk = b"a" * (1 << 20)
                first = True
                for line in sys.stdin:
                    if not line.startswith("event "): continue
                    seq = line.split()[1]
                    if first:
                        first = False
                        for i in range(1536): sys.stdout.buffer.write(chunk)
                        sys.stdout.buffer.write(b"\\n"); sys.stdout.flush()
                        log.write(sys.stdin.readline()); log.flush()
                    send(seq + " continue")
                """.formatted("'" + replies + "'"));
        Runs.Result r = Runs.dejaWithin(BOUND, tmp, "run", "--tracer", "python3 " + t, "--", "/bin/sh", "-c", "echo hi; echo there");
        assertEquals(0, r.status(), r.stderr());
        assertEquals("hi\nthere\n", r.stdout());
        assertEquals("error - refused: a line longer than 4194304 bytes (the protocol's limit); it is skipped",
                Files.readString(replies).strip());
        assertEquals(List.of("deja: tracer longline sent a line longer than 4194304 bytes; refused (said once)"),
                dejaLines(r), r.stderr());
        assertClean(r, 1);
        assertNothingLeft(t.toString());
    }

    @Test
    void anInterruptedRunEndsItsTracersToo() throws Exception {
        // The tracer runs in a process group of its own, where a terminal's Ctrl-C does not reach it, and
        // ignores the end of its input: deja must end it when it is interrupted itself.
        Path t = tracer("stubborn", """
                send("hello stubborn"); send("subscribe observe write"); send("ready")
                for line in sys.stdin: pass
                time.sleep(300)
                """);
        Path out = tmp.resolve("out.txt");
        ProcessBuilder pb = new ProcessBuilder(Runs.launcher().toString(), "run", "--tracer", "python3 " + t, "--",
                "/bin/sh", "-c", "echo started; exec sleep 60").redirectOutput(out.toFile())
                .redirectError(tmp.resolve("err.txt").toFile());
        pb.environment().put("DEJA_HOME", tmp.toString());
        Process p = pb.start();
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (!Files.readString(out).contains("started")) {
            assertTrue(System.nanoTime() < deadline, "the program never started");
            Thread.sleep(50);
        }
        p.destroy(); // SIGTERM
        if (!p.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("deja run did not end after SIGTERM");
        }
        assertEquals(143, p.exitValue(), Files.readString(tmp.resolve("err.txt")));
        assertNothingLeft(t.toString());
    }

    /** The lines deja wrote for itself. */
    private static List<String> dejaLines(Runs.Result r) {
        return r.stderr().lines().filter(l -> l.startsWith("deja:")).toList();
    }

    /** No stack trace, no JVM complaint: only the expected number of "deja:" lines. */
    private static void assertClean(Runs.Result r, int dejaLines) {
        assertTrue(!r.stderr().contains("Exception") && !r.stderr().contains("\tat ") && !r.stderr().contains("Error:"),
                r.stderr());
        assertEquals(dejaLines, dejaLines(r).size(), r.stderr());
    }

    /** No live process (zombies aside: their parent may not have reaped them yet) has {@code marker} in its command line. */
    private static void assertNothingLeft(String marker) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String> left;
        do {
            left = running(marker);
            if (left.isEmpty()) return;
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        for (String pid : left) new ProcessBuilder("kill", "-9", pid).start().waitFor();
        throw new AssertionError("processes of the tracer are still running: " + left + " (" + marker + ")");
    }

    private static List<String> running(String marker) throws IOException {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ');
                    if (!cmdline.contains(marker)) return false;
                    String stat = Files.readString(p.resolve("stat"));
                    return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
                } catch (IOException e) {
                    return false; // it ended meanwhile
                }
            }).map(p -> p.getFileName().toString()).toList();
        }
    }
}
