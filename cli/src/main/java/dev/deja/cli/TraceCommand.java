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
import dev.deja.device.TraceRun;
import dev.deja.device.TraceSession;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "trace", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Run a program and print its system calls as strace -f does, from deja's trace device.",
                "Child processes and threads are always followed. deja exits with the program's status.",
                "Put -- before a program that takes options."},
        footer = {"", "Examples:", "  deja trace -f -o out.txt -- make",
                "  deja trace -e trace=%%file,write -s 64 -y -- cat /etc/hostname",
                "  deja trace -e inject=openat:error=ENOENT:when=3 -- ./app",
                "  deja trace -c -- ls -la", "  deja trace -p 4242 -o out.txt", "", "See docs/trace.md for what differs from strace."})
final class TraceCommand implements Callable<Integer> {

    @Option(names = "-f", description = "Follow forks and threads (always on; accepted for strace compatibility).")
    boolean follow;

    @Option(names = "-o", paramLabel = "FILE", description = "Write the trace to FILE (lines then start with the thread id).")
    Path output;

    @Option(names = "-e", paramLabel = "EXPR",
            description = {"trace=SET (names, %%file, %%process, %%network, %%signal, %%desc, %%memory, %%ipc, %%creds, %%clock,"
                    + " all, none, /regex, !SET), or",
                    "inject=SET:error=ERRNO|retval=N[:signal=SIG][:delay_enter=US][:delay_exit=US][:when=N|N+|N+S|N..M],"
                            + " or fault=SET[:error=ERRNO][:when=...]. Repeatable."})
    List<String> expressions = new ArrayList<>();

    @Option(names = "-s", paramLabel = "N", description = "Print at most N bytes of each string (default 32).")
    int stringLimit = 32;

    @Option(names = "-y", description = "Print the paths of file descriptors: 3</etc/hosts>.")
    boolean decodeFds;

    @Option(names = "-t", description = "Prefix each line with the time of day; -tt adds microseconds.")
    boolean[] time = new boolean[0];

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
        if (time.length == 1) {
            // strace -t: seconds only; deja prints what -tt prints (documented)
            time = new boolean[]{true, true};
        }
        SyscallTable table = SyscallTable.of(Arch.current());
        SyscallSet trace = SyscallSet.all();
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
                    default -> throw new UserError("trace: -e " + key + "= is not supported (supported: trace=, inject=, fault=)");
                }
            } catch (IllegalArgumentException ex) {
                throw new UserError("trace: -e " + e + ": " + ex.getMessage());
            }
        }
        LaunchSpec spec = attach == null ? Host.launchSpec(command) : null;
        PrintWriter out;
        try {
            out = output == null
                    ? new PrintWriter(new OutputStreamWriter(new FileOutputStream(java.io.FileDescriptor.err), StandardCharsets.UTF_8), false)
                    : new PrintWriter(new OutputStreamWriter(new FileOutputStream(output.toFile()), StandardCharsets.UTF_8), false);
        } catch (IOException e) {
            throw new UserError("trace: cannot write " + output + ": " + e.getMessage());
        }
        StraceTracer.Options options = new StraceTracer.Options(new Renderer(Arch.current(), stringLimit), trace,
                injects, output != null, decodeFds, time.length > 0, callTime, summary, quiet.length > 1);
        StraceTracer tracer = new StraceTracer(options, out);
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
        return r.shellStatus();
    }
}
