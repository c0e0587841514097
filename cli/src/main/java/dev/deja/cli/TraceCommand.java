package dev.deja.cli;

import dev.deja.device.DeviceException;
import dev.deja.device.LaunchSpec;
import dev.deja.device.TraceResult;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Renderer;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.device.tracer.InjectRule;
import dev.deja.device.tracer.StraceTracer;
import dev.deja.device.tracer.SyscallSet;
import dev.deja.device.tracer.UnknownSyscallException;
import dev.deja.device.TraceRun;
import dev.deja.device.TraceSession;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "trace", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Run a program and print its system calls as strace -f does, from deja's trace device.",
                "Child processes and threads are always followed. deja exits with the program's status.",
                "Options end at the program: 'deja trace ls -la' traces ls -la; '--' is needed only before a program"
                        + " whose name starts with '-'."},
        footer = {"", "Examples:", "  deja trace -f -o out.txt -- make",
                "  deja trace -e trace=%%file,write -s 64 -y -- cat /etc/hostname",
                "  deja trace -e inject=openat:error=ENOENT:when=3 -- ./app",
                "  deja trace -c -- ls -la", "  deja trace -p 4242 -o out.txt", "", "See docs/trace.md for what differs from strace."})
final class TraceCommand implements Callable<Integer> {

    @Option(names = "-f", description = "Follow forks and threads (always on; accepted for strace compatibility); "
            + "-ff with -o FILE writes each thread's lines to FILE.TID.")
    boolean[] follow = new boolean[0];

    @Option(names = "-o", paramLabel = "FILE", description = "Write the trace to FILE (lines then start with the thread id).")
    Path output;

    @Option(names = "-e", paramLabel = "EXPR",
            description = {"trace=SET (names, %%file, %%process, %%network, %%signal, %%desc, %%memory, %%ipc, %%creds, %%clock,"
                    + " all, none, /regex, !SET), or",
                    "inject=SET:error=ERRNO|retval=N[:signal=SIG][:delay_enter=US][:delay_exit=US][:when=N|N+|N+S|N..M],"
                            + " or fault=SET[:error=ERRNO][:when=...], or",
                    "signal=SET (names, numbers, all, none, !SET), abbrev=SET, verbose=SET (structures as addresses"
                            + " outside SET), raw=SET (arguments and results in hexadecimal), status=, quiet=, read=FDS,"
                            + " write=FDS, decode-pids=comm. Repeatable."})
    List<String> expressions = new ArrayList<>();

    @Option(names = "-s", paramLabel = "N", description = "Print at most N bytes of each string (default 32).")
    int stringLimit = 32;

    @Option(names = "-y", description = "Print the paths of file descriptors: 3</etc/hosts>; -yy adds socket addresses "
            + "and device numbers.")
    boolean[] decodeFds = new boolean[0];

    @Option(names = "-t", description = "Prefix each line with the time of day; -tt adds microseconds; -ttt prints "
            + "seconds since the epoch.")
    boolean[] time = new boolean[0];

    @Option(names = "-r", description = "Prefix each line with the time since the previous call began.")
    boolean relative;

    @Option(names = "-C", description = "Print the lines and the -c summary.")
    boolean linesAndSummary;

    @Option(names = "-S", paramLabel = "SORTBY", description = "Sort the -c summary by time (default), calls, errors, name "
            + "or nothing.")
    String sortBy;

    @Option(names = "-w", description = "With -c: wall-clock times (deja's -c always counts them; accepted).")
    boolean wallClock;

    @Option(names = "-z", description = "Print only the calls that succeeded (-e status=successful).")
    boolean onlySuccessful;

    @Option(names = "-Z", description = "Print only the calls that failed (-e status=failed).")
    boolean onlyFailed;

    @Option(names = "-E", paramLabel = "VAR[=VAL]", description = "Run the program with VAR=VAL in its environment "
            + "(-E VAR removes VAR). Repeatable.")
    List<String> environment = new ArrayList<>();

    @Option(names = {"-v", "--no-abbrev"}, description = "Print structures whole: every stat field, execve's environment,"
            + " termios's control characters (-e abbrev=none).")
    boolean noAbbrev;

