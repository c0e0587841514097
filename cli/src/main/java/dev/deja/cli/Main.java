package dev.deja.cli;

import dev.deja.formats.Recording;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code deja} launcher: one subcommand per verb, each a thin layer over the modules. Only the
 * subcommand a command line names is built (picocli reads each one's annotations by reflection, a
 * large part of a short command's start); a line that names none, or {@code help}, gets them all.
 */
@Command(name = "deja", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Record a Linux program's system calls and replay them deterministically.")
public final class Main implements Runnable {
    /** The subcommands' names, in the order {@code deja --help} lists them. */
    private static final List<String> COMMANDS = List.of("record", "replay", "debug", "diff", "trace", "run", "ls",
            "info", "dump", "report", "pack", "unpack", "rm", "gc", "help");

    /**
     * A new subcommand object, or null for a name that is none. A switch, not a map of method
     * references: JDK 25's AOT cache creation crashed on lambdas that make picocli's objects (its
     * classes are too old to be cached).
     */
    private static Object command(String name) {
        return switch (name) {
            case "record" -> new RecordCommand();
            case "replay" -> new ReplayCommand();
            case "debug" -> new DebugCommand();
            case "diff" -> new DiffCommand();
            case "trace" -> new TraceCommand();
            case "run" -> new RunCommand();
            case "ls" -> new LsCommand();
            case "info" -> new InfoCommand();
            case "dump" -> new DumpCommand();
            case "report" -> new ReportCommand();
            case "pack" -> new PackCommand();
            case "unpack" -> new UnpackCommand();
            case "rm" -> new RmCommand();
            case "gc" -> new GcCommand();
            case "help" -> new CommandLine.HelpCommand();
            default -> null;
        };
    }

    public static void main(String[] args) {
        // Out of heap (a replay of millions of events in the launcher's default heap), on any thread: one
        // line saying what to do, status 125; the shutdown hooks still keep a recording's events and
        // remove a replay's directory.
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            FINISHED.countDown();
            if (e instanceof OutOfMemoryError) outOfMemory();
            else System.err.println("deja: internal error in thread " + thread.getName() + ": " + e);
            // In a shutdown hook (Ctrl-C, SIGTERM) System.exit would wait for the hooks, this one among them,
            // forever: the JVM is ending anyway, with the signal's status.
            if (shuttingDown()) return;
            System.exit(ExitCodes.DEJA_FAILURE);
        });
        if (args.length > 0 && REPORTS_AFTER_ITS_RUN.contains(args[0])) {
            // Ctrl-C or SIGTERM: the JVM halts once its hooks are done, and the run's own hook is done as soon
            // as the traced tree is gone. This one holds the JVM until the command has said how the run ended
            // ("interrupted; events so far kept in ...", or why it failed), or lost that line one time in three.
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("deja-report").unstarted(() -> {
                try {
                    FINISHED.await(15, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        int status;
        try {
            status = run(args);
        } catch (OutOfMemoryError e) {
            FINISHED.countDown();
            outOfMemory();
            return;
        } finally {
            System.out.flush();
            System.err.flush();
            FINISHED.countDown();
        }
        System.exit(status);
    }

    /** Counted down once the command is over: deja's exit need not wait for it any more. */
    private static final CountDownLatch FINISHED = new CountDownLatch(1);

    /** Commands that print how their traced run ended after it ended. */
    private static final Set<String> REPORTS_AFTER_ITS_RUN = Set.of("record", "replay", "trace", "run");

    private static void outOfMemory() {
        System.err.println("deja: out of memory: this run needs more than deja's heap of "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB; run it again with a larger one, e.g. DEJA_HEAP=4g");
        if (!shuttingDown()) System.exit(ExitCodes.DEJA_FAILURE);
    }

    /** Whether the JVM is running its shutdown hooks (a hook can no longer be added then). */
    private static boolean shuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    /** Runs deja's command line and returns the exit status (for tests and the launcher). */
    public static int run(String... args) {
        String first = args.length > 0 ? args[0] : "";
        if (OPENS_A_JOURNAL_FIRST.contains(first) && !asksForHelp(args)) {
            // Chronicle's start-up (0.1-0.4 s, the largest part of such a command's start) on a second thread while this
            // one builds the command line and reads the metadata; the first open waits for it.
            Thread.ofPlatform().daemon().name("deja-warm-up").start(new JournalWarmUp());
        }
        CommandLine cli = listsCommandsOnly(args) ? listing() : commandLine(first);
        cli.setExecutionExceptionHandler((ex, line, parsed) -> {
            // Expected failures become one line; anything else is a bug worth its stack trace.
            if (ex instanceof UserError u) {
                line.getErr().println("deja: " + u.getMessage());
                return u.status();
            }
            // Ctrl-C or SIGTERM came while the command set itself up (a shutdown hook refused): the JVM is
            // ending with the signal's status and the hooks clean up; nothing went wrong in deja.
            if (ex instanceof IllegalStateException && shuttingDown()) {
                if (System.getenv("DEJA_DEBUG") != null) {
                    ex.printStackTrace(line.getErr());
                    line.getErr().flush();
                }
                return 128 + 2;
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

    /**
     * The commands whose first step that takes time is opening a journal, before any tracing: record
     * and replay open it before they start the program. ({@code info} first runs a test trace, whose
     * waitpid(-1) must not meet Chronicle's child; {@code ls} opens no journal but an unfinished
     * recording's, for its size.)
     */
    private static final Set<String> OPENS_A_JOURNAL_FIRST = Set.of("record", "replay");

    private static boolean asksForHelp(String[] args) {
        for (String a : args) {
            if (a.equals("--")) return false;
            if (a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) return true;
        }
        return false;
    }

    /** A class, not a lambda: JDK 25's AOT cache creation crashed on some of Main's lambdas. */
    private static final class JournalWarmUp implements Runnable {
        @Override
        public void run() {
            Recording.warmUp();
        }
    }

    /** Whether {@code args} ask for the list of commands alone: none at all, or just -h or --help. */
    private static boolean listsCommandsOnly(String[] args) {
        return args.length == 0 || (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help")));
    }

    /**
     * deja's command line for its usage alone: each subcommand as the list shows it (name, header and
     * description from its {@code @Command}), not its whole model, which picocli builds by reflection over
     * every option of all fifteen (most of what {@code deja --help} took). Nothing else may run on it.
     */
    static CommandLine listing() {
        CommandLine cli = new CommandLine(new Main());
        for (String name : COMMANDS) {
            Command about = command(name).getClass().getAnnotation(Command.class);
            CommandLine.Model.CommandSpec entry = CommandLine.Model.CommandSpec.create().name(name);
            entry.usageMessage().header(about.header()).description(about.description());
            cli.addSubcommand(name, entry);
        }
        return cli;
    }

    /** deja's command line with every subcommand. */
    static CommandLine commandLine() {
        return commandLine("");
    }

    /**
     * deja's command line for a line whose first word is {@code first}: with that subcommand alone
     * when it names one (other than {@code help}), else with all of them.
     */
    static CommandLine commandLine(String first) {
        CommandLine cli = new CommandLine(new Main());
        if (!first.equals("help") && COMMANDS.contains(first)) {
            cli.addSubcommand(first, command(first));
        } else {
            for (String name : COMMANDS) cli.addSubcommand(name, command(name));
        }
        // As with strace and rr, everything from the program's name on is the program's: "deja record ls -l".
        for (String taker : new String[] {"record", "trace", "run"}) {
            CommandLine sub = cli.getSubcommands().get(taker);
            if (sub != null) sub.setStopAtPositional(true);
        }
        return cli;
    }

    @Override
    public void run() {
        listing().usage(System.out);
    }
}
