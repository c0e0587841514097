package dev.deja.cli;

import dev.deja.device.DeviceException;
import dev.deja.device.Launch;
import dev.deja.device.LaunchSpec;
import dev.deja.device.syscall.Arch;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.Recordings;
import dev.deja.recorder.Recorder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "record", sortOptions = false,
        description = {"Run a program and record every system call it makes into a recording.",
                "The program's output and exit status are unchanged; deja exits with the program's status."},
        footer = {"", "Examples:", "  deja record -o bug1 -- ./flaky-test --seed 7",
                "  deja record -- sh -c 'ls | sort'"})
final class RecordCommand implements Callable<Integer> {

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "Recording directory to create (default: a new <program>-N under ${DEJA_HOME:-~/.local/share/deja})")
    Path output;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing of deja's own (the program's output is untouched).")
    boolean quiet;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments.")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        LaunchSpec spec;
        try {
            spec = Launch.of(command, Host.inheritedFds(), Host.signalMask("deja.sigblk"), Host.signalMask("deja.sigign"));
        } catch (Launch.CommandException e) {
            throw new UserError(e.getMessage(), e.status());
        }
        Path home = Recordings.home();
        Path dir = output != null ? output.toAbsolutePath() : Recordings.newRecordingDir(home, programName());
        if (output != null && Files.exists(dir) && !Host.isEmptyDirectory(dir)) {
            throw new UserError("refusing to overwrite " + dir + ": it exists and is not empty");
        }
        RecordingHeader header = RecordingHeader.forCommand(command, environmentMap(spec), Host.cwd(), Host.uid(),
                Host.gid(), Host.kernelRelease(), Arch.current().unameName(), Host.hostname(), epochNanos());
        Recorder.Outcome outcome;
        try {
            outcome = Recorder.record(spec, header, dir);
        } catch (RecordingException e) {
            throw new UserError("recording failed: " + e.getMessage());
        } catch (DeviceException e) {
            throw new UserError("cannot trace " + command.getFirst() + ": " + e.getMessage());
        }
        if (output == null || dir.startsWith(home)) {
            Recordings.pointLatest(home, dir);
        }
        if (!quiet) {
            String how = outcome.result().interrupted() ? "interrupted; events so far kept in " : "recorded to ";
            System.err.println("deja: " + how + dir + " (" + outcome.result().events() + " events)");
        }
        return outcome.result().shellStatus();
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
