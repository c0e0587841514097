package dev.deja.cli;

import dev.deja.cli.report.HtmlReport;
import dev.deja.cli.report.RunModel;
import dev.deja.cli.report.RunModelBuilder;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.Recordings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "report", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Write a recording as one self-contained HTML page: the run's summary, a "
                + "timeline of every process and thread with its calls by class, the program's "
                + "output linked to the writes, search, and the command that debugs the run at "
                + "a chosen event.",
                "The page fetches nothing: attach it to a bug report and open it in any current browser."},
        footer = {"", "Examples:", "  deja report bug1 -o bug1.html", "  deja report bug1.deja -o - > bug1.html"})
final class ReportCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "RECORDING",
            description = "A recording directory or name, or a packed recording (.deja file); default: the latest.")
    String recording;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "The page to write, or - for standard output (default: ./<recording name>.html).")
    String output;

    @Option(names = {"-f", "--force"}, description = "Replace FILE if it exists.")
    boolean force;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing when it succeeds.")
    boolean quiet;

    @Override
    public Integer call() {
        String name = recording != null ? recording : resolved();
        String target = output != null ? output : Path.of(name).toAbsolutePath().normalize().getFileName()
                .toString().replaceFirst("\\.deja$", "") + ".html";
        long begin = System.nanoTime();
        RunModel model;
        try (Recording rec = RecordingArg.open(recording)) {
            RecordingArg.arch(rec); // one clear line for a recording of an architecture this deja has no tables for
            model = RunModelBuilder.build(rec, name);
        } catch (RecordingException e) {
            throw new UserError("cannot read the recording: " + e.getMessage());
        }
        HtmlFile.write(target, force, out -> HtmlReport.write(out, model));
        if (!quiet && !target.equals("-")) {
            // The summary's count is the recording's (as record, info and dump say); the calls are what the timeline draws.
            System.err.printf("deja: wrote %s (%d events, %d calls drawn, %d lanes, %d output lines) in %.1f s%n", target,
                    model.summary().eventCount(), model.events().size(), model.lanes().size(), model.output().size(),
                    (System.nanoTime() - begin) / 1e9);
        }
        return ExitCodes.OK;
    }

    private String resolved() {
        try {
            return Recordings.resolve(null).toString();
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
    }
}
