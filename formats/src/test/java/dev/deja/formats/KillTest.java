package dev.deja.formats;

import dev.deja.formats.event.Event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A writer JVM killed by SIGKILL: every event it appended is readable, the recording is incomplete. */
class KillTest {

    /** The child: appends events, reporting counts on stdout; waits to be killed after {@code stopAt} when stopAt > 0. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long stopAt = Long.parseLong(args[1]);
        try (RecordingWriter w = RecordingWriter.create(dir, RandomEvents.header())) {
            for (long i = 1; ; i++) {
                w.append(RandomEvents.getppid(i));
                if (i == stopAt) {
                    System.out.println("appended " + i);
                    System.out.flush();
                    Thread.sleep(600_000);
                } else if (stopAt <= 0 && i % 1000 == 0) {
                    System.out.println("appended " + i);
                    System.out.flush();
                }
            }
        }
    }

    private static Process child(Path dir, long stopAt) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--") || a.startsWith("-Dchronicle")) cmd.add(a);   // the deja.jvm.flags surefire passed us
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), KillTest.class.getName(), dir.toString(),
                Long.toString(stopAt)));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static long waitFor(Process p, long atLeast) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
        for (String line; (line = out.readLine()) != null; ) {
            long n = Long.parseLong(line.substring("appended ".length()));
            if (n >= atLeast) return n;
        }
        fail("child ended before appending " + atLeast + " events; exit " + p.waitFor());
        return -1;
    }

    private static void kill(Process p) throws Exception {
        p.destroyForcibly();     // SIGKILL on Linux
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(128 + 9, p.exitValue());
    }

    @Test
    void killedWhileIdleKeepsEveryEvent(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        Process p = child(dir, 5000);
        try {
            assertEquals(5000, waitFor(p, 5000));
        } finally {
            kill(p);
        }
        try (Recording r = Recording.open(dir); EventReader er = r.events()) {
            assertEquals(RecordingStatus.INCOMPLETE, r.status());
            assertTrue(r.summary().isEmpty());
            long n = 0;
            for (Event e; (e = er.next()) != null; ) assertEquals(++n, e.seq());
            assertEquals(5000, n);
            r.verify();
        }
    }

    @Test
    void killedMidStreamKeepsAPrefix(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("rec");
        Process p = child(dir, 0);
        long reported;
        try {
            reported = waitFor(p, 20_000);
        } finally {
            kill(p);
        }
        try (Recording r = Recording.open(dir); EventReader er = r.events()) {
            assertEquals(RecordingStatus.INCOMPLETE, r.status());
            long n = 0;
            for (Event e; (e = er.next()) != null; ) assertEquals(++n, e.seq());
            assertTrue(n >= reported, "read " + n + " events, the child had appended " + reported);
        }
    }
}
