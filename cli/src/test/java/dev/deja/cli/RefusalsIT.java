package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What deja refuses, and how: one {@code deja: ...} line and status 125 for a usage mistake or a file that
 * is not what it should be, within seconds, never an internal error or a hang (issue 16, item 8).
 */
class RefusalsIT {

    @TempDir
    Path home;
    Path rec;

    @BeforeEach
    void record() throws Exception {
        rec = Runs.record(home, "rec", "cat", "/etc/hostname");
    }

    /** Runs deja (DEJA_HOME {@code deja}) with a deadline much shorter than a hang. */
    private static Runs.Result deja(Path dejaHome, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Runs.launcher().toString()));
        cmd.addAll(List.of(args));
        return run(dejaHome, List.of(), cmd);
    }

    private static Runs.Result run(Path dejaHome, List<String> prefix, List<String> command) throws Exception {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(command);
        Path out = Files.createTempFile("deja-it", ".out");
        Path err = Files.createTempFile("deja-it", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().put("DEJA_HOME", dejaHome.toString());
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("deja hung: " + cmd);
            }
            return new Runs.Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Status 125 and one line that says {@code expected}, no internal error. */
    private static void refused(Runs.Result r, String expected) {
        assertEquals(125, r.status(), r.stdout() + r.stderr());
        assertTrue(r.stderr().startsWith("deja: ") && r.stderr().contains(expected), r.stderr());
        assertFalse(r.stderr().contains("internal error"), r.stderr());
        assertEquals(1, r.stderr().lines().count(), r.stderr());
    }

    @Test
    void aNamedPipeGivenAsTheRecordingIsRefusedAtOnce() throws Exception {
        Path fifo = home.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mk.waitFor());
        refused(deja(home, "replay", fifo.toString()), "not a regular file");
        refused(deja(home, "info", fifo.toString()), "not a regular file");
        refused(deja(home, "dump", fifo.toString()), "not a regular file");
        refused(deja(home, "unpack", fifo.toString(), "-o", home.resolve("out").toString()), "not a regular file");
        // a named pipe inside a recording, where its metadata should be
        Path copy = home.resolve("copy");
        Files.createDirectories(copy.resolve("journal"));
        assertEquals(0, new ProcessBuilder("mkfifo", copy.resolve("meta.json").toString()).start().waitFor());
        refused(deja(home, "info", copy.toString()), "meta.json: not a regular file");
    }

    @Test
    void aHomeThatIsAFileIsSaidSo() throws Exception {
        Path file = Files.writeString(home.resolve("not-a-dir"), "x");
        for (String[] args : new String[][]{{"record", "--", "true"}, {"ls"}, {"replay"}, {"info"}}) {
            refused(deja(file, args), "deja's home " + file + " is not a directory");
        }
    }

    @Test
    void metadataWithAJournalBlockSizeOfZeroIsCorruptNotAnInternalError() throws Exception {
        Path meta = rec.resolve("meta.json");
        String text = Files.readString(meta, StandardCharsets.UTF_8);
        String checksumLine = "  \"sha256\": \"";
        String covered = text.substring(0, text.lastIndexOf(checksumLine)).replace("\"journalBlockSize\": 67108864",
                "\"journalBlockSize\": 0");
        // checksummed as a writer would: the value itself must be refused
        String sum = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(covered.getBytes(StandardCharsets.UTF_8)));
        Files.writeString(meta, covered + checksumLine + sum + "\"\n}\n", StandardCharsets.UTF_8);
        for (String command : List.of("info", "dump", "replay")) {
            refused(deja(home, command, rec.toString()), "journalBlockSize");
        }
    }

    @Test
    void aPermissionProblemIsNotReportedAsAMissingFile() throws Exception {
        assumeTrue(Host.uid() == 0, "needs root to run deja as another user");
        Path open = Files.createTempDirectory("deja-refusals-");
        try {
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path closed = Files.createDirectories(open.resolve("closed"));
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            Path hidden = closed.resolve("rec");
            Path visible = open.resolve("rec");
            assertEquals(0, new ProcessBuilder("cp", "-a", rec.toString(), hidden.toString()).start().waitFor());
            assertEquals(0, new ProcessBuilder("cp", "-a", rec.toString(), visible.toString()).start().waitFor());
            Path pack = open.resolve("rec.deja");
            Runs.Result packed = Runs.deja(home, "pack", "-q", rec.toString(), "-o", pack.toString());
            assertEquals(0, packed.status(), packed.stderr());
            List<String> nobody = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=" + open);
            Path nobodyHome = open.resolve("nobody-home");
            for (Path p : List.of(hidden, visible, pack)) {
                Runs.Result r = run(nobodyHome, nobody, List.of(Runs.launcher().toString(), "info", p.toString()));
                refused(r, "permission denied");
                assertFalse(r.stderr().contains("no such file"), r.stderr());
            }
        } finally {
            Runs.run(null, List.of("rm", "-rf", open.toString()));
        }
    }

    @Test
    void outOfRangeNumbersAreUsageErrors() throws Exception {
        refused(deja(home, "dump", "-s", "-5", rec.toString()), "-s (--string-limit) must be 0 or more, got -5");
        refused(deja(home, "debug", "-g", "-1", rec.toString()), "-g (--goto) takes an event number, 1 or more, got -1");
        refused(deja(home, "debug", "-g", "0", rec.toString()), "got 0");
        refused(deja(home, "debug", "-g", "99999999", rec.toString()), "the recording has no event 99999999 (its events are numbered 1 to ");
    }
}
