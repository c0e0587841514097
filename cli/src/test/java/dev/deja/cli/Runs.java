package dev.deja.cli;

import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Running deja (the real launcher, as a user would) and programs natively, for end-to-end tests. */
final class Runs {
    private Runs() {
    }

    record Result(int status, String stdout, String stderr) {
    }

    static Path launcher() {
        String configured = System.getProperty("deja.launcher");
        Path p = configured != null ? Path.of(configured) : Path.of("..", "deja").toAbsolutePath().normalize();
        if (!Files.isExecutable(p)) throw new IllegalStateException("the deja launcher " + p + " is missing");
        return p;
    }

    /** Runs {@code deja ARGS} with DEJA_HOME set to {@code home}. */
    static Result deja(Path home, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher().toString());
        cmd.addAll(List.of(args));
        return run(home, cmd);
    }

    static Result nativeRun(String... cmd) throws IOException, InterruptedException {
        return run(null, List.of(cmd));
    }

    static Result run(Path home, List<String> cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("deja-it", ".out");
        Path err = Files.createTempFile("deja-it", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            if (home != null) pb.environment().put("DEJA_HOME", home.toString());
            Process p = pb.start();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static List<Event> events(Path recording) throws RecordingException {
        List<Event> all = new ArrayList<>();
        try (Recording rec = Recording.open(recording); EventReader r = rec.events()) {
            Event e;
            while ((e = r.next()) != null) all.add(e);
        }
        return all;
    }
}
