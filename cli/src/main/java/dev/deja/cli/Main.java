package dev.deja.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code deja} launcher: one subcommand per verb, each a thin layer over the modules. */
@Command(name = "deja", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Record a Linux program's system calls and replay them deterministically.",
        subcommands = {RecordCommand.class, ReplayCommand.class, DebugCommand.class, DiffCommand.class, TraceCommand.class, RunCommand.class, LsCommand.class, InfoCommand.class, DumpCommand.class, ReportCommand.class, PackCommand.class, UnpackCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        // Out of heap (a replay of millions of events in the launcher's default heap), on any thread: one
        // line saying what to do, status 125; the shutdown hooks still keep a recording's events and
        // remove a replay's directory.
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            if (e instanceof OutOfMemoryError) outOfMemory();
            System.err.println("deja: internal error in thread " + thread.getName() + ": " + e);
            System.exit(ExitCodes.DEJA_FAILURE);
        });
        try {
            System.exit(run(args));
        } catch (OutOfMemoryError e) {
            outOfMemory();
        }
    }

    private static void outOfMemory() {
        System.err.println("deja: out of memory: this run needs more than deja's heap of "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB; run it again with a larger one, e.g. DEJA_HEAP=4g");
        System.exit(ExitCodes.DEJA_FAILURE);
    }

    /** Runs deja's command line and returns the exit status (for tests and the launcher). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        // As with strace and rr, everything from the program's name on is the program's: "deja record ls -l".
        for (String taker : new String[] {"record", "trace", "run"}) {
            cli.getSubcommands().get(taker).setStopAtPositional(true);
        }
        cli.setExecutionExceptionHandler((ex, line, parsed) -> {
            // Expected failures become one line; anything else is a bug worth its stack trace.
            if (ex instanceof UserError u) {
                line.getErr().println("deja: " + u.getMessage());
                return u.status();
            }
            // A bug in deja: one line for the user, the stack trace for a bug report on demand.
            line.getErr().println("deja: internal error: " + ex
                    + (System.getenv("DEJA_DEBUG") == null ? " (set DEJA_DEBUG=1 for the stack trace)" : ""));
            if (System.getenv("DEJA_DEBUG") != null) ex.printStackTrace(line.getErr());
            return ExitCodes.DEJA_FAILURE;
        });
        cli.setParameterExceptionHandler((ex, args2) -> {
            CommandLine c = ex.getCommandLine();
            if (ex instanceof CommandLine.UnmatchedArgumentException u && c.getParent() == null && !u.getUnmatched().isEmpty()
                    && !u.getUnmatched().getFirst().startsWith("-")) {
                // "deja replya": the command it most likely meant
                String word = u.getUnmatched().getFirst();
                c.getErr().println("deja: unknown command '" + word + "'" + Suggest.closest(word, c.getSubcommands().keySet())
                        .map(m -> "; did you mean 'deja " + m + "'?").orElse(""));
            } else {
                c.getErr().println("deja: " + ex.getMessage());
            }
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
            return ExitCodes.DEJA_FAILURE;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
