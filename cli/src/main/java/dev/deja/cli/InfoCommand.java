package dev.deja.cli;

import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingHeader;
import dev.deja.formats.RecordingSummary;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "info", description = {"Describe a recording: program, arguments, when, how long, processes, events, size.",
        "For a recording whose recorder died, counts the events that were kept."},
        footer = {"", "Example:", "  deja info bug1"})
final class InfoCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "RECORDING", description = "A recording directory or name (default: the latest).")
    String recording;

    @Override
    public Integer call() {
        try (Recording rec = RecordingArg.open(recording)) {
            RecordingHeader h = rec.header();
            Optional<RecordingSummary> summary = rec.summary();
            System.out.println("recording: " + rec.path());
            System.out.println("id:        " + h.id());
            System.out.println("status:    " + rec.status().name().toLowerCase());
            System.out.println("program:   " + (h.command().isEmpty() ? "" : h.command().getFirst()));
            System.out.println("command:   " + Quote.command(h.command()));
            System.out.println("cwd:       " + h.cwd());
            System.out.println("started:   " + Instant.ofEpochSecond(0, h.startTimeNs()));
            System.out.println("recorded on: " + h.hostname() + ", Linux " + h.kernel() + ", " + h.arch()
                    + ", uid " + h.uid() + " gid " + h.gid());
            System.out.println("format:    version " + h.formatVersion() + " (deja " + h.dejaVersion() + ")");
            if (summary.isPresent()) {
                RecordingSummary s = summary.get();
                System.out.println("duration:  " + human(Duration.ofNanos(s.endTimeNs() - h.startTimeNs())));
                System.out.println("exit status: " + s.exitStatus());
                System.out.println("processes: " + s.processCount());
                System.out.println("events:    " + s.eventCount());
            } else {
                // No summary: the recorder did not close it; count what the journal kept.
                long count = 0;
                Set<Integer> pids = new HashSet<>();
                long last = h.startTimeNs();
                try (EventReader events = rec.events()) {
                    Event e;
                    while ((e = events.next()) != null) {
                        count++;
                        pids.add(e.pid());
                        last = Math.max(last, e.timeNs());
                        if (e instanceof ExitEvent) last = Math.max(last, e.timeNs());
                    }
                }
                System.out.println("duration:  at least " + human(Duration.ofNanos(last - h.startTimeNs())));
                System.out.println("processes: " + pids.size());
                System.out.println("events:    " + count + " (kept before the recording stopped)");
            }
            System.out.println("size:      " + Sizes.human(rec.sizeBytes()) + " (" + rec.sizeBytes() + " bytes)");
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
        return ExitCodes.OK;
    }

    static String human(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) return ms + " ms";
        return String.format("%.2f s", ms / 1000.0);
    }
}