    @Option(names = {"-u", "--user"}, paramLabel = "USER", description = "Run the program with the user id, group id and"
            + " supplementary groups of USER (deja must run as root).")
    String user;

    @Option(names = {"-b", "--detach-on"}, paramLabel = "execve", description = "Let a process go when it executes a new"
            + " program: its later calls are not traced, it runs on.")
    String detachOn;

    @Option(names = "-D", description = "Accepted for strace compatibility (-D, -DD, -DDD): the program stays deja's child.")
    boolean[] daemonize = new boolean[0];

    @Option(names = "--daemonize", paramLabel = "HOW", arity = "0..1", fallbackValue = "grandchild",
            description = "As -D (grandchild, pgroup, pgrp or session); accepted.")
    String daemonizeHow;

    @Option(names = {"-U", "--summary-columns"}, paramLabel = "COLUMNS", description = "The -c table's columns, in order:"
            + " time-percent, total-time, min-time, max-time, avg-time, calls, errors, name.")
    String summaryColumns;

    @Option(names = "--decode-pids", paramLabel = "WHAT", description = "With comm, print command names after thread and"
            + " process ids, [pid 42<sh>]; pidns is accepted.")
    List<String> decodePids = new ArrayList<>();

    @Option(names = "-Y", description = "As --decode-pids=comm.")
    boolean pidNames;

    @Option(names = "-A", description = "With -o: append to FILE instead of truncating it.")
    boolean append;

    @Option(names = "-a", paramLabel = "COLUMN", description = "Align the results at COLUMN (default 40).")
    Integer column;

    @Option(names = "-i", description = "Print the instruction pointer at each call.")
    boolean instructionPointer;

    @Option(names = "-k", description = "Print the call stack of each call (unwound through .eh_frame, as strace -k).")
    boolean stackTraces;

    @Option(names = "-x", description = "Print strings with a non-printable byte in hexadecimal; -xx prints every string so.")
    boolean[] hex = new boolean[0];

    @Option(names = "-P", paramLabel = "PATH", description = "Print only the calls that name PATH or use a descriptor "
            + "open on it. Repeatable.")
    List<String> paths = new ArrayList<>();

    @Option(names = "--seccomp-bpf", description = "Stop only at the traced calls (deja does this already with -e trace=; accepted).")
    boolean seccomp;

    @Option(names = "-T", description = "Show the time spent in each call.")
    boolean callTime;

    @Option(names = "-c", description = "Count time, calls and errors per syscall and print a summary at the end instead of lines.")
    boolean summary;

    @Option(names = "-q", description = "Quiet: -q is accepted (deja prints no attach notes); -qq drops the '+++ exited' lines.")
    boolean[] quiet = new boolean[0];

    @Option(names = "-p", paramLabel = "PID", description = {"Attach to the running process PID (all its threads, and the"
            + " children it starts from then on) instead of starting a program; Ctrl-C or SIGTERM detaches and leaves it"
            + " running. Every call stops (no seccomp filter)."})
    Integer attach;

