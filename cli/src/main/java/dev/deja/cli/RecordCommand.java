package dev.deja.cli;

import dev.deja.cli.debug.TestMarkers;
import dev.deja.device.DeviceException;
import dev.deja.device.LaunchSpec;
import dev.deja.device.TraceResult;
import dev.deja.device.ffm.Affinity;
import dev.deja.device.syscall.Arch;
import dev.deja.formats.LaunchSignals;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.Recordings;
import dev.deja.formats.SharedBlobs;
import dev.deja.recorder.Recorder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "record", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Run a program and record every system call it makes into a recording.",
                "The program's output and exit status are unchanged; deja exits with the program's status.",
                "With --until-fail, re-run it (each run recorded) until a run fails, and keep only that recording."},
        footer = {"", "Examples:", "  deja record -o bug1 -- ./flaky-test --seed 7",
                "  deja record -- sh -c 'ls | sort'",
                "  deja record --until-fail --max-runs 200 -o bug1 -- ./flaky-test",
                "  deja record --until-fail --keep-passing 1 -o bug1 -- ./flaky-test   (then: deja diff bug1-pass1 bug1)",
                "  deja record --until-fail --chaos --seed 42 --timeout 30s -- ./flaky-test",
                "  deja record --keep-on-failure -o ci-run -- make test"})
