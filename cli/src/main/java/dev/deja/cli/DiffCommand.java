package dev.deja.cli;

import dev.deja.cli.report.DiffPage;
import dev.deja.cli.report.HtmlReport;
import dev.deja.cli.report.RunModel;
import dev.deja.cli.report.RunModelBuilder;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.replayer.diff.DiffOptions;
import dev.deja.replayer.diff.DiffRenderer;
import dev.deja.replayer.diff.DiffReport;
import dev.deja.replayer.diff.RecordingDiff;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "diff", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Compare two recordings of the same program (a passing and a failing run) and show where they part.",
                "",
                "Threads are matched by creation order and each thread's events are aligned; pointer values and ids are "
                        + "normalised. The first control-flow difference of each thread (another call, another result "
                        + "class, another path or argument) is shown with context, then the data the kernel gave that "
                        + "thread differently before it: the candidates for the cause.",
                "",
                "Exit status: 0 when the runs take the same path (with --data: when nothing differs), 1 when they "
                        + "differ, 125 on error."},
        footer = {"", "Examples:", "  deja diff pass1 fail1", "  deja diff -C 8 --all pass1 fail1", "  deja diff --data --json pass1 fail1 | jq .first",
                "  deja diff --html pass1 fail1 -o diff.html"})
final class DiffCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "REC1", description = "Run A: a recording directory or name.")
    String first;

    @Parameters(index = "1", paramLabel = "REC2", description = "Run B: a recording directory or name.")
    String second;

    @Option(names = "-C", paramLabel = "N", defaultValue = "3",
            description = "Events of context shown around each difference (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--all", description = "Every difference, not only the first of each thread.")
    boolean all;

    @Option(names = "--data", description = "Also show pure data differences (clock values, random bytes, stat fields), first.")
    boolean data;

    @Option(names = "--json", description = "One JSON object instead of text.")
    boolean json;

    @Option(names = "--html", description = "One self-contained HTML page (as deja report writes): both runs on one time axis, "
            + "the first difference and its candidate causes marked; written to -o FILE.")
    boolean html;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "With --html: the page to write, or - for standard output.")
    String output;

    @Option(names = {"-f", "--force"}, description = "With --html: replace FILE if it exists.")
    boolean force;

    @Option(names = {"-q", "--quiet"}, description = "With --html: print nothing when the page is written.")
    boolean quiet;

    @Override
    public Integer call() {
        if (context < 0) throw new UserError("-C takes a number of events, at least 0: " + context);
        if (html && json) throw new UserError("diff: --html and --json are two forms of the report: choose one");
        if (html && output == null) throw new UserError("diff --html writes a page: give it a file with -o FILE (or -o - for standard output)");
        if (!html && (output != null || force || quiet)) throw new UserError("diff: -o, --force and --quiet go with --html");
        DiffReport report;
        List<RunModel> models = new ArrayList<>();
        try (Recording a = RecordingArg.open(first); Recording b = RecordingArg.open(second)) {
            report = RecordingDiff.compare(a, b, new DiffOptions(context, all, data));
            if (html) {
                models.add(RunModelBuilder.build(a, first));
                models.add(RunModelBuilder.build(b, second));
            }
        } catch (RecordingException e) {
            throw new UserError(e.getMessage());
        }
        boolean differ = !report.sameControlFlow() || data && !report.identical();
        if (html) {
            HtmlFile.write(output, force, out -> HtmlReport.write(out, "deja diff: " + first + " vs " + second, "diff",
                    models, DiffPage.json(report)));
            if (!quiet && !output.equals("-")) {
                System.err.printf("deja: wrote %s (%s)%n", output, differ ? "the runs differ" : "the runs take the same path");
            }
            return differ ? ExitCodes.DIFFERENT : ExitCodes.OK;
        }
        DiffRenderer renderer = new DiffRenderer(report);
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        if (json) out.println(renderer.json());
        else out.print(renderer.text());
        out.flush();
        if (out.checkError()) return ExitCodes.DEJA_FAILURE;
        return differ ? ExitCodes.DIFFERENT : ExitCodes.OK;
    }
}
