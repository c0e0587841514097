package dev.deja.cli;

import dev.deja.cli.debug.DebugSession;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.replayer.Replayer;
import dev.deja.replayer.diff.DiffOptions;
import dev.deja.replayer.diff.DiffRenderer;
import dev.deja.replayer.diff.DiffReport;
import dev.deja.replayer.diff.RecordingDiff;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "debug", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Step through a recording in a shell over a live replay.",
                "The replay is held before a recorded call. Move with step, next, continue to breakpoints, goto (also"
                        + " backwards); inspect the call, the process's registers and memory, descriptors, threads."
                        + " Commands come from a terminal, -x FILE, or stdin. See docs/debug.md."},
        footer = {"", "Exit status: 0 after quit, 124 when the replay diverged, 125 when deja failed.",
                "", "Examples:", "  deja debug bug1", "  deja debug -g 1042 bug1", "  deja debug --no-exec bug1",
                "  deja debug -x steps.txt bug1", "  printf 'break openat\\ncontinue\\ninfo\\n' | deja debug bug1"})
final class DebugCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "RECORDING", description = "A recording directory or name (default: the latest).")
    String recording;

    @Option(names = {"-x", "--commands"}, paramLabel = "FILE", description = "Run FILE's commands first (one per line, # comments).")
    Path script;

    @Option(names = {"-g", "--goto"}, paramLabel = "EVENT", description = "Start at event EVENT (as 'goto EVENT').")
    Long gotoEvent;

    @Option(names = "--no-exec", description = "Browse the recording offline: nothing runs; registers, memory and maps are unavailable.")
    boolean noExec;

    @Override
    public Integer call() {
        if (script != null && !Files.isReadable(script)) throw new UserError("cannot read the command file " + script);
        if (gotoEvent != null && gotoEvent < 1) {
            throw new UserError("debug: -g (--goto) takes an event number, 1 or more, got " + gotoEvent);
        }
        Replayer.Options options = noExec ? null : new Replayer.Options(new FileOutputStream(FileDescriptor.out),
                new FileOutputStream(FileDescriptor.err), Host.closeFds(), Host.signalMask("deja.sigblk"),
                Host.signalMask("deja.sigign"), false);
        try (Recording rec = RecordingArg.open(recording)) {
            return DebugSession.run(rec, options, script, gotoEvent == null ? -1 : gotoEvent,
                    (other, o) -> compare(rec, other, o));
        } catch (DebugSession.NoSuchEvent e) {
            throw new UserError("debug: -g " + gotoEvent + ": " + e.getMessage());
        } catch (RecordingException e) {
            throw new UserError("cannot debug: " + e.getMessage());
        } catch (IOException e) {
            throw new UserError("debug: " + e.getMessage());
        }
    }

    /** The shell's diff: this session's recording as run A, {@code other} as run B. */
    private static String compare(Recording rec, String other, DiffOptions options) {
        try (Recording b = RecordingArg.open(other)) {
            DiffReport report = RecordingDiff.compare(rec, b, options);
            return new DiffRenderer(report).text();
        } catch (UserError | RecordingException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
