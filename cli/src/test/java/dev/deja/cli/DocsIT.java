package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's quick start stays true: every {@code ./deja} line of it runs, in order, in a scratch
 * directory ({@code /tmp/} in the commands becomes that directory, {@code DEJA_HOME} too), and must
 * end with status 0, or 1 for a hunt that caught its failure and a diff that found a difference.
 */
class DocsIT {
    @TempDir
    Path scratch;

    /** The quick start's commands, with their trailing comments and continuation-comment lines dropped. */
    static List<String> quickStart(String readme) {
        int start = readme.indexOf("## Quick start");
        int end = readme.indexOf("\n## ", start + 1);
        List<String> out = new ArrayList<>();
        for (String line : readme.substring(start, end).lines().toList()) {
            String l = line.strip();
            if (!l.startsWith("./deja ")) continue;
            // a comment is separated from its command by at least two spaces
            int comment = l.indexOf("  #");
            out.add((comment < 0 ? l : l.substring(0, comment)).strip());
        }
        return out;
    }

    @Test
    void theReadmeQuickStartRuns() throws Exception {
        Path repo = Runs.launcher().getParent();
        List<String> commands = quickStart(Files.readString(repo.resolve("README.md")));
        assertTrue(commands.size() >= 10, "the quick start lost its commands: " + commands);
        Path home = Files.createDirectories(scratch.resolve("home"));
        for (String command : commands) {
            // /tmp/ first: the checkout itself may live under /tmp (CI clones there).
            String line = command.replace("/tmp/", scratch + "/")
                    .replace("./deja ", Runs.launcher() + " ")
                    .replace("samples/target/bin/", repo.resolve("samples/target/bin") + "/");
            boolean hunt = line.contains("--until-fail");
            Runs.Result r = shell(line, home);
            // The pair for diff needs a passing run first: a hunt whose very first run failed is run again.
            for (int again = 0; hunt && again < 10 && !Files.exists(scratch.resolve("fail-pass1")); again++) {
                shell("rm -rf " + scratch.resolve("fail"), home);
                r = shell(line, home);
            }
            boolean mayDiffer = hunt || line.contains(" diff ");
            assertTrue(r.status() == 0 || (mayDiffer && r.status() == 1),
                    "README quick start: '" + command + "' ended with status " + r.status() + "\n" + r.stderr());
            assertFalse(r.stderr().contains("internal error"), command + ": " + r.stderr());
        }
        // the pack example writes into the current directory, which .gitignore covers
        assertTrue(Files.exists(scratch.resolve("bug1.deja")), "the pack example made no bug1.deja");
        assertTrue(Files.readString(repo.resolve(".gitignore")).lines().anyMatch("*.deja"::equals), ".gitignore lacks *.deja");
    }

    private Runs.Result shell(String line, Path home) throws Exception {
        Path out = scratch.resolve("out.txt");
        Path err = scratch.resolve("err.txt");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "set -o pipefail; " + line).directory(scratch.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("DEJA_HOME", home.toString());
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("README quick start: '" + line + "' did not end within 300 s");
        }
        return new Runs.Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void quickStartParsing() {
        assertEquals(List.of("./deja ls", "./deja diff /tmp/a /tmp/b"),
                quickStart("## Quick start\n\n    scripts/install.sh  # once\n    ./deja ls   # the list\n"
                        + "                    # more comment\n    ./deja diff /tmp/a /tmp/b\n\n## Next\n    ./deja x\n"));
    }
}
