package dev.deja.cli;

import dev.deja.cli.debug.TestMarkers;
import dev.deja.cli.debug.ThreadNames;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Renderer;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.device.tracer.SyscallSet;
import dev.deja.device.tracer.UnknownSyscallException;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "dump", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = {"Print a recording's events: strace-style text, or JSON Lines with every field.",
                "Events appear in the order they completed; a syscall carries the number of its entry."},
        footer = {"", "Examples:", "  deja dump bug1", "  deja dump -n --all bug1", "  deja dump --json bug1 | jq .",
                "  deja dump --threads bug1", "  deja dump --tests target/deja/cache-surefire-1"})
final class DumpCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "RECORDING", description = "A recording directory or name (default: the latest).")
    String recording;

    @Option(names = "--json", description = "One JSON object per event with full context, inputs and outputs.")
    boolean json;

    @Option(names = {"-n", "--numbers"}, description = "Prefix each line with its event number (#N).")
    boolean numbers;

    @Option(names = {"-a", "--all"}, description = "Also show spawn, exec, mmap and context events (text form).")
    boolean all;

    @Option(names = {"-s", "--string-limit"}, paramLabel = "N", defaultValue = "32",
            description = "Longest string shown in text form, like strace -s (default: ${DEFAULT-VALUE}).")
    int stringLimit;

    @Option(names = {"-v", "--no-abbrev"}, description = "Print structures whole, as strace -v: every stat field,"
            + " execve's environment (-e abbrev=none).")
    boolean noAbbrev;

    @Option(names = "-e", paramLabel = "EXPR", description = "As strace's qualifiers: abbrev=SET, verbose=SET (structures as"
            + " addresses outside SET) or raw=SET (arguments and results in hexadecimal). Repeatable.")
    List<String> expressions = new java.util.ArrayList<>();

    @Option(names = "--tests", description = "List the JUnit tests the recorded JVM ran (deja-junit's markers): "
            + "event range, outcome, name, failure message; then a summary line.")
    boolean tests;

    @Option(names = "--threads", description = "List the recorded threads: tid, pid, events, calls, how each ended, and the "
            + "name it gave itself (prctl PR_SET_NAME: a JVM's thread names); the [pid N] of the dump is the tid.")
    boolean threads;

    @Override
    public Integer call() {
        if (stringLimit < 0) throw new UserError("dump: -s (--string-limit) must be 0 or more, got " + stringLimit);
        if (tests && threads) throw new UserError("dump: --tests and --threads do not go together; run one, then the other");
        if (tests) return tests();
        if (threads) return threads();
        try (Recording rec = RecordingArg.open(recording);
             EventReader events = rec.events();
             PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16))) {
            Arch arch = RecordingArg.arch(rec);
            SyscallTable table = SyscallTable.of(arch);
            Renderer renderer = new Renderer(arch, stringLimit, Renderer.HexStrings.NONE, detail(table));
            Map<Integer, ProcessContext> contexts = new HashMap<>();
            // the JSON's thread_name: the last name each thread gave itself, as the journal's completion order goes
            Map<Integer, String> names = new HashMap<>();
            int nrPrctl = ThreadNames.prctl(table);
            Event e;
            while ((e = events.next()) != null) {
                if (e instanceof ContextEvent c) contexts.put(c.pid(), c.context());
                if (e instanceof SyscallEvent s) ThreadNames.given(s, nrPrctl).ifPresent(n -> names.put(s.tid(), n));
                String line = json ? json(e, table, renderer, contexts.get(e.pid()), names.get(e.tid())) : text(e, renderer);
                if (line != null) out.println(line);
                if (out.checkError()) return ExitCodes.OK; // the reader went away (| head)
            }
        } catch (RecordingException ex) {
            throw new UserError(ex.getMessage());
        } catch (UncheckedIOException ex) {
            throw new UserError("cannot write the dump: " + ex.getMessage());
        }
        return ExitCodes.OK;
    }

    /** -v and -e abbrev=/verbose=/raw=: how much of each call the text form decodes, as deja trace does. */
    private Renderer.Detail detail(SyscallTable table) {
        SyscallSet abbrev = SyscallSet.parse(noAbbrev ? "none" : "all", table);
        SyscallSet verbose = SyscallSet.all();
        SyscallSet raw = SyscallSet.parse("none", table);
        for (String e : expressions) {
            int eq = e.indexOf('=');
            String key = eq < 0 ? "" : e.substring(0, eq);
            String value = e.substring(eq + 1);
            try {
                switch (key) {
                    case "abbrev", "a" -> abbrev = SyscallSet.parse(value, table);
                    case "verbose", "v" -> verbose = SyscallSet.parse(value, table);
                    case "raw", "x" -> raw = SyscallSet.parse(value, table);
                    default -> throw new UserError("dump: -e " + e + ": dump knows abbrev=SET, verbose=SET and raw=SET");
                }
            } catch (UnknownSyscallException ex) {
                throw new UserError("dump: -e " + e + ": " + Suggest.syscall(ex, table));
            } catch (IllegalArgumentException ex) {
                throw new UserError("dump: -e " + e + ": " + ex.getMessage());
            }
        }
        return new Renderer.Detail(raw::contains, verbose::contains, abbrev::contains);
    }

    /** The tests of the recording, as the debugger's {@code tests} lists them. */
    private int tests() {
        if (json) throw new UserError("dump: --tests and --json do not go together");
        try (Recording rec = RecordingArg.open(recording)) {
            List<TestMarkers.TestRun> runs = TestMarkers.of(rec);
            PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
            if (runs.isEmpty()) {
                out.println("no test markers in this recording (a JVM run with deja-junit's listener and DEJA_MARKER_FD set writes them)");
                return ExitCodes.OK;
            }
            for (TestMarkers.TestRun r : runs) out.println(r.line());
            out.println(TestMarkers.summary(runs));
        } catch (RecordingException ex) {
            throw new UserError(ex.getMessage());
        }
        return ExitCodes.OK;
    }

    /** One thread of {@code --threads}, filled as the events go by. */
    private static final class ThreadRow {
        final int tid;
        final int pid;
        long first = Long.MAX_VALUE;
        long last = -1;
        long calls;
        /** The names it gave itself, by the event of the prctl call. */
        final TreeMap<Long, String> names = new TreeMap<>();
        String end = "";

        ThreadRow(int tid, int pid) {
            this.tid = tid;
            this.pid = pid;
        }

        String line() {
            String events = first == Long.MAX_VALUE ? "-" : "#" + first + "-#" + last;
            List<String> shown = new ArrayList<>();
            names.forEach((seq, n) -> shown.add(ThreadNames.quoted(n) + (names.size() > 1 && seq > 0 ? " (#" + seq + ")" : "")));
            return String.format(Locale.ROOT, "%-8d %-8d %-19s %7d  %-22s %s", tid, pid, events, calls,
                    end.isEmpty() ? "-" : end, shown.isEmpty() ? "-" : String.join(", ", shown)).stripTrailing();
        }
    }

    /**
     * Every thread with the names it gave itself: a table beside the strace-style dump (whose lines keep
     * strace's {@code [pid TID]}, so tools that read strace output still read them) that says which tid is
     * "main" or "ForkJoinPool-1-worker-3".
     */
    private int threads() {
        if (json) throw new UserError("dump: --threads and --json do not go together (the JSON has thread_name on each event)");
        try (Recording rec = RecordingArg.open(recording); EventReader events = rec.events()) {
            int nrPrctl = ThreadNames.prctl(SyscallTable.of(RecordingArg.arch(rec)));
            Map<Integer, ThreadRow> rows = new LinkedHashMap<>();
            ThreadNames.JavaMain javaMain = new ThreadNames.JavaMain();
            Event e;
            while ((e = events.next()) != null) {
                javaMain.accept(e);
                final Event ev = e;
                ThreadRow row = rows.computeIfAbsent(e.tid(), k -> new ThreadRow(ev.tid(), ev.pid()));
                row.first = Math.min(row.first, e.seq());
                row.last = Math.max(row.last, e.seq());
                switch (e) {
                    case SyscallEvent s -> {
                        row.calls++;
                        ThreadNames.given(s, nrPrctl).ifPresent(n -> row.names.put(s.seq(), n));
                    }
                    case ExitEvent x when x.processExit() -> {
                        String how = x.termSignal() != 0 ? "killed by " + dev.deja.device.syscall.Signals.name(x.termSignal())
                                : "exited " + x.exitCode();
                        // every thread of the process ends with it
                        for (ThreadRow r : rows.values()) if (r.pid == x.pid() && r.end.isEmpty()) r.end = how;
                    }
                    case ExitEvent x -> row.end = "thread exited";
                    default -> {
                    }
                }
            }
            // java's main thread: named after the fact (it may name itself later, which then shows too)
            for (ThreadRow r : rows.values()) if (javaMain.isMain(r.tid)) r.names.putIfAbsent(0L, ThreadNames.JAVA_MAIN);
            PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
            out.println(String.format(Locale.ROOT, "%-8s %-8s %-19s %7s  %-22s %s", "TID", "PID", "EVENTS", "CALLS", "END", "NAME"));
            List<ThreadRow> sorted = new ArrayList<>(rows.values());
            sorted.sort(java.util.Comparator.comparingLong((ThreadRow r) -> r.first));
            for (ThreadRow r : sorted) out.println(r.line());
            long named = sorted.stream().filter(r -> !r.names.isEmpty()).count();
            out.println(sorted.size() + " thread" + (sorted.size() == 1 ? "" : "s") + " in "
                    + sorted.stream().mapToInt(r -> r.pid).distinct().count() + " process(es), " + named + " named");
        } catch (RecordingException ex) {
            throw new UserError(ex.getMessage());
        }
        return ExitCodes.OK;
    }

    private String text(Event e, Renderer r) {
        String body = switch (e) {
            case SyscallEvent s -> r.render(s);
            case SignalEvent s -> r.renderSignal(s);
            case ExitEvent x -> x.processExit() ? r.renderExit(x) : (all ? "+++ thread exited +++" : null);
            case SpawnEvent s -> all ? "deja: " + s.spawnKind().name().toLowerCase() + " -> pid " + s.childPid()
                    + " tid " + s.childTid() : null;
            case ExecEvent x -> all ? "deja: exec " + x.path() + " " + x.argv() + " exe blob " + shortHash(x.exeBlob()) : null;
            case MappingEvent m -> all ? String.format("deja: mmap 0x%x-0x%x %s @%d blob %s", m.address(),
                    m.address() + m.length(), m.path(), m.offset(), shortHash(m.blob())) : null;
            case ContextEvent c -> all ? "deja: context " + c.context() : null;
            case ScheduleEvent s -> all ? schedule(s) : null;
        };
        if (body == null) return null;
        return (numbers ? "#" + e.seq() + " " : "") + "[pid " + e.tid() + "] " + body;
    }

    /** "deja: preempted at 0x401136 after 4.2 ms, ran again 2 events later" style lines for -a. */
    static String schedule(ScheduleEvent s) {
        if (s.scheduleKind() == ScheduleEvent.Kind.START) return "deja: thread starts";
        String at = s.registerCount() > 16 ? String.format("0x%x", s.register(16)) : "?";
        return String.format("deja: preempted at %s after %.3f ms of CPU", at, s.runNs() / 1e6);
    }

    private static String shortHash(String h) {
        return h.isEmpty() ? "(none)" : h.substring(0, Math.min(12, h.length()));
    }

    private static String json(Event e, SyscallTable table, Renderer r, ProcessContext ctx, String threadName) {
        JsonLine j = new JsonLine().open().field("seq", e.seq()).field("kind", e.kind()).field("pid", e.pid())
                .field("tid", e.tid()).field("time_ns", e.timeNs());
        if (threadName != null) j.field("thread_name", threadName);
        switch (e) {
            case SyscallEvent s -> {
                j.field("exit_time_ns", s.exitTimeNs()).field("nr", s.nr()).field("syscall", table.name(s.nr()))
                        .longs("args", s.args()).field("returned", s.returned()).field("result", s.result());
                if (s.failed()) j.field("errno", Errno.name((int) -s.result()));
                j.field("text", r.render(s)).field("flags", s.flags());
                blocks(j, "inputs", s.inputs());
                blocks(j, "outputs", s.outputs());
            }
            case SignalEvent s -> j.field("signo", s.signo()).field("code", s.code()).field("sender_pid", s.senderPid())
                    .field("sender_uid", s.senderUid()).field("delivered", s.delivered()).field("text", r.renderSignal(s))
                    .hex("siginfo", s.siginfo());
            case SpawnEvent s -> j.field("spawn", s.spawnKind().name().toLowerCase()).field("child_pid", s.childPid())
                    .field("child_tid", s.childTid()).field("clone_flags", s.cloneFlags());
            case ExecEvent x -> j.field("former_tid", x.formerTid()).field("path", x.path()).strings("argv", x.argv())
                    .field("exe_blob", x.exeBlob()).longs("auxv", x.auxv()).hex("at_random", x.atRandom());
            case ExitEvent x -> j.field("process_exit", x.processExit()).field("exit_code", x.exitCode())
                    .field("term_signal", x.termSignal()).field("core_dumped", x.coreDumped());
            case MappingEvent m -> j.field("address", m.address()).field("length", m.length()).field("prot", m.prot())
                    .field("flags", m.flags()).field("offset", m.offset()).field("path", m.path())
                    .field("file_size", m.fileSize()).field("blob", m.blob());
            case ContextEvent c -> {
                // the context object below says it all
            }
            case ScheduleEvent s -> j.field("schedule", s.scheduleKind().name().toLowerCase()).field("resume_time_ns", s.resumeNs())
                    .longs("registers", s.registers()).field("stack_hash", s.stackHash())
                    .field("deeper_stack_hash", s.deeperStackHash()).field("run_ns", s.runNs())
                    .field("memory_mask", s.memoryMask()).longs("memory_pointers", s.memoryPointers())
                    .field("memory_hash", s.memoryHash()).field("memory_deep_hash", s.memoryDeepHash());
        }
        if (ctx != null) {
            j.objectField("context").field("pid", ctx.pid()).field("ppid", ctx.ppid()).field("uid", ctx.uid())
                    .field("gid", ctx.gid()).field("euid", ctx.euid()).field("egid", ctx.egid()).field("comm", ctx.comm())
                    .field("exe", ctx.exe()).field("cwd", ctx.cwd()).close();
        }
        return j.close().toString();
    }

    private static void blocks(JsonLine j, String key, List<MemoryBlock> blocks) {
        j.openArray(key);
        for (MemoryBlock b : blocks) {
            j.element().field("arg", b.arg()).field("address", b.address()).field("length", b.length())
                    .hex("data", b.data()).close();
        }
        j.closeArray();
    }

}
