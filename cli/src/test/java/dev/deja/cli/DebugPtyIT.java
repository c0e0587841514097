package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.samples.Samples;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deja debug} on a pseudo-terminal, as a person uses it: TAB completion, history kept across
 * sessions, and Ctrl-C stopping a long {@code continue}. The terminal is driven by a small Python
 * script (test resource ptydrive.py: pty.fork, then "expect REGEX" / "send TEXT" steps).
 */
class DebugPtyIT {
    @TempDir
    static Path home;

    private static Path uname;
    private static Path loop;

    @BeforeAll
    static void record() throws Exception {
        uname = record("uname", Samples.path("uname"));
        loop = record("loop", Samples.path("getppid_loop"), "100000");
    }

    private static Path record(String name, String... command) throws Exception {
        return Runs.record(home, name, command);
    }

    /** Runs {@code deja debug REC} on a pty through the steps; returns what the terminal showed, then "EXIT n". */
    private static String session(Path rec, String... steps) throws Exception {
        Path driver = Path.of(DebugPtyIT.class.getResource("/ptydrive.py").toURI());
        ProcessBuilder pb = new ProcessBuilder("python3", driver.toString(), Runs.launcher().toString(), "debug", rec.toString())
                .redirectErrorStream(true);
        pb.environment().put("DEJA_HOME", home.toString());
        pb.environment().put("TERM", "xterm");
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            in.write((String.join("\n", steps) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out:\n" + out);
        }
        assertFalse(out.contains("TIMEOUT waiting for"), out);
        return out;
    }

    @Test
    void tabCompletesCommandsSyscallsAndPaths() throws Exception {
        String out = session(uname,
                "expect deja #1 ",
                "send brea\\t",
                "expect break ",
                "send getpp\\t",
                "expect getppid ",
                "send \\r",
                "expect Breakpoint 1: getppid",
                "send b openat path=/etc/ld.so.ca\\t",
                "expect path=/etc/ld.so.cache",
                "send \\r",
                "expect Breakpoint 2: openat path=/etc/ld.so.cache \\(1 recorded call match\\)",
                "send c\\r",
                "expect Breakpoint 2, #\\d+ ",
                "send info brea\\t",
                "expect breakpoints",
                "send \\r",
                "expect 2    y    1     openat",
                "send quit\\r");
        assertTrue(out.endsWith("EXIT 0\n"), out);
    }

    @Test
    void historyIsKeptAcrossSessions() throws Exception {
        Files.deleteIfExists(home.resolve("debug_history"));
        session(uname, "expect deja #1 ", "send info breakpoints\\r", "expect no breakpoints", "send quit\\r");
        assertTrue(Files.readString(home.resolve("debug_history")).contains("info breakpoints"));
        // The second session: the up arrow twice (quit, then info breakpoints; xterm application-cursor mode) brings it back.
        String out = session(uname, "expect deja #1 ", "send \\x1bOA", "send \\x1bOA", "expect info breakpoints",
                "send \\r", "expect no breakpoints", "send quit\\r");
        assertTrue(out.endsWith("EXIT 0\n"), out);
    }

    @Test
    void ctrlCInterruptsALongContinueAndTheReplayStaysUsable() throws Exception {
        String out = session(loop,
                "expect deja #1 ",
                "send continue\\r",
                "sleep 0.5", // the whole continue takes about 1.2 s here
                "send \\x03",
                "expect interrupted",
                "expect deja #\\d+ \\[\\d+\\]> ",
                "send print $orig_rax\\r",
                "expect \\$orig_rax = 0x6e \\(110\\)",
                "send continue\\r",
                "expect \\[the program exited with status 0\\]",
                "send quit\\r");
        Matcher m = Pattern.compile("deja #(\\d+) \\[\\d+\\]> print").matcher(out);
        assertTrue(m.find(), out);
        long stoppedAt = Long.parseLong(m.group(1));
        assertTrue(stoppedAt > 100 && stoppedAt < 100000, "stopped at #" + stoppedAt + " of a 100000-call loop:\n" + out);
        assertTrue(out.endsWith("EXIT 0\n"), out);
        assertEquals(1, out.split("interrupted", -1).length - 1, out);
    }
}
