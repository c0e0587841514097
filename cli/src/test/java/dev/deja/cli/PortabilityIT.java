package dev.deja.cli;

import dev.deja.samples.Samples;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A packed recording replays somewhere else: in a fresh directory, as another user, after the
 * recorded executable (a copy of the sample), its inputs and the recording directory were deleted,
 * and in a mount namespace where the recorded directory is an empty tmpfs. Real processes, the real
 * launcher.
 */
class PortabilityIT {
    /** The user deja runs as in the other-user test (nobody). */
    private static final int OTHER_UID = 65534;

    private static Path root;       // world-traversable, so that the other user reaches the pack
    private static Path area;       // the recorded paths: executable copy, inputs, recording; deleted after packing
    private static Path pack;
    private static String recordedStdout;

    record Result(int status, String stdout, String stderr) {
    }

    @BeforeAll
    static void recordPackAndDeleteEverything() throws Exception {
        root = Files.createTempDirectory("deja-portability-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        area = Files.createDirectories(root.resolve("area"));
        Path exe = Files.createDirectories(area.resolve("bin")).resolve("inputs");
        Files.copy(Path.of(Samples.path("inputs")), exe, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        Path in = Files.createDirectories(area.resolve("in"));
        Files.writeString(in.resolve("a.txt"), "alpha\nbeta\n");
        byte[] bin = new byte[100_000];
        new java.util.Random(5).nextBytes(bin);
        Files.write(in.resolve("b.bin"), bin);
        Path rec = area.resolve("rec");
        Result r = run(area, Map.of("DEJA_HOME", root.resolve("home").toString()), List.of(Runs.launcher().toString(),
                "record", "-q", "-o", rec.toString(), "--", exe.toString(), "in/a.txt", in.resolve("b.bin").toString()));
        assertEquals(3, r.status(), r.stderr());
        assertTrue(r.stdout().contains("in/a.txt: 11 bytes"), r.stdout());
        recordedStdout = r.stdout();
        Path packs = Files.createDirectories(root.resolve("packs"));
        pack = packs.resolve("inputs.deja");
        Result p = run(root, Map.of(), List.of(Runs.launcher().toString(), "pack", "-q", rec.toString(), "-o", pack.toString()));
        assertEquals(0, p.status(), p.stderr());
        // deja writes packs private (0600); handing one over (attached to a bug report, downloaded) makes it the
        // reader's: here, readable by the other user
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pack)));
        Files.setPosixFilePermissions(pack, PosixFilePermissions.fromString("rw-r--r--"));
        deleteTree(area);
        assertFalse(Files.exists(exe));
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (root != null) deleteTree(root);
    }

    private static void assertReplaysAsRecorded(Result r) {
        assertEquals(3, r.status(), r.stderr());
        assertEquals(recordedStdout, r.stdout());
        assertFalse(r.stderr().contains("divergence"), r.stderr());
    }

    @Test
    void replaysInAFreshDirectoryAfterTheProgramItsInputsAndTheRecordingWereDeleted() throws Exception {
        Path fresh = Files.createDirectories(root.resolve("fresh"));
        Result r = run(fresh, Map.of("DEJA_HOME", fresh.resolve("home").toString()),
                List.of(Runs.launcher().toString(), "replay", pack.toString()));
        assertReplaysAsRecorded(r);
        try (var s = Files.list(fresh)) {
            assertEquals(List.of(), s.toList(), "replay from a pack writes nothing into the working directory");
        }
    }

    @Test
    void replaysAsAnotherUser() throws Exception {
        assumeTrue(Host.uid() == 0, "needs root to switch to uid " + OTHER_UID);
        Path home = Files.createDirectories(root.resolve("nobody-home"));
        Files.setOwner(home, home.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(Integer.toString(OTHER_UID)));
        List<String> asOther = List.of("setpriv", "--reuid=" + OTHER_UID, "--regid=" + OTHER_UID, "--clear-groups",
                "env", "HOME=" + home, "DEJA_HOME=" + home);
        Result version = run(home, Map.of(), concat(asOther, Runs.launcher().toString(), "--version"));
        assertEquals(0, version.status(), "the launcher works for uid " + OTHER_UID + ": " + version.stderr());
        Result id = run(home, Map.of(), concat(asOther, "id", "-u"));
        assertEquals(Integer.toString(OTHER_UID), id.stdout().trim());
        assertReplaysAsRecorded(run(home, Map.of(), concat(asOther, Runs.launcher().toString(), "replay", pack.toString())));
        Result info = run(home, Map.of(), concat(asOther, Runs.launcher().toString(), "info", pack.toString()));
        assertEquals(0, info.status(), info.stderr());
        assertTrue(info.stdout().contains("replayable here: yes"), info.stdout());
        // unpacking as that user gives a recording directory that user replays
        Path unpacked = home.resolve("unpacked");
        Result u = run(home, Map.of(), concat(asOther, Runs.launcher().toString(), "unpack", "-q", pack.toString(), "-o",
                unpacked.toString()));
        assertEquals(0, u.status(), u.stderr());
        assertReplaysAsRecorded(run(home, Map.of(), concat(asOther, Runs.launcher().toString(), "replay", unpacked.toString())));
    }

    @Test
    void replaysInAMountNamespaceWhereTheRecordedPathsDoNotExist() throws Exception {
        Result probe = run(root, Map.of(), List.of("unshare", "-m", "true"));
        assumeTrue(probe.status() == 0, "no mount namespaces here: " + probe.stderr());
        Files.createDirectories(area);   // a mount point, empty in the namespace
        try {
            String script = "mount -t tmpfs deja-portability " + area + " && test ! -e " + area.resolve("bin")
                    + " && exec " + Runs.launcher() + " replay " + pack;
            Result r = run(root, Map.of(), List.of("unshare", "-m", "--propagation", "private", "sh", "-c", script));
            assertReplaysAsRecorded(r);
        } finally {
            Files.deleteIfExists(area);
        }
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> out = new ArrayList<>(head);
        out.addAll(List.of(tail));
        return out;
    }

    static Result run(Path cwd, Map<String, String> env, List<String> cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("deja-it", ".out");
        Path err = Files.createTempFile("deja-it", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                    Files.readString(err, StandardCharsets.ISO_8859_1));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
