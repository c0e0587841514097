package dev.deja.cli;

import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingStatus;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.RecordingWriter;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.SyscallEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

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
        return run(home, cmd, java.time.Duration.ofSeconds(180));
    }

    /** Runs {@code deja ARGS} (DEJA_HOME {@code home}); fails when it has not ended within {@code limit}. */
    static Result dejaWithin(java.time.Duration limit, Path home, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher().toString());
        cmd.addAll(List.of(args));
        return run(home, cmd, limit);
    }

    static Result run(Path home, List<String> cmd, java.time.Duration limit) throws IOException, InterruptedException {
        Path out = Files.createTempFile("deja-it", ".out");
        Path err = Files.createTempFile("deja-it", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            if (home != null) pb.environment().put("DEJA_HOME", home.toString());
            Process p = pb.start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("did not end within " + limit.toSeconds() + " s: " + cmd);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * Runs {@code deja ARGS} (DEJA_HOME {@code home}) with {@code stdin} as its input and stdout and stderr on
     * pipes, as in a shell pipeline (on a file, coreutils copy file data inside the kernel, where no recorder
     * sees it).
     */
    static Result dejaPiped(Path home, Path stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher().toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(stdin.toFile()));
        pb.environment().put("DEJA_HOME", home.toString());
        Process p = pb.start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        String out = drain(p.getInputStream());
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        return new Result(p.exitValue(), out, err.join());
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Records {@code command} into {@code home/name} ({@code deja record -q -o}); the recording must exist. */
    static Path record(Path home, String name, String... command) throws IOException, InterruptedException {
        Path rec = home.resolve(name);
        List<String> args = new ArrayList<>(List.of("record", "-q", "-o", rec.toString(), "--"));
        args.addAll(List.of(command));
        Result r = deja(home, args.toArray(String[]::new));
        if (!Files.isDirectory(rec)) throw new AssertionError("no recording: " + r.stderr());
        return rec;
    }

    /**
     * Copies recording {@code rec} to {@code copy} (a complete recording, blobs included) with the first syscall
     * event {@code which} accepts replaced by {@code change} of it; returns that event's number, or -1 when none
     * matched. For tests that forge a recording to see how replay takes it.
     */
    static long forge(Path rec, Path copy, Predicate<SyscallEvent> which, UnaryOperator<SyscallEvent> change)
            throws RecordingException {
        return forgeEvent(rec, copy, e -> e instanceof SyscallEvent s && which.test(s), e -> change.apply((SyscallEvent) e));
    }

    /** As {@link #forge}, for the first event of any kind {@code which} accepts. */
    static long forgeEvent(Path rec, Path copy, Predicate<Event> which, UnaryOperator<Event> change) throws RecordingException {
        long changedSeq = -1;
        try (Recording in = Recording.open(rec);
             EventReader events = in.events();
             RecordingWriter out = RecordingWriter.create(copy, in.header())) {
            Event e;
            while ((e = events.next()) != null) {
                if (changedSeq < 0 && which.test(e)) {
                    changedSeq = e.seq();
                    e = change.apply(e);
                } else if (e instanceof ExecEvent x && !x.exeBlob().isEmpty()) {
                    copyBlob(in, out, x.exeBlob());
                } else if (e instanceof MappingEvent m && !m.blob().isEmpty()) {
                    copyBlob(in, out, m.blob());
                }
                out.append(e);
            }
            RecordingSummary summary = in.summary().orElseThrow();
            out.finish(new RecordingSummary(RecordingStatus.COMPLETE, summary.endTimeNs(), summary.exitStatus(),
                    summary.eventCount(), summary.processCount()));
        }
        return changedSeq;
    }

    private static void copyBlob(Recording in, RecordingWriter out, String hash) throws RecordingException {
        String copied = out.storeBlob(in.blob(hash));
        if (!copied.equals(hash)) throw new AssertionError("blob " + hash + " was copied as " + copied);
    }

    /**
     * Starts {@code deja record -o rec} of a program that says "started" (into {@code out}) then sleeps a
     * minute, and returns once the word is there and the sleep has begun: for tests that kill or signal deja.
     */
    static Process startSleeper(Path home, Path rec, Path out) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(launcher().toString(), "record", "-q", "-o", rec.toString(), "--",
                "/bin/sh", "-c", "echo started; exec sleep 60").redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("DEJA_HOME", home.toString());
        Process p = pb.start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.readString(out).contains("started")) {
            if (System.nanoTime() > deadline) throw new AssertionError("the recorded program never started");
            Thread.sleep(50);
        }
        Thread.sleep(300); // let the exec of sleep happen
        return p;
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
