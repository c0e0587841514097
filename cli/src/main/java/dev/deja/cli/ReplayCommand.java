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
        footer = {"", "Examples:", "  deja replay bug1", "  deja replay --quiet bug1; echo $?", "  deja replay -M bug1",
                "  deja replay --gdb bug1            # then: gdb -ex 'target extended-remote 127.0.0.1:50505'"})
final class ReplayCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "RECORDING", description = "A recording directory or name, or a packed recording (.deja file); default: the latest.")
    String recording;

    @Option(names = {"-q", "--quiet"}, description = "Do not reproduce the program's output; print nothing but a divergence.")
    boolean quiet;

    @Option(names = {"-M", "--mark"}, description = "Mark each line of the program's output with the event that wrote it: \"[deja 1042] ok 17/18\".")
    boolean mark;

    @Option(names = "--stats", description = {"After the replay, print on stderr how many calls were replayed and how"
            + " many stops of the program that took: a call deja answers from the recording takes one stop, one that"
            + " runs for real two (DEJA_REPLAY_STOPS=2: two for every call). See docs/performance.md."})
    boolean stats;

    @Option(names = "--gdb", arity = "0..1", paramLabel = "HOST:PORT", fallbackValue = GdbAddress.DEFAULT,
            description = {"Serve the replay to gdb (the GDB remote protocol): the replay stops at the program's start"
                    + " and waits for gdb on HOST:PORT (default " + GdbAddress.DEFAULT + "; PORT alone binds 127.0.0.1;"
                    + " port 0 picks a free one); it prints the gdb command to connect. See docs/gdb.md."})
    String gdb;

    @Override
    public Integer call() {
        if (gdb != null && !GdbAddress.looksLikeOne(gdb)) {
            // `--gdb NAME`: picocli gave the recording to the option's optional value.
            if (recording != null) throw new UserError("--gdb " + gdb + ": not HOST:PORT or PORT", ExitCodes.DEJA_FAILURE);
            recording = gdb;
            gdb = GdbAddress.DEFAULT;
        }
        if (gdb != null) return new GdbReplay(GdbAddress.parse(gdb), quiet, mark).run(recording);
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
        if (stats) System.err.println("deja: " + statsLine(outcome));
        return report(outcome, incomplete, quiet);
    }

    /**
     * "replayed 20007 calls in 20031 stops (19990 calls answered at one stop, 0 steps taken ahead of the
     * recorded order)", or what is not known of it.
     */
    static String statsLine(Replayer.Outcome o) {
        if (o.stops() < 0) return "replayed " + o.replayed() + " calls (stops not counted: the replay did not run to its end)";
        return "replayed " + o.replayed() + " calls in " + o.stops() + " stops (" + o.oneStop()
                + " calls answered at one stop, " + o.withoutStop() + " without a stop, " + o.ahead()
                + " steps taken ahead of the recorded order)";
    }

    /** Prints a replay's warnings, divergence or notes as `deja replay` does; returns its exit status. */
    static int report(Replayer.Outcome outcome, boolean incomplete, boolean quiet) {
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
