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

    /**
     * info without --check: secret-looking variable names and files read under HOME are listed; blob sizes
     * are held against the index and a pack's chunks against its manifest, so a truncated copy is refused.
     */
    @Test
    void infoListsWhatMayBeSecretAndChecksSizes() throws Exception {
        Path fakeHome = Files.createDirectories(home.resolve("user"));
        Files.writeString(fakeHome.resolve(".netrc"), "machine example.com password hunter2\n");
        Path rec = home.resolve("secret");
        ProcessBuilder pb = new ProcessBuilder(Runs.launcher().toString(), "record", "-q", "-o", rec.toString(), "--",
                "cat", fakeHome.resolve(".netrc").toString()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("DEJA_HOME", home.toString());
        pb.environment().put("HOME", fakeHome.toString());
        pb.environment().put("DEPLOY_TOKEN", "t0k3n");
        assertEquals(0, pb.start().waitFor());
        Runs.Result info = Runs.deja(home, "info", rec.toString());
        assertEquals(0, info.status(), info.stderr());
        assertTrue(info.stdout().contains("may be secret: environment variables DEPLOY_TOKEN (every variable's value"), info.stdout());
        assertTrue(info.stdout().contains("    " + fakeHome.resolve(".netrc")), info.stdout());
        assertFalse(info.stdout().contains("t0k3n"), "info shows names, never values");
        assertTrue(info.stdout().contains("checksums: not checked; the "), info.stdout());

        Path pack = home.resolve("secret.deja");
        assertEquals(0, Runs.deja(home, "pack", rec.toString(), "-o", pack.toString()).status());
        Runs.Result packInfo = Runs.deja(home, "info", pack.toString());
        assertEquals(0, packInfo.status(), packInfo.stderr());
        assertTrue(packInfo.stdout().contains("may be secret: environment variables DEPLOY_TOKEN"), packInfo.stdout());
        Path cut = home.resolve("cut.deja");
        byte[] bytes = Files.readAllBytes(pack);
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length * 2 / 3));
        Runs.Result cutInfo = Runs.deja(home, "info", cut.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, cutInfo.status(), cutInfo.stdout());
        assertTrue(cutInfo.stderr().contains("the pack is truncated"), cutInfo.stderr());

        Path blob;
        try (var walk = Files.walk(rec.resolve("blobs"))) {
            blob = walk.filter(p -> p.getFileName().toString().length() == 62 && Files.isRegularFile(p)).findFirst().orElseThrow();
        }
        try (var ch = java.nio.channels.FileChannel.open(blob, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
        Runs.Result blobInfo = Runs.deja(home, "info", rec.toString());
        assertEquals(ExitCodes.DEJA_FAILURE, blobInfo.status(), blobInfo.stdout());
        assertTrue(blobInfo.stderr().contains("(tampered or truncated)"), blobInfo.stderr());
    }

    @Test
    void keepPassingNeedsUntilFail() throws Exception {
        Runs.Result r = Runs.deja(home, "record", "--keep-passing", "1", "--", "true");
        assertEquals(ExitCodes.DEJA_FAILURE, r.status());
        assertEquals("deja: --keep-passing needs --until-fail\n", r.stderr());
    }

    /** As strace: a command given with a slash is run, and recorded, by the path as typed. */
    @Test
    void aRelativeCommandIsRecordedAsTyped() throws Exception {
        Path bin = Files.createDirectories(home.resolve("bin"));
        Files.copy(Path.of("/bin/true"), bin.resolve("t"));
        Path rec = home.resolve("rel");
        Process p = new ProcessBuilder(Runs.launcher().toString(), "record", "-q", "-o", rec.toString(), "--", "bin/t")
                .directory(home.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        Runs.Result dump = Runs.deja(home, "dump", rec.toString());
        assertTrue(dump.stdout().lines().findFirst().orElseThrow().contains("execve(\"bin/t\", [\"bin/t\"]"), dump.stdout());
        Runs.Result replay = Runs.deja(home, "replay", rec.toString());
        assertEquals(0, replay.status(), replay.stderr());
    }
}