final class RecordCommand implements Callable<Integer> {
    static final int DEFAULT_MAX_RUNS = 100;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "Recording directory to create (default: a new <program>-N under ${DEJA_HOME:-~/.local/share/deja})")
    Path output;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing of deja's own (the program's output is untouched).")
    boolean quiet;

    @Option(names = "--stats", description = {"After each run, print on stderr how many events were recorded and how"
            + " many stops of the program that took: a call deja performs itself (a stat, a read of a file, the clock)"
            + " takes one stop, any other two (DEJA_NO_EMULATION=1: two for every call). See docs/performance.md."})
    boolean stats;

    @Option(names = "--until-fail", description = "Re-run the program until a run fails; keep only the failing run's recording.")
    boolean untilFail;

    @Option(names = "--max-runs", paramLabel = "N",
            description = "With --until-fail: give up after N runs (default: " + DEFAULT_MAX_RUNS + ").")
    Integer maxRuns;

    @Option(names = "--keep-passing", paramLabel = "N",
            description = "With --until-fail: also keep the last N passing runs, as DIR-pass1 (the latest) to DIR-passN, "
                    + "so that 'deja diff DIR-pass1 DIR' has a pair (default: 0).")
    Integer keepPassing;

    @Option(names = "--timeout", paramLabel = "DURATION",
            description = "Kill a run that lasts longer (500ms, 30s, 5m, 2h); a run killed so counts as failed.")
    String timeout;

    @Option(names = "--fail-if", paramLabel = "REGEX",
            description = "With --until-fail or --keep-on-failure: a run whose stdout or stderr matches REGEX "
                    + "failed, whatever its exit status.")
    String failIf;

    @Option(names = "--keep-on-failure", description = "Keep the recording only if the run failed; delete it otherwise.")
    boolean keepOnFailure;

    @Option(names = "--chaos", description = "Perturb scheduling at syscall boundaries (delays, thread order, 1-2 CPUs) "
            + "so that order-dependent bugs show sooner.")
    boolean chaos;

    @Option(names = "--seed", paramLabel = "N",
            description = "With --chaos: the seed of the perturbations (default: a random one, printed).")
    Long seed;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments.")
    List<String> command = new ArrayList<>();

    /** The options, checked: what a run is, and when it counts as failed. */
    private record Plan(int runs, Optional<Duration> timeout, Optional<Pattern> failIf, OptionalLong chaosSeed,
                        boolean judged) {
    }

    /** Why a run failed; empty when it passed. */
    private record Verdict(Optional<String> failure, int status) {
        boolean failed() {
            return failure.isPresent();
        }
    }

    @Override
    public Integer call() {
        Plan plan = plan();
        LaunchSpec spec = Host.launchSpec(command);
        Path home = Recordings.home();
        boolean existed = output != null && Files.exists(output.toAbsolutePath());
        Path dir = output != null ? output.toAbsolutePath() : newRecordingDir(home);
        if (output != null && Files.exists(dir) && !Host.isEmptyDirectory(dir)) {
            throw new UserError("refusing to overwrite " + dir + ": it exists and is not empty");
        }
        String shown = output != null ? output.toString() : dir.toString();
        List<Path> passSlots = new ArrayList<>();
        for (int k = 1; k <= (keepPassing == null ? 0 : keepPassing); k++) {
            Path slot = dir.resolveSibling(dir.getFileName() + "-pass" + k);
            if (Files.exists(slot, LinkOption.NOFOLLOW_LINKS)) {
                throw new UserError("refusing to overwrite " + slot + " (--keep-passing keeps passing runs there): it exists");
            }
            passSlots.add(slot);
        }
        int passesKept = 0;
        List<Integer> cpus = plan.chaosSeed().isPresent() ? Affinity.allowed(0) : List.of();
        if (plan.chaosSeed().isPresent()) say("chaos seed " + plan.chaosSeed().getAsLong());

        for (int run = 1; run <= plan.runs(); run++) {
            OptionalLong runSeed = plan.chaosSeed().isPresent()
                    ? OptionalLong.of(runSeed(plan.chaosSeed().getAsLong(), run)) : OptionalLong.empty();
            Recorder.Outcome outcome = recordOnce(spec, dir, new Recorder.Settings(plan.timeout(), runSeed, cpus,
                    Optional.of(SharedBlobs.inHome(home))));
            TraceResult result = outcome.result();
            if (stats) System.err.println("deja: " + statsLine(result));
            if (result.interrupted()) {
                for (Path slot : passSlots) deleteRecording(slot);
                keep(home, dir);
                say("interrupted" + (untilFail ? " at run " + run : "") + "; events so far kept in " + shown
                        + discarded(run - 1));
                return result.shellStatus();
            }
            if (!plan.judged()) {
                keep(home, dir);
                say("recorded to " + shown + " (" + result.events() + " events)"
                        + (outcome.timedOut() ? "; killed after the --timeout of " + DurationArg.format(plan.timeout().orElseThrow()) : ""));
                return result.shellStatus();
            }
            Verdict verdict = judge(outcome, plan, spec);
            if (verdict.failed()) {
                keep(home, dir);
                String which = untilFail ? "run " + run + " of at most " + plan.runs() : "the run";
                say(which + " failed (" + verdict.failure().get() + "); recorded to " + shown + discarded(run - 1 - passesKept)
                        + (passesKept == 0 ? "" : "; the last passing run" + (passesKept == 1 ? "" : "s") + " kept as "
                        + passSlots.getFirst().getFileName() + (passesKept == 1 ? "" : " (latest) to "
                        + passSlots.get(passesKept - 1).getFileName())));
                if (untilFail && runSeed.isPresent() && run > 1) {
                    say("run " + run + " used chaos seed " + runSeed.getAsLong() + " (--chaos --seed "
                            + runSeed.getAsLong() + " starts a hunt with it)");
                }
                return verdict.status();
            }
            if (!passSlots.isEmpty()) {
                // The latest passing run becomes DIR-pass1; older ones move down, the oldest kept is dropped.
                deleteRecording(passSlots.getLast());
                for (int k = passSlots.size() - 1; k > 0; k--) move(passSlots.get(k - 1), passSlots.get(k));
                move(dir, passSlots.getFirst());
                passesKept = Math.min(passesKept + 1, passSlots.size());
            } else {
                clear(dir);
            }
        }
        for (Path slot : passSlots) deleteRecording(slot);
        if (!existed) delete(dir);
        say(untilFail ? "no run failed in " + plan.runs() + " run" + (plan.runs() == 1 ? "" : "s") + "; nothing kept"
                : "the run passed; its recording was deleted");
        return ExitCodes.OK;
    }

    /** Checks the options against each other; every mistake is one line. */
    private Plan plan() {
        if (maxRuns != null && !untilFail) throw new UserError("--max-runs needs --until-fail");
        if (maxRuns != null && maxRuns < 1) throw new UserError("--max-runs must be at least 1, got " + maxRuns);
        if (keepPassing != null && !untilFail) throw new UserError("--keep-passing needs --until-fail");
        if (keepPassing != null && keepPassing < 0) throw new UserError("--keep-passing must be 0 or more, got " + keepPassing);
        if (untilFail && keepOnFailure) {
            throw new UserError("--until-fail already keeps only a failing run; use it or --keep-on-failure, not both");
        }
        if (failIf != null && !untilFail && !keepOnFailure) throw new UserError("--fail-if needs --until-fail or --keep-on-failure");
        if (seed != null && !chaos) throw new UserError("--seed needs --chaos");
        Optional<Duration> limit = Optional.empty();
        if (timeout != null) {
            try {
                limit = Optional.of(DurationArg.parse(timeout));
            } catch (IllegalArgumentException e) {
                throw new UserError("--timeout: " + e.getMessage());
            }
        }
        Optional<Pattern> pattern = Optional.empty();
        if (failIf != null) {
            try {
                pattern = Optional.of(Pattern.compile(failIf, Pattern.MULTILINE));
            } catch (PatternSyntaxException e) {
                throw new UserError("--fail-if: '" + failIf + "' is not a regular expression: " + e.getDescription()
                        + (e.getIndex() >= 0 ? " at index " + e.getIndex() : ""));
            }
        }
        OptionalLong chaosSeed = chaos
                ? OptionalLong.of(seed != null ? seed : ThreadLocalRandom.current().nextLong(1L << 31))
                : OptionalLong.empty();
        int runs = untilFail ? (maxRuns != null ? maxRuns : DEFAULT_MAX_RUNS) : 1;
        return new Plan(runs, limit, pattern, chaosSeed, untilFail || keepOnFailure);
    }

    /** Run N of a hunt uses the printed seed plus N-1, so that any run can be repeated on its own. */
    static long runSeed(long seed, int run) {
        return seed + (run - 1);
    }

    private Recorder.Outcome recordOnce(LaunchSpec spec, Path dir, Recorder.Settings settings) {
        RecordingHeader header = RecordingHeader.forCommand(command, environmentMap(spec), Host.cwd(), Host.uid(),
                Host.gid(), Host.kernelRelease(), Arch.current().unameName(), Host.hostname(), epochNanos(),
                Optional.of(new LaunchSignals(spec.blockedSignals(), spec.ignoredSignals())));
        try {
            return Recorder.record(spec, header, dir, settings);
        } catch (RecordingException e) {
            throw new UserError("recording failed: " + e.getMessage());
        } catch (DeviceException e) {
            throw new UserError("cannot trace " + command.getFirst() + ": " + e.getMessage());
        }
    }

    /** "recorded 20046 events in 2101 stops (3 calls performed by deja at one stop, 19000 without a stop)". */
    static String statsLine(TraceResult r) {
        return "recorded " + r.events() + " events in " + r.stops() + " stops (" + r.answeredAtEntry()
                + " calls performed by deja at one stop, " + r.answeredAhead() + " without a stop)";
    }

    /**
     * A run failed when it was killed for its --timeout, exited non-zero or was killed by a signal, marked
     * a test failed (deja-junit's markers, when DEJA_MARKER_FD is set), or wrote output that matches
     * --fail-if. deja then exits with the run's status, or 1 when the status was 0 (a failure by markers
     * or output alone), so that a kept recording never goes with status 0.
     */
    private Verdict judge(Recorder.Outcome outcome, Plan plan, LaunchSpec spec) {
        TraceResult r = outcome.result();
        int status = r.shellStatus();
        if (outcome.timedOut()) {
            return new Verdict(Optional.of("timed out after " + DurationArg.format(plan.timeout().orElseThrow()) + ", killed"), status);
        }
        if (r.termSignal() != 0) return new Verdict(Optional.of("killed by signal " + r.termSignal()), status);
        if (r.exitCode() != 0) return new Verdict(Optional.of("exit status " + r.exitCode()), status);
        if (environmentMap(spec).containsKey("DEJA_MARKER_FD")) {
            // A JVM whose tests deja-junit marks: a test marked failed fails the run (Surefire's fork exits 0).
            long failedTests;
            try (Recording rec = Recording.open(outcome.recording())) {
                failedTests = TestMarkers.of(rec).stream().filter(TestMarkers.TestRun::failed).count();
            } catch (RecordingException e) {
                throw new UserError("cannot read the test markers of the run recorded in " + outcome.recording() + ": "
                        + e.getMessage());
            }
            if (failedTests > 0) {
                return new Verdict(Optional.of(failedTests + " test" + (failedTests == 1 ? "" : "s") + " failed, exit status 0"), 1);
            }
        }
        if (plan.failIf().isPresent()) {
            RecordedOutput out;
            try {
                out = RecordedOutput.of(outcome.recording());
            } catch (RecordingException e) {
                throw new UserError("cannot read the output of the run recorded in " + outcome.recording() + ": "
                        + e.getMessage());
            }
            Pattern p = plan.failIf().get();
            String stream = p.matcher(out.stdout()).find() ? "stdout" : p.matcher(out.stderr()).find() ? "stderr" : null;
            if (stream != null) {
                return new Verdict(Optional.of(stream + " matched --fail-if, exit status 0"), 1);
            }
        }
        return new Verdict(Optional.empty(), 0);
    }

    private static String discarded(int passing) {
        if (passing == 0) return "";
        return " (" + passing + " passing run" + (passing == 1 ? "" : "s") + " discarded)";
    }

    /** A new {@code <program>-N} in deja's home; a home that is a file or cannot be written is the user's to fix. */
    private Path newRecordingDir(Path home) {
        try {
            Recordings.usableHome();
            return Recordings.newRecordingDir(home, programName());
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        } catch (UncheckedIOException e) {
            throw new UserError(e.getMessage());
        }
    }

    private void keep(Path home, Path dir) {
        if (output != null && !dir.startsWith(home)) return;
        try {
            Recordings.pointLatest(home, dir);
        } catch (UncheckedIOException e) {
            // the recording is made: a link that cannot be updated is not worth failing the run for
            System.err.println("deja: warning: " + e.getMessage());
        }
    }

    private void say(String line) {
        if (!quiet) System.err.println("deja: " + line);
    }

    /** Empties a passing run's recording directory, for the next run or for good. */
    private static void clear(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) Files.delete(p);
            }
        } catch (IOException e) {
            throw new UserError("cannot delete the passing run's recording in " + dir + ": " + e.getMessage());
        } catch (UncheckedIOException e) {
            throw new UserError("cannot delete the passing run's recording in " + dir + ": " + e.getCause().getMessage());
        }
    }

    /** Moves a passing run's recording to its --keep-passing slot (a rename in the same directory). */
    private static void move(Path from, Path to) {
        if (!Files.exists(from, LinkOption.NOFOLLOW_LINKS)) return;
        try {
            Files.move(from, to);
        } catch (IOException e) {
            throw new UserError("cannot keep the passing run's recording as " + to + ": " + e.getMessage());
        }
    }

    /** Deletes a recording directory deja made for a passing run, if it is there. */
    private static void deleteRecording(Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return;
        clear(dir);
        delete(dir);
    }

    private static void delete(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UserError("cannot remove the empty recording directory " + dir + ": " + e.getMessage());
        }
    }

    private String programName() {
        String name = Path.of(command.getFirst()).getFileName().toString();
        return name.isEmpty() ? "program" : name;
    }

    private static Map<String, String> environmentMap(LaunchSpec spec) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : spec.environment()) {
            int eq = kv.indexOf('=');
            if (eq > 0) env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return env;
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
