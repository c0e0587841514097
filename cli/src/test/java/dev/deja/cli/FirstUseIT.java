package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a first user met on real programs (issue 15): each case records a real program, replays it
 * or drives the shell, and checks what the user sees.
 */
class FirstUseIT {
    @TempDir
    Path home;

    /** A #! script given ~100 KiB of arguments: the interpreter's argv no longer fits deja's scratch page. */
    @Test
    void scriptWithLongArgumentsReplays() throws Exception {
        Path script = home.resolve("argc.sh");
        Files.writeString(script, "#!/bin/sh\necho $#\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path rec = Runs.record(home, "argv", "sh", "-c", script + " $(seq 1 6000)");
        Runs.Result r = Runs.deja(home, "replay", rec.toString());
        assertEquals("6000\n", r.stdout(), r.stderr());
        assertEquals(0, r.status(), r.stderr());
    }

    /** cat to a file copies with copy_file_range; python's os.sendfile passes an offset pointer. */
    @Test
    void kernelCopiesToStdoutReplay() throws Exception {
        String services = Files.readString(Path.of("/etc/services"));
        Path rec = home.resolve("cat");
        Runs.Result recorded = Runs.deja(home, "record", "-q", "-o", rec.toString(), "--", "cat", "/etc/services");
        assertEquals(services, recorded.stdout());
        Runs.Result replayed = Runs.deja(home, "replay", rec.toString());
        assertEquals(services, replayed.stdout(), replayed.stderr());
        assertFalse(replayed.stderr().contains("were not recorded"), replayed.stderr());

        Path py = home.resolve("sendfile");
        Runs.Result sent = Runs.deja(home, "record", "-q", "-o", py.toString(), "--", "python3", "-c",
                "import os; fd = os.open('/etc/services', os.O_RDONLY); os.sendfile(1, fd, 100, 300)");
        assertEquals(services.substring(100, 400), sent.stdout(), sent.stderr());
        Runs.Result again = Runs.dejaPiped(home, Path.of("/dev/null"), "replay", py.toString());
        assertEquals(services.substring(100, 400), again.stdout(), again.stderr());
    }

    /** The program gets deja's whole environment, {@code _} included (bash's exec in the launcher drops it). */
    @Test
    void environmentKeepsUnderscore() throws Exception {
        Path rec = home.resolve("env");
        ProcessBuilder pb = new ProcessBuilder(Runs.launcher().toString(), "record", "-q", "-o", rec.toString(), "--", "env")
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("DEJA_HOME", home.toString());
        pb.environment().put("_", "/the/path/deja/was/run/by");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        java.util.List<String> lines = out.lines().toList();
        assertTrue(lines.contains("_=/the/path/deja/was/run/by"), out);
        // bash, the launcher, may refresh SHLVL, PWD and OLDPWD; everything else arrives as given
        pb.environment().forEach((k, v) -> {
            if (!k.equals("SHLVL") && !k.equals("PWD") && !k.equals("OLDPWD")) assertTrue(lines.contains(k + "=" + v), k);
        });
    }
}