    @Parameters(arity = "0..*", paramLabel = "COMMAND", description = "The program and its arguments.")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        if (attach != null && !command.isEmpty()) {
            throw new UserError("trace: give either -p PID or a COMMAND, not both");
        }
        if (attach != null && attach <= 0) throw new UserError("trace -p " + attach + ": not a process id");
        if (attach == null && command.isEmpty()) {
            throw new UserError("trace: no program given; usage: deja trace [OPTIONS] -- COMMAND [ARGS], or deja trace -p PID");
        }
        if (stringLimit < 0) throw new UserError("trace: -s must not be negative");
        StraceTracer.Clock clock = switch (time.length) {
            case 0 -> StraceTracer.Clock.NONE;
            case 1 -> StraceTracer.Clock.SECONDS;
            case 2 -> StraceTracer.Clock.MICROS;
            default -> StraceTracer.Clock.EPOCH;
        };
        boolean summaryWanted = summary || linesAndSummary;
        if (sortBy != null && !List.of("time", "calls", "errors", "name", "nothing").contains(sortBy)) {
            throw new UserError("trace: -S " + sortBy + ": sort by time, calls, errors, name or nothing");
        }
        Set<String> status = new HashSet<>();
        Set<Integer> signals = StraceTracer.More.ALL_SIGNALS;
        boolean comm = pidNames;
        for (String d : decodePids) comm |= decodePids(d, "--decode-pids=");
        Set<Integer> dumpReads = new HashSet<>();
        Set<Integer> dumpWrites = new HashSet<>();
        if (column != null && (column < 0 || column > 1000)) throw new UserError("trace: -a " + column + ": a column from 0 to 1000");
        if (append && output == null) throw new UserError("trace: -A needs -o FILE");
        if (onlySuccessful) status.add("successful");
        if (onlyFailed) status.add("failed");
        SyscallTable table = SyscallTable.of(Arch.current());
        SyscallSet trace = SyscallSet.all();
        SyscallSet abbrev = noAbbrev ? SyscallSet.parse("none", table) : SyscallSet.all();
        SyscallSet verbose = SyscallSet.all();
        SyscallSet raw = SyscallSet.parse("none", table);
        List<InjectRule> injects = new ArrayList<>();
        for (String e : expressions) {
            int eq = e.indexOf('=');
            String key = eq < 0 ? "trace" : e.substring(0, eq);
            String value = eq < 0 ? e : e.substring(eq + 1);
            try {
                switch (key) {
                    case "trace", "t" -> trace = SyscallSet.parse(value, table);
                    case "inject" -> injects.add(InjectRule.parse(value, false, table));
                    case "fault" -> injects.add(InjectRule.parse(value, true, table));
                    case "signal", "signals", "s" -> signals = signalSet(value);
                    case "abbrev", "a" -> abbrev = SyscallSet.parse(value, table);
                    case "verbose", "v" -> verbose = SyscallSet.parse(value, table);
                    case "raw", "x" -> raw = SyscallSet.parse(value, table);
                    case "decode-pids", "decode-pid" -> comm |= decodePids(value, "-e decode-pids=");
                    case "quiet", "silent", "silence" -> {
                        for (String v : value.split(",")) {
                            switch (v) {
                                case "exit", "exits" -> quiet = new boolean[]{true, true};
                                case "attach", "personality", "thread-execve", "superseded", "path-resolution", "all", "none" -> {
                                    // deja prints none of these notes: accepted
                                }
                                default -> throw new UserError("trace: -e quiet=" + v + ": deja knows exit, attach,"
                                        + " personality, thread-execve, superseded, path-resolution");
                            }
                        }
                    }
                    case "read", "reads", "write", "writes" -> {
                        Set<Integer> fds = key.startsWith("read") ? dumpReads : dumpWrites;
                        for (String v : value.split(",")) {
                            if (v.equals("all")) {
                                fds.add(StraceTracer.More.ALL_FDS);
                            } else if (v.equals("none")) {
                                fds.clear();
                            } else {
                                try {
                                    fds.add(Integer.parseInt(v));
                                } catch (NumberFormatException nfe) {
                                    throw new UserError("trace: -e " + key + "=" + v + ": a descriptor number, all or none");
                                }
                            }
                        }
                    }
                    case "status" -> {
                        for (String v : value.split(",")) {
                            if (!List.of("successful", "failed", "unfinished").contains(v)) {
                                throw new UserError("trace: -e status=" + v + ": deja knows successful, failed and unfinished");
                            }
                            status.add(v);
                        }
                    }
                    default -> throw new UserError("trace: -e " + key + "= is not supported (supported: trace=, status=, "
                            + "signal=, abbrev=, verbose=, raw=, quiet=, read=, write=, decode-pids=, inject=, fault=)");
                }
            } catch (UnknownSyscallException ex) {
                throw new UserError("trace: -e " + e + ": " + Suggest.syscall(ex, table));
            } catch (IllegalArgumentException ex) {
                throw new UserError("trace: -e " + e + ": " + ex.getMessage());
            }
        }
        if (detachOn != null && !detachOn.equals("execve")) {
            throw new UserError("trace: -b " + detachOn + ": deja detaches on execve only (as strace)");
        }
        if (daemonizeHow != null && !List.of("grandchild", "pgroup", "pgrp", "session").contains(daemonizeHow)) {
            throw new UserError("trace: --daemonize=" + daemonizeHow + ": grandchild, pgroup, pgrp or session");
        }
        List<StraceTracer.Column> columns = summaryColumns == null ? StraceTracer.More.DEFAULT_COLUMNS : columns(summaryColumns);
        if (attach != null && user != null) throw new UserError("trace: -u applies to a COMMAND, not to -p");
        LaunchSpec spec = attach == null ? withUser(withEnvironment(Host.launchSpec(command))) : null;
        if (attach != null && !environment.isEmpty()) throw new UserError("trace: -E applies to a COMMAND, not to -p");
        boolean perThread = follow.length > 1 && output != null;
        PrintWriter out;
        try {
            out = output == null
                    ? new PrintWriter(new OutputStreamWriter(new FileOutputStream(java.io.FileDescriptor.err), StandardCharsets.UTF_8), false)
                    : new PrintWriter(new OutputStreamWriter(new FileOutputStream(output.toFile(), append), StandardCharsets.UTF_8), false);
        } catch (IOException e) {
            throw new UserError("trace: cannot write " + output + ": " + e.getMessage());
        }
        Renderer.HexStrings hexStrings = switch (hex.length) {
            case 0 -> Renderer.HexStrings.NONE;
            case 1 -> Renderer.HexStrings.NON_ASCII;
            default -> Renderer.HexStrings.ALL;
        };
        Set<String> tracedPaths = new HashSet<>();
        for (String p : paths) tracedPaths.add(Path.of(p).toAbsolutePath().normalize().toString());
        for (String p : paths) tracedPaths.add(p);
        Renderer.Detail detail = new Renderer.Detail(raw::contains, verbose::contains, abbrev::contains);
        StraceTracer.Options options = new StraceTracer.Options(new Renderer(Arch.current(), stringLimit, hexStrings, detail),
                trace, injects, output != null, decodeFds.length > 0, false, callTime, summaryWanted, quiet.length > 1,
                new StraceTracer.More(clock, relative, decodeFds.length > 1, status, linesAndSummary,
                        sortBy == null ? "time" : sortBy, column == null ? 40 : column, instructionPointer, signals, tracedPaths,
                        dumpReads, dumpWrites, columns, comm, detachOn != null));
        StraceTracer tracer = new StraceTracer(options, out);
        if (stackTraces) tracer.stacks(LiveStacks.source());
        TraceSession session = spec != null ? new TraceSession(spec, tracer) : TraceSession.attach(attach, tracer);
        TraceResult r;
        try {
            r = TraceRun.run(session, (TraceResult result) -> {
                tracer.finish();
                if (output != null) out.close();
            });
        } catch (DeviceException e) {
            throw new UserError(spec != null ? "cannot trace " + command.getFirst() + ": " + e.getMessage()
                    : "trace -p " + attach + ": " + e.getMessage());
        }
        if (perThread) splitPerThread(output);
        return r.shellStatus();
    }

    /** --decode-pids=comm,pidns: whether command names are wanted (pidns: deja's tracees share its namespace). */
    private static boolean decodePids(String value, String option) {
        boolean comm = false;
        for (String v : value.split(",")) {
            switch (v) {
                case "comm" -> comm = true;
                case "pidns", "none" -> {
                    // pidns: a launched program is in deja's PID namespace, where the ids are the same
                }
                case "all" -> comm = true;
                default -> throw new UserError("trace: " + option + v + ": deja knows comm and pidns");
            }
        }
        return comm;
    }

    /** -e signal=SET: names (SIGINT, INT, int), numbers, all, none, a leading ! for the complement. */
    static Set<Integer> signalSet(String value) {
        boolean negated = value.startsWith("!");
        String list = negated ? value.substring(1) : value;
        Set<Integer> set = new HashSet<>();
        for (String v : list.split(",")) {
            if (v.isEmpty()) throw new UserError("trace: -e signal=" + value + ": an empty signal name");
            switch (v) {
                case "all" -> set.addAll(StraceTracer.More.ALL_SIGNALS);
                case "none" -> set.clear();
                default -> set.add(signalNumber(v, value));
            }
        }
        if (!negated) return set;
        Set<Integer> complement = new HashSet<>(StraceTracer.More.ALL_SIGNALS);
        complement.removeAll(set);
        return complement;
    }

    private static int signalNumber(String v, String expr) {
        if (v.chars().allMatch(Character::isDigit)) {
            int n;
            try {
                n = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > 64) throw new UserError("trace: -e signal=" + expr + ": " + v + " is not a signal number (1-64)");
            return n;
        }
        java.util.OptionalInt n = dev.deja.device.syscall.Signals.number(v.toUpperCase(java.util.Locale.ROOT));
        if (n.isEmpty()) throw new UserError("trace: -e signal=" + expr + ": no signal called " + v);
        return n.getAsInt();
    }

    /** -U: strace's column names (and their other names), in order; each once. */
    private static List<StraceTracer.Column> columns(String value) {
        List<StraceTracer.Column> columns = new ArrayList<>();
        for (String v : value.split(",")) {
            StraceTracer.Column c = StraceTracer.Column.named(v).orElseThrow(() -> new UserError("trace: -U " + v
                    + ": not a column (" + String.join(", ", StraceTracer.Column.allNames()) + ")"));
            if (!columns.contains(c)) columns.add(c);
        }
        return columns;
    }

    /**
     * -u USER: the launch runs as USER (ids from the C library, groups as initgroups finds them); a
     * set-user-ID or set-group-ID program keeps its owner as effective id, as strace -u arranges.
     */
    private LaunchSpec withUser(LaunchSpec spec) {
        if (user == null) return spec;
        if (Host.uid() != 0) throw new UserError("trace: -u " + user + ": deja must run as root to run a program as another user");
        dev.deja.device.ffm.Users.User u = dev.deja.device.ffm.Users.byName(user)
                .orElseThrow(() -> new UserError("trace: -u " + user + ": no such user"));
        int euid = u.uid();
        int egid = u.gid();
        try {
            Path exe = Path.of(spec.executable());
            int mode = (Integer) Files.getAttribute(exe, "unix:mode");
            if ((mode & 04000) != 0) euid = (Integer) Files.getAttribute(exe, "unix:uid");
            if ((mode & 02000) != 0) egid = (Integer) Files.getAttribute(exe, "unix:gid");
        } catch (IOException | UnsupportedOperationException e) {
            throw new UserError("trace: -u: cannot read the mode of " + spec.executable() + ": " + e.getMessage());
        }
        return spec.withCredentials(new LaunchSpec.Credentials(u.uid(), euid, u.gid(), egid, u.groups()));
    }

    /** -E: the program's environment with VAR=VAL set (replacing VAR's value) or VAR removed. */
    private LaunchSpec withEnvironment(LaunchSpec spec) {
        if (environment.isEmpty()) return spec;
        List<String> env = new ArrayList<>(spec.environment());
        for (String e : environment) {
            int eq = e.indexOf('=');
            String name = eq < 0 ? e : e.substring(0, eq);
            if (name.isEmpty()) throw new UserError("trace: -E " + e + ": no variable name");
            env.removeIf(kv -> kv.startsWith(name + "="));
            if (eq >= 0) env.add(e);
        }
        return new LaunchSpec(spec.executable(), spec.argv(), env, spec.closeFds(), spec.blockedSignals(),
                spec.ignoredSignals(), spec.credentials());
    }

    /**
     * -ff -o FILE: strace writes each thread's lines to FILE.TID. deja writes FILE with each line's
     * thread id first (as -o does) and splits it at the end.
     */
    private static void splitPerThread(Path file) {
        Map<String, List<String>> byThread = new LinkedHashMap<>();
        try {
            List<String> previous = null;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.startsWith(" > ") && previous != null) {
                    previous.add(line); // -k: a stack line belongs to the call above it
                    continue;
                }
                int sp = line.indexOf(' ');
                if (sp <= 0) continue;
                previous = byThread.computeIfAbsent(line.substring(0, sp), k -> new ArrayList<>());
                previous.add(StraceTracer.repad(line.substring(sp).stripLeading(), 0));
            }
            for (Map.Entry<String, List<String>> e : byThread.entrySet()) {
                Files.write(file.resolveSibling(file.getFileName() + "." + e.getKey()), e.getValue(), StandardCharsets.UTF_8);
            }
            Files.delete(file);
        } catch (IOException e) {
            throw new UserError("trace: -ff: cannot split " + file + " per thread: " + e.getMessage());
        }
    }
}
