package dev.deja.cli.debug;

import dev.deja.cli.ExitCodes;
import dev.deja.formats.Recording;
import dev.deja.formats.event.Event;
import dev.deja.formats.RecordingException;
import dev.deja.formats.Recordings;
import dev.deja.replayer.Replayer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * {@code deja debug}: a session of the {@link Debugger} over a recording, fed by a script file,
 * by a terminal (JLine: completion, history, Ctrl-C) or by stdin when it is not a terminal (no
 * prompt, plain text).
 */
public final class DebugSession {
    private DebugSession() {
    }

    /** The recorded program's time zone (its TZ variable), else deja's own: what its log timestamps are in. */
    static java.time.ZoneId recordedZone(Recording rec) {
        String tz = rec.header().environment().get("TZ");
        if (tz != null) {
            try {
                return java.time.ZoneId.of(tz.startsWith(":") ? tz.substring(1) : tz);
            } catch (java.time.DateTimeException e) {
                // a POSIX TZ rule ("CET-1CEST") Java does not parse: deja's own zone below
                return java.time.ZoneId.systemDefault();
            }
        }
        return java.time.ZoneId.systemDefault();
    }

    /**
     * Runs a session and returns deja's exit status: 0 after {@code quit} or the end of the commands,
     * {@link ExitCodes#DIVERGENCE} when the replay diverged, {@link ExitCodes#DEJA_FAILURE} when deja
     * could not replay.
     *
     * @param live    how to replay, or null for offline browsing (--no-exec)
     * @param script  a command file run first, or null
     * @param gotoSeq an event to go to first, or -1
     */
    public static int run(Recording rec, Replayer.Options live, Path script, long gotoSeq, RunComparer comparer)
            throws RecordingException, IOException, NoSuchEvent {
        Timeline timeline = Timeline.load(rec);
        long last = timeline.events().stream().mapToLong(Event::seq).max().orElse(0);
        if (gotoSeq > last) {
            throw new NoSuchEvent("the recording has no event " + gotoSeq + " (its events are numbered 1 to " + last + ")");
        }
        boolean terminal = System.console() != null && System.console().isTerminal();
        if (!terminal) {
            PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
            Debugger d = new Debugger(timeline, out, Style.PLAIN, live == null ? null : new LiveReplay(rec, live));
            d.comparer(comparer);
            d.zone(recordedZone(rec));
            try {
                if (begin(d, gotoSeq, script)) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (!d.execute(line)) break;
                    }
                }
            } finally {
                d.close();
            }
            return status(d);
        }
        return interactive(rec, timeline, live, script, gotoSeq, comparer);
    }

    /** The event to start at is not in the recording: refused before anything runs. */
    public static final class NoSuchEvent extends Exception {
        NoSuchEvent(String message) {
            super(message);
        }
    }

    /** Starts the session, goes to {@code gotoSeq} and runs {@code script}; false when one of them ends it. */
    private static boolean begin(Debugger d, long gotoSeq, Path script) throws IOException {
        d.start();
        boolean go = gotoSeq < 0 || d.execute("goto " + gotoSeq);
        return go && (script == null || runScript(d, script));
    }

    private static boolean runScript(Debugger d, Path script) throws IOException {
        for (String line : Files.readAllLines(script, StandardCharsets.UTF_8)) {
            if (!d.execute(line)) return false;
        }
        return true;
    }

    private static int status(Debugger d) {
        if (d.diverged()) return ExitCodes.DIVERGENCE;
        if (d.failed()) return ExitCodes.DEJA_FAILURE;
        return ExitCodes.OK;
    }

    /** Where the shell's history is kept across sessions: deja's home (DEJA_HOME, else ~/.local/share/deja). */
    static Path historyFile() {
        return Recordings.home().resolve("debug_history");
    }

    private static int interactive(Recording rec, Timeline timeline, Replayer.Options live, Path script, long gotoSeq,
                                   RunComparer comparer)
            throws IOException {
        // The FFM provider: no stty or infocmp child processes, which would race the tracer's waitpid(-1).
        try (Terminal term = TerminalBuilder.builder().system(true).provider("ffm").nativeSignals(true).build()) {
            boolean colour = !Terminal.TYPE_DUMB.equals(term.getType()) && !Terminal.TYPE_DUMB_COLOR.equals(term.getType());
            PrintWriter out = term.writer();
            Debugger d = new Debugger(timeline, out, new Style(colour, Math.max(0, term.getWidth())),
                    live == null ? null : new LiveReplay(rec, live));
            d.comparer(comparer);
            d.zone(recordedZone(rec));
            term.handle(Terminal.Signal.INT, sig -> d.interrupt());
            Path history = historyFile();
            try {
                Files.createDirectories(history.getParent());
            } catch (IOException e) {
                out.println("deja: warning: no history: cannot create " + history.getParent() + ": " + e.getMessage());
            }
            LineReader reader = LineReaderBuilder.builder().terminal(term).appName("deja")
                    .completer(new DebugCompleter(timeline))
                    .variable(LineReader.HISTORY_FILE, history)
                    .variable(LineReader.HISTORY_SIZE, 5000)
                    .option(LineReader.Option.HISTORY_IGNORE_DUPS, true)
                    .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                    .build();
            try {
                boolean go = begin(d, gotoSeq, script);
                String last = "";
                while (go) {
                    String line;
                    try {
                        line = reader.readLine(d.prompt());
                    } catch (UserInterruptException e) {
                        continue; // Ctrl-C at the prompt: a fresh line
                    } catch (EndOfFileException e) {
                        break;
                    }
                    // An empty line repeats the last moving command, as in gdb.
                    if (line.isBlank()) {
                        line = last;
                    } else {
                        last = REPEATABLE.contains(line.strip().split("\\s+")[0]) ? line.strip() : "";
                    }
                    go = d.execute(line);
                    saveHistory(reader, out);
                }
            } finally {
                d.close();
                saveHistory(reader, out);
            }
            return status(d);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static final List<String> REPEATABLE = List.of("s", "step", "n", "next", "rs", "reverse-step");

    private static void saveHistory(LineReader reader, PrintWriter out) {
        try {
            reader.getHistory().save();
        } catch (IOException e) {
            out.println("deja: warning: cannot save the history: " + e.getMessage());
        }
    }
}
