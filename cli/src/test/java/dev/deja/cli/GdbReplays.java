package dev.deja.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The gdb ITs' shared part: a real gdb in batch mode against {@code deja replay --gdb} on a free port. */
final class GdbReplays {
    static final Path GDB = Path.of("/usr/bin/gdb");
    /** The connect line deja prints: its address. */
    static final Pattern ADDRESS = Pattern.compile("target extended-remote ([0-9.]+:[0-9]+)");

    /** What gdb printed, and how deja ended. */
    record Session(String gdb, Runs.Result deja) {
    }

    private GdbReplays() {
    }

    /** Records {@code command} into {@code rec} (deja record -q); the program must end with {@code status}. */
    static void record(Path dir, Path rec, int status, String... command) throws IOException, InterruptedException {
        String[] args = new String[command.length + 5];
        System.arraycopy(new String[] {"record", "-q", "-o", rec.toString(), "--"}, 0, args, 0, 5);
        System.arraycopy(command, 0, args, 5, command.length);
        Runs.Result recorded = Runs.deja(dir, args);
        assertEquals(status, recorded.status(), recorded.stderr());
    }

    /**
     * Replays {@code rec} with --gdb on a free port and runs {@code script} in gdb against it, with
     * {@code exe}'s symbols (null: gdb asks the server for the executable); deja's files go into {@code dir}.
     */
    static Session run(Path dir, Path rec, String exe, String script) throws IOException, InterruptedException {
        Path out = dir.resolve("deja.out");
        Path err = dir.resolve("deja.err");
        Process deja = new ProcessBuilder(Runs.launcher().toString(), "replay", "--gdb=127.0.0.1:0", rec.toString())
                .redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            String address = awaitAddress(deja, err);
            Path commands = dir.resolve("script.gdb");
            Files.writeString(commands, "set pagination off\nset confirm off\ntarget extended-remote " + address + "\n" + script);
            List<String> cmd = new ArrayList<>(List.of(GDB.toString(), "-nx", "-batch", "-x", commands.toString()));
            if (exe != null) cmd.add(exe);
            Runs.Result gdb = Runs.run(null, cmd, java.time.Duration.ofSeconds(120));
            assertTrue(deja.waitFor(60, TimeUnit.SECONDS), "deja did not end after gdb: " + Files.readString(err));
            return new Session(gdb.stdout() + gdb.stderr(), new Runs.Result(deja.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8)));
        } finally {
            deja.descendants().forEach(ProcessHandle::destroyForcibly);
            deja.destroyForcibly();
        }
    }

    /** The gdb server's address once deja has written it into {@code err}. */
    static String awaitAddress(Process deja, Path err) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && deja.isAlive()) {
            Matcher m = ADDRESS.matcher(Files.readString(err));
            if (m.find()) return m.group(1);
            Thread.sleep(100);
        }
        throw new AssertionError("no gdb server address: " + Files.readString(err));
    }

    /** The gdb server's address once it appears in {@code out} (a shell's output, read by another thread). */
    static String awaitAddress(Process deja, CharSequence out) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && deja.isAlive()) {
            Matcher m = ADDRESS.matcher(out);
            if (m.find()) return m.group(1);
            Thread.sleep(100);
        }
        throw new AssertionError("no gdb server address: " + out);
    }

    /** Asserts that {@code regex} is found somewhere in {@code text} (gdb's whole output: the message). */
    static void assertFound(String text, String regex) {
        org.junit.jupiter.api.Assertions.assertTrue(java.util.regex.Pattern.compile(regex).matcher(text).find(), text);
    }

    static int count(String text, String part) {
        int n = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) n++;
        return n;
    }
}
