package dev.deja.cli;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingStatus;
import dev.deja.replayer.Divergence;
import dev.deja.replayer.ReplayException;
import dev.deja.replayer.Replayer;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "replay", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Re-run a recorded program deterministically, answered from its recording.",
                "Every call that reads the outside world is answered from the recording, so the output, decisions and"
                        + " exit status are those recorded. deja exits with the program's status (for a recording"
                        + " interrupted by Ctrl-C or SIGTERM, the recorded 137, with a note), or 124 when the replay"
                        + " diverges from the recording."},
        footer = {"", "Examples:", "  deja replay bug1", "  deja replay --quiet bug1; echo $?", "  deja replay -M bug1"})
final class ReplayCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "RECORDING", description = "A recording directory or name, or a packed recording (.deja file); default: the latest.")
    String recording;

    @Option(names = {"-q", "--quiet"}, description = "Do not reproduce the program's output; print nothing but a divergence.")
    boolean quiet;

    @Option(names = {"-M", "--mark"}, description = "Mark each line of the program's output with the event that wrote it: \"[deja 1042] ok 17/18\".")
    boolean mark;

    @Override
    public Integer call() {
        OutputStream out = quiet ? OutputStream.nullOutputStream() : new FileOutputStream(FileDescriptor.out);
        OutputStream err = quiet ? OutputStream.nullOutputStream() : new FileOutputStream(FileDescriptor.err);
        Replayer.Options options = new Replayer.Options(out, err, Host.closeFds(), Host.signalMask("deja.sigblk"),
                Host.signalMask("deja.sigign"), mark);
        Replayer.Outcome outcome;
        boolean incomplete;
        try (Recording rec = RecordingArg.open(recording)) {
            incomplete = rec.status() == RecordingStatus.INCOMPLETE;
            outcome = Replayer.replay(rec, options);
        } catch (ReplayException e) {
            throw new UserError("cannot replay: " + e.getMessage());
        }
        if (!quiet) {
            for (String w : outcome.warnings()) System.err.println("deja: warning: " + w);
        }
        Divergence d = outcome.divergence();
        if (d != null) {
            System.err.println("deja: " + d.headline());
            if (!d.before().isEmpty()) {
                System.err.println("deja: the recorded events before it:");
                for (String line : d.before()) System.err.println("deja:   " + line);
            }
            if (incomplete) {
                System.err.println("deja: note: the recording is incomplete (its recorder stopped before finishing it):"
                        + " the replay ran to its last complete event");
            }
            return ExitCodes.DIVERGENCE;
        }
        if (outcome.cutShort() && !quiet) {
            System.err.println("deja: note: the recording was interrupted (deja record got Ctrl-C or SIGTERM and killed the"
                    + " program): the replay ran to where it ends, with the recorded status " + outcome.status());
        }
        return outcome.status();
    }
}
