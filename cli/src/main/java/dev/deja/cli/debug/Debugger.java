package dev.deja.cli.debug;

import dev.deja.device.DeviceException;
import dev.deja.device.syscall.ArgSpec;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Schema;
import dev.deja.device.syscall.Signals;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.replayer.Divergence;
import dev.deja.replayer.Replayer;
import dev.deja.replayer.diff.DiffOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The debugger's state and commands, independent of how commands arrive (terminal, script, stdin).
 * The position is a stop of the {@link Timeline}: the recorded call about to be replayed. With a
 * {@link LiveReplay} the replaying program is held there; offline, moves just move the position.
 */
final class Debugger {
    /** Register names in the order PTRACE_GETREGS fills x86_64's struct user_regs_struct. */
    static final List<String> REGISTERS = List.of("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
            "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base",
            "ds", "es", "fs", "gs");
    private static final int HEX_LIMIT = 512;
    private static final int SEARCH_LIMIT = 100;

    /** A command the user got wrong: one line, and the session goes on. */
    static final class CommandError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CommandError(String message) {
            super(message, null, false, false);
        }
    }

    private static final class Breakpoint {
        final int id;
        final BreakSpec spec;
        /** break NAME exit: stop after the call returned, not at its entry. */
        boolean atExit;
        boolean enabled = true;
        int hits;

        Breakpoint(int id, BreakSpec spec) {
            this.id = id;
            this.spec = spec;
        }
    }

    private final Timeline t;
    private final PrintWriter out;
    private final Style style;
    private final LiveReplay live;
    private final CodeView code = new CodeView();
    /** The call whose exit the replay is held at (finish, break NAME exit), or -1 at an entry. */
    private long atExitOf = -1;
    private final List<Breakpoint> breakpoints = new ArrayList<>();
    private final Map<Integer, Integer> livePids = new HashMap<>();
    private int nextBreakpoint = 1;
    private int position;
    private int liveTid;
    private boolean diverged;
    private boolean failed;
    private Integer exitStatus;
    private String lastFormat = "1xw";
    private RunComparer comparer;
    private ZoneId zone = ZoneId.systemDefault();

    Debugger(Timeline timeline, PrintWriter out, Style style, LiveReplay live) {
        this.t = timeline;
        this.out = out;
        this.style = style;
        this.live = live;
    }

    /** Makes the shell's {@code diff} available (the command line supplies how to open the other run). */
    void comparer(RunComparer comparer) {
        this.comparer = comparer;
    }

    /** The time zone of a {@code goto time} without one: the recorded program's (its TZ), else deja's. */
    void zone(ZoneId zone) {
        this.zone = zone;
    }

    /** True when the replay diverged from the recording during the session. */
    boolean diverged() {
        return diverged;
    }

    /** True when deja could not go on replaying (not a divergence). */
    boolean failed() {
        return failed;
    }

    Timeline timeline() {
        return t;
    }

    int position() {
        return position;
    }

    /** The prompt: the current event and thread. */
    String prompt() {
        if (position >= t.size()) return "deja (end)> ";
        SyscallEvent e = t.stop(position);
        return "deja #" + e.seq() + " [" + e.tid() + "]> ";
    }

    /** Ctrl-C: a running replay stops at its next event. */
    void interrupt() {
        if (live != null) live.interrupt();
    }

    /** Starts the session: the live replay is run to its first event. */
    void start() {
        String mode = live != null ? "live replay" : "offline (--no-exec: nothing runs)";
        out.println("deja: " + t.size() + " calls, " + t.processes().size() + " process(es), " + t.threads().size()
                + " thread(s); " + mode + "; 'help' lists the commands");
        if (t.size() == 0) {
            out.println("deja: the recording holds no calls");
            position = 0;
            return;
        }
        if (live != null) {
            handle(live.start(t.stop(0).seq()), 0, false);
        } else {
            position = 0;
            showStop(false);
        }
    }

    /** Ends the session: the live replay, if any, is killed. */
    void close() {
        if (live != null) live.kill();
        out.flush();
    }

    /** Runs one command line; false when it asks to quit. */
    boolean execute(String line) {
        String cmd = line.strip();
        if (cmd.isEmpty() || cmd.startsWith("#")) return true;
        try {
            return dispatch(cmd);
        } catch (CommandError | IllegalArgumentException e) {
            out.println(style.red("error: ") + e.getMessage());
            return true;
        } finally {
            out.flush();
        }
    }

    private boolean dispatch(String cmd) {
        String verb;
        String rest;
        if (cmd.startsWith("x/") || cmd.equals("x")) {
            verb = "x";
            rest = cmd.substring(1).strip();
        } else if (cmd.startsWith("/")) {
            verb = "search";
            rest = cmd;
        } else {
            int sp = cmd.indexOf(' ');
            verb = sp < 0 ? cmd : cmd.substring(0, sp);
            rest = sp < 0 ? "" : cmd.substring(sp + 1).strip();
        }
        Help.Entry entry = Help.find(verb).orElseThrow(() -> unknownCommand(verb));
        switch (entry.name()) {
            case "step" -> step(count(rest, 1));
            case "next" -> next(rest);
            case "continue" -> continueToBreak();
            case "until" -> until(event(rest));
            case "goto" -> {
                if (rest.startsWith("test:")) go(testStop(rest.substring(5).strip()), "goto");
                else if (rest.startsWith("time ")) go(timeStop(rest.substring(5).strip()), "goto");
                else go(beyondEnds(event(rest), "goto"), "goto");
            }
            case "finish" -> {
                if (rest.equals("process")) finish();
                else finishCall();
            }
            case "reverse-step" -> reverseStep(count(rest, 1));
            case "reverse-continue" -> reverseContinue();
            case "run" -> {
                if (verb.equals("restart") && !rest.isEmpty()) restartCheckpoint(rest);
                else restart();
            }
            case "checkpoint" -> checkpoint();
            case "break" -> addBreak(rest);
            case "delete" -> {
                if (rest.startsWith("checkpoint")) deleteCheckpoint(rest.substring("checkpoint".length()).strip());
                else delete(rest);
            }
            case "disable" -> enable(rest, false);
            case "enable" -> enable(rest, true);
            case "info" -> info(rest);
            case "print" -> print(rest);
            case "regs" -> registers();
            case "x" -> {
                if (rest.matches("/\\d*i(\\s.*)?")) disassemble(rest);
                else examine(rest);
            }
            case "bt" -> backtrace(rest);
            case "maps" -> maps();
            case "fds" -> fds();
            case "threads" -> threads();
            case "processes" -> processes();
            case "tests" -> tests();
            case "list" -> list(rest);
            case "search" -> search(rest);
            case "diff" -> diff(rest);
            case "gdb" -> gdb(rest);
            case "help" -> help(rest);
            case "quit" -> {
                return false;
            }
            default -> throw new CommandError("unknown command '" + verb + "'");
        }
        return true;
    }

    /** An unknown command: a gdb habit gets what to use instead, a typo its likely command. */
    private static CommandError unknownCommand(String verb) {
        Optional<String> habit = Help.habit(verb);
        if (habit.isPresent()) return new CommandError("'" + verb + "' is not a deja command: " + habit.get());
        return new CommandError("unknown command '" + verb + "'" + dev.deja.cli.Suggest.closest(verb, Help.words())
                .map(m -> " (did you mean '" + m + "'?)").orElse(" (try 'help')"));
    }

    // ---------------------------------------------------------------- moving

    private void step(int n) {
        requireBefore("step");
        if (position + n > t.size()) {
            out.println("step " + n + ": only " + (t.size() - position) + " call" + (t.size() - position == 1 ? "" : "s")
                    + " left: running to the end");
        }
        go(Math.min(t.size(), position + n), "step");
    }

    private void reverseStep(int n) {
        if (t.size() == 0) throw new CommandError("the recording holds no calls");
        int from = Math.min(position, t.size());
        if (from == 0) {
            out.println("already at the first call (#" + t.stop(0).seq() + "): nothing before it");
            return;
        }
        if (n > from) {
            out.println("reverse-step " + n + ": only " + from + " call" + (from == 1 ? "" : "s")
                    + " before this one: going to the first (#" + t.stop(0).seq() + ")");
        }
        go(Math.max(0, from - n), "reverse-step");
    }

    /**
     * The stop for event {@code seq} of a goto or until, saying so when it lies past either end of
     * the recording (the move then stops at that end).
     */
    private int beyondEnds(long seq, String what) {
        if (t.size() == 0) throw new CommandError("the recording holds no calls");
        long first = t.events().getFirst().seq();
        long last = t.events().getLast().seq();
        if (seq < first) {
            out.println(what + " " + seq + ": events are numbered from " + first + ": going to the first call (#"
                    + t.stop(0).seq() + ")");
            return 0;
        }
        if (seq > last) {
            out.println(what + " " + seq + ": the recording's last event is #" + last + ": going to the end of the run");
            return t.size();
        }
        return Math.min(t.atOrAfter(seq), t.size());
    }

    private void next(String args) {
        requireBefore("next");
        boolean thread = false;
        int n = 1;
        for (String a : words(args)) {
            if (a.equals("-t")) thread = true;
            else n = count(a, 1);
        }
        if (!thread) {
            go(Math.min(t.size(), position + n), "next");
            return;
        }
        List<Integer> mine = t.stopsOfThread(t.stop(position).tid());
        int at = java.util.Collections.binarySearch(mine, position);
        int target = at + n < mine.size() ? mine.get(at + n) : t.size();
        go(target, "next");
    }

    private void continueToBreak() {
        requireBefore("continue");
        int target = t.size();
        for (int i = position + 1; i < t.size(); i++) {
            if (!hits(i).isEmpty()) {
                target = i;
                break;
            }
        }
        go(target, "continue");
        if (position == target && target < t.size() && hits(target).stream().anyMatch(b -> b.atExit)) finishCall();
    }

    /** finish: the current call answered, the thread held at its exit ({@link LiveReplay#finishCall}); its outputs shown. */
    private void finishCall() {
        requireBefore("finish");
        SyscallEvent e = current();
        if (live == null) {
            out.println("offline: nothing runs; the outputs the replay writes at the exit of " + t.line(e) + ":");
            CallExit.recorded(e).forEach(out::println);
            return;
        }
        requireLive("finish");
        if (CallExit.NEVER_RETURN.contains(t.name(e))) {
            throw new CommandError(t.name(e) + " never returns; 'finish process' goes to the process's last call");
        }
        if (atExitOf == e.seq()) throw new CommandError("already at the exit of #" + e.seq() + "; 'step' goes on");
        out.flush();
        LiveReplay.Notice n = live.finishCall(e.seq());
        if (n instanceof LiveReplay.Stopped s && s.atExit()) {
            atExitOf = e.seq();
            out.println("Run till exit: " + style.event(t.line(e)));
            try {
                live.query(tracee -> CallExit.describe(tracee, e)).forEach(out::println);
            } catch (DeviceException ex) {
                throw new CommandError("cannot read the replaying thread at the call's exit: " + ex.getMessage());
            }
        } else {
            handle(n, t.size(), false);
        }
    }

    private void until(long seq) {
        if (position >= t.size()) {
            // After an end, a divergence included: the shell stays usable, only going forward is over.
            throw new CommandError("the run is over" + (diverged ? " (the replay diverged)" : "")
                    + "; 'goto " + seq + "' re-runs it from the start, 'run' starts it again");
        }
        int target = beyondEnds(seq, "until");
        if (target < position) {
            throw new CommandError("event " + seq + " is behind the current one (#" + t.stop(position).seq()
                    + "); 'goto " + seq + "' goes back");
        }
        go(target, "until");
    }

    private void finish() {
        requireBefore("finish");
        SyscallEvent e = t.stop(position);
        List<Integer> mine = t.stopsOfProcess(e.pid());
        int last = mine.getLast();
        go(last > position ? last : Math.min(t.size(), position + 1), "finish");
    }

    private void reverseContinue() {
        int target = 0;
        for (int i = Math.min(position, t.size()) - 1; i >= 0; i--) {
            if (!hits(i).isEmpty()) {
                target = i;
                break;
            }
        }
        go(target, "reverse-continue");
    }

    private void restart() {
        if (t.size() == 0) throw new CommandError("the recording holds no calls");
        if (live != null) {
            out.println("restarting the replay from its first event");
            live.kill();
            diverged = false;
            failed = false;
            exitStatus = null;
            handle(live.start(t.stop(0).seq()), 0, false);
        } else {
            position = 0;
            showStop(false);
        }
    }

    private void requireBefore(String what) {
        if (t.size() == 0) throw new CommandError("the recording holds no calls");
        if (position >= t.size()) {
            throw new CommandError("the run is over; 'run' starts it again, 'goto EVENT' goes back (" + what + ")");
        }
    }

    /** Moves to stop {@code target}; a live replay runs there, or re-runs from the start to go back. */
    private void go(int target, String why) {
        if (t.size() == 0) throw new CommandError("the recording holds no calls");
        boolean byBreak = why.equals("continue") || why.equals("reverse-continue");
        if (live == null) {
            position = target;
            showStop(byBreak);
            return;
        }
        if (target == position && position >= t.size()) {
            out.println("already at the end of the run");
            return;
        }
        if (target == position && live.running()) {
            showStop(byBreak);
            return;
        }
        long seq = target >= t.size() ? Long.MAX_VALUE : t.stop(target).seq();
        out.flush();
        if (target < position && live.running() && backByCheckpoint(target, seq, byBreak)) return;
        if (target < position || !live.running()) {
            String to = target >= t.size() ? "the end" : "#" + seq;
            out.println((target < position ? "going back: " : "") + "re-running the replay from the start to " + to);
            out.flush();
            long started = System.nanoTime();
            live.kill();
            diverged = false;
            failed = false;
            exitStatus = null;
            LiveReplay.Notice n = live.start(seq);
            // What ran, not what was asked: Ctrl-C or a divergence stops the re-run short of its target.
            int reached = switch (n) {
                case LiveReplay.Stopped s -> t.atOrAfter(s.event().seq());
                case LiveReplay.Ended e when e.outcome() != null && e.outcome().divergence() != null ->
                        Math.min(t.atOrAfter(e.outcome().divergence().seq()), target);
                case LiveReplay.Ended e -> Math.min(target, t.size());
            };
            out.printf(Locale.ROOT, "(re-ran %d calls in %.2f s)%n", reached, (System.nanoTime() - started) / 1e9);
            handle(n, target, byBreak);
        } else {
            handle(live.resume(seq), target, byBreak);
        }
    }

    /** gdb on the parked replay at the current call; the shell stops where the replay is when gdb detaches. */
    private void gdb(String args) {
        if (live == null) throw new CommandError("gdb needs a live replay: this session is --no-exec");
        requireBefore("gdb");
        if (!live.running()) throw new CommandError("the replay is not running; 'run' or 'goto EVENT' starts it");
        int programPid = t.stop(0).pid();
        if (t.stop(position).pid() != programPid) {
            throw new CommandError("gdb follows the program's first process (pid " + programPid + "); this call is pid "
                    + t.stop(position).pid() + "'s: move to one of " + programPid + "'s calls first");
        }
        if (position == 0 && t.name(t.stop(0)).equals("execve")) {
            throw new CommandError("the program starts with this execve (#" + t.stop(0).seq() + "): 'step' past it first"
                    + " ('deja replay --gdb' stops at its first instruction)");
        }
        if (atExitOf == t.stop(position).seq()) {
            throw new CommandError("gdb starts at a call's entry and this stop is #" + atExitOf + "'s exit: 'step' to the next call first");
        }
        ShellGdb.Address address = ShellGdb.Address.parse(args);
        out.flush();
        handle(ShellGdb.serve(live, address, out), 0, false);
    }

    // ---------------------------------------------------------------- checkpoints

    /** Goes back to stop {@code target} (event {@code seq}) from the nearest earlier checkpoint; false when there is none. */
    private boolean backByCheckpoint(int target, long seq, boolean byBreak) {
        Optional<dev.deja.replayer.Checkpoints.Checkpoint> from = live.checkpointAtOrBefore(seq);
        if (from.isEmpty()) return false;
        dev.deja.replayer.Checkpoints.Checkpoint c = from.get();
        out.println("going back: from checkpoint " + c.number() + " (#" + c.seq() + ") to #" + seq);
        out.flush();
        long started = System.nanoTime();
        diverged = false;
        failed = false;
        exitStatus = null;
        LiveReplay.Notice n = live.restore(c.number(), seq);
        int reached = n instanceof LiveReplay.Stopped s ? t.atOrAfter(s.event().seq()) : target;
        out.printf(Locale.ROOT, "(re-ran %d calls from checkpoint %d in %.3f s)%n", Math.max(0, reached - t.atOrAfter(c.seq())),
                c.number(), (System.nanoTime() - started) / 1e9);
        handle(n, target, byBreak);
        return true;
    }

    private void requireParked(String what) {
        if (live == null) throw new CommandError(what + " needs a live replay (not --no-exec)");
        if (!live.running() || position >= t.size()) {
            throw new CommandError(what + ": the replay is not running (checkpoints end with it; 'run' or 'goto EVENT' starts it)");
        }
    }

    private void checkpoint() {
        requireParked("checkpoint");
        LiveReplay.Taken taken = live.takeCheckpoint();
        if (taken.checkpoint() == null) throw new CommandError("no checkpoint here: " + taken.refusal());
        dev.deja.replayer.Checkpoints.Checkpoint c = taken.checkpoint();
        int n = c.copyPids().size();
        out.printf(Locale.ROOT, "checkpoint %d at #%d [pid %d] (%.1f ms%s)%n", c.number(), c.seq(), c.tid(), c.costNs() / 1e6,
                n > 1 ? ", " + n + " processes" : "");
    }

    private void infoCheckpoints() {
        List<dev.deja.replayer.Checkpoints.Checkpoint> all = live == null ? List.of() : live.checkpoints();
        if (all.isEmpty()) {
            out.println(live == null ? "no checkpoints: they need a live replay" : "no checkpoints");
            return;
        }
        out.println("Num  Event      Processes        Memory (rss, pss)     Taken");
        for (dev.deja.replayer.Checkpoints.Checkpoint c : all) {
            dev.deja.device.ProcessCopies.Footprint f = dev.deja.replayer.Checkpoints.footprint(c);
            int others = c.copyPids().size() - 1;
            String processes = "pid " + c.pid() + (others > 0 ? " +" + others : "");
            out.printf(Locale.ROOT, "%-4d %-10s %-16s %-21s %s in %.1f ms%n", c.number(), "#" + c.seq(), processes,
                    mib(f.rssBytes()) + ", " + mib(f.pssBytes()), c.automatic() ? "automatically" : "by 'checkpoint'",
                    c.costNs() / 1e6);
        }
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "?" : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private void restartCheckpoint(String arg) {
        int number = count(arg, 0);
        if (live == null) throw new CommandError("restart " + arg + " needs a live replay (not --no-exec)");
        if (!live.running()) throw new CommandError("no checkpoint " + arg + ": checkpoints end with the replay ('run' starts it again)");
        dev.deja.replayer.Checkpoints.Checkpoint c = live.checkpoints().stream().filter(k -> k.number() == number)
                .findFirst().orElseThrow(() -> new CommandError("no checkpoint " + arg + " ('info checkpoints' lists them)"));
        out.println("to checkpoint " + c.number() + " (#" + c.seq() + ")");
        diverged = false;
        failed = false;
        exitStatus = null;
        handle(live.restore(c.number(), c.seq()), Math.min(t.atOrAfter(c.seq()), t.size()), false);
    }

    private void deleteCheckpoint(String arg) {
        if (arg.isEmpty()) throw new CommandError("delete checkpoint N: which one ('info checkpoints' lists them)");
        int number = count(arg, 0);
        if (live == null || !live.running()) {
            throw new CommandError("no checkpoint " + arg + ": checkpoints live in a running replay");
        }
        if (!live.deleteCheckpoint(number)) throw new CommandError("no checkpoint " + arg + " ('info checkpoints' lists them)");
        out.println("deleted checkpoint " + number);
    }

    private void handle(LiveReplay.Notice n, int target, boolean byBreak) {
        atExitOf = -1;
        switch (n) {
            case LiveReplay.Stopped s -> {
                int at = t.indexOf(s.event().seq());
                position = at >= 0 ? at : t.atOrAfter(s.event().seq());
                livePids.put(s.event().pid(), s.livePid());
                liveTid = s.liveTid();
                if (position < target) out.println(style.yellow("interrupted"));
                showStop(byBreak && position == target);
            }
            case LiveReplay.Ended e -> {
                position = t.size();
                livePids.clear();
                if (e.failure() != null) {
                    failed = true;
                    out.println(style.red("deja: the replay failed: ") + e.failure());
                } else if (e.outcome() != null) {
                    Replayer.Outcome o = e.outcome();
                    for (String w : o.warnings()) out.println("deja: warning: " + w);
                    Divergence d = o.divergence();
                    if (d != null) {
                        diverged = true;
                        out.println(style.red("deja: the replay diverged from the recording: ") + d.headline());
                        for (String line : d.before()) out.println("deja:   " + line);
                    } else {
                        exitStatus = o.status();
                        out.println("[the program exited with status " + o.status() + "]");
                    }
                }
            }
        }
    }

    private List<Breakpoint> hits(int index) {
        List<Breakpoint> hit = new ArrayList<>();
        for (Breakpoint b : breakpoints) if (b.enabled && b.spec.test(t, index)) hit.add(b);
        return hit;
    }

    private void showStop(boolean byBreak) {
        if (position >= t.size()) {
            if (live == null) {
                Optional<ExitEvent> x = t.events().isEmpty() ? Optional.empty() : t.processExit(t.events().getFirst().pid());
                out.println("[end of the recording" + x.map(e -> ": the program " + (e.killed()
                        ? "was killed by " + Signals.name(e.termSignal()) : "exited with status " + e.exitCode())).orElse("") + "]");
            } else if (exitStatus == null && !diverged && !failed) {
                out.println("[end of the run]");
            }
            return;
        }
        StringBuilder prefix = new StringBuilder();
        if (byBreak) {
            for (Breakpoint b : hits(position)) {
                b.hits++;
                prefix.append(prefix.isEmpty() ? "Breakpoint " : ", ").append(b.id);
            }
            if (!prefix.isEmpty()) prefix.append(", ");
        }
        for (SignalEvent s : t.signalsBefore(position)) {
            out.println(style.event("   " + t.line(s)));
        }
        out.println(style.bold(prefix.toString()) + style.event(t.line(t.stop(position))));
    }

    // ---------------------------------------------------------------- breakpoints

    private void addBreak(String spec) {
        String withoutExit = CallExit.withoutExitWord(spec);
        boolean atExit = !withoutExit.equals(spec);
        spec = withoutExit;
        BreakSpec b = BreakSpec.parse(spec, t);
        Breakpoint bp = new Breakpoint(nextBreakpoint++, b);
        bp.atExit = atExit;
        breakpoints.add(bp);
        long matches = 0;
        for (int i = 0; i < t.size(); i++) if (b.test(t, i)) matches++;
        out.println("Breakpoint " + bp.id + ": " + b.text() + (atExit ? " exit" : "") + " (" + matches + " recorded call" + (matches == 1 ? "" : "s")
                + " match)");
        if (matches == 0) for (String hint : absentSyscalls(spec)) out.println(hint);
    }

    /** Syscalls a kernel may serve another way: what a program calls instead when a name never appears. */
    private static final Map<String, List<String>> INSTEAD = Map.of(
            "fork", List.of("clone", "clone3", "vfork"), "vfork", List.of("clone", "clone3"),
            "wait", List.of("wait4", "waitid"), "waitpid", List.of("wait4", "waitid"),
            "select", List.of("pselect6", "poll", "ppoll"), "poll", List.of("ppoll"),
            "dup2", List.of("dup3"), "pipe", List.of("pipe2"), "signal", List.of("rt_sigaction"),
            "sigaction", List.of("rt_sigaction"));

    /**
     * For each syscall named in a breakpoint that the recording never calls, the calls it holds in its
     * place ("open": openat): glibc reaches most old calls through newer ones.
     */
    private List<String> absentSyscalls(String spec) {
        Map<String, Integer> recorded = new java.util.TreeMap<>();
        for (int i = 0; i < t.size(); i++) recorded.merge(t.name(t.stop(i)), 1, Integer::sum);
        List<String> hints = new ArrayList<>();
        for (String word : spec.strip().split("\\s+")) {
            if (word.equals("if")) break;
            if (word.contains("=")) break;
            for (String name : word.split(",")) {
                if (name.isEmpty() || !name.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_')) continue;
                if (recorded.containsKey(name)) continue;
                List<String> instead = new ArrayList<>();
                for (String r : recorded.keySet()) {
                    if ((r.contains(name) && !r.equals(name)) || INSTEAD.getOrDefault(name, List.of()).contains(r)) instead.add(r);
                }
                if (instead.isEmpty()) {
                    hints.add("  " + name + " is never called in this recording");
                } else {
                    StringBuilder sb = new StringBuilder("  " + name + " is never called in this recording; it calls ");
                    for (int i = 0; i < instead.size(); i++) {
                        String r = instead.get(i);
                        sb.append(i == 0 ? "" : ", ").append(r).append(" (").append(recorded.get(r)).append(" time")
                                .append(recorded.get(r) == 1 ? "" : "s").append(')');
                    }
                    hints.add(sb.append(": 'break ").append(String.join(",", instead)).append("'").toString());
                }
            }
        }
        return hints;
    }

    private List<Breakpoint> selected(String args, String what) {
        if (args.isBlank()) return List.copyOf(breakpoints);
        List<Breakpoint> out = new ArrayList<>();
        for (String w : words(args)) {
            int id = (int) BreakSpec.number(what, w);
            Breakpoint b = breakpoints.stream().filter(x -> x.id == id).findFirst()
                    .orElseThrow(() -> new CommandError("no breakpoint " + id));
            out.add(b);
        }
        return out;
    }

    private void delete(String args) {
        List<Breakpoint> gone = selected(args, "delete");
        breakpoints.removeAll(gone);
        out.println(gone.isEmpty() ? "no breakpoints" : "deleted " + gone.size() + " breakpoint" + (gone.size() == 1 ? "" : "s"));
    }

    private void enable(String args, boolean on) {
        List<Breakpoint> which = selected(args, on ? "enable" : "disable");
        for (Breakpoint b : which) b.enabled = on;
        out.println(which.isEmpty() ? "no breakpoints" : (on ? "enabled " : "disabled ") + which.size() + " breakpoint"
                + (which.size() == 1 ? "" : "s"));
    }

    private void infoBreakpoints() {
        if (breakpoints.isEmpty()) {
            out.println("no breakpoints");
            return;
        }
        out.println("Num  Enb  Hits  What");
        for (Breakpoint b : breakpoints) {
            out.printf(Locale.ROOT, "%-4d %-4s %-5d %s%n", b.id, b.enabled ? "y" : "n", b.hits, b.spec.text());
        }
    }

    // ---------------------------------------------------------------- inspection

    private SyscallEvent current() {
        if (t.size() == 0) throw new CommandError("the recording holds no calls");
        if (position >= t.size()) throw new CommandError("the run is over: no current event ('goto EVENT' or 'run')");
        return t.stop(position);
    }

    private void info(String what) {
        switch (what.isEmpty() ? "event" : what) {
            case "event", "e" -> infoEvent();
            case "breakpoints", "break", "b" -> infoBreakpoints();
            case "registers", "regs", "reg", "r" -> registers();
            case "threads" -> threads();
            case "processes" -> processes();
            case "fds" -> fds();
            case "maps" -> maps();
            case "checkpoints", "checkpoint" -> infoCheckpoints();
            default -> {
                Optional<String> habit = Help.habit("info " + what);
                if (habit.isPresent()) throw new CommandError("'info " + what + "' is not a deja command: " + habit.get());
                List<String> subjects = List.of("event", "breakpoints", "registers", "threads", "processes", "fds", "maps",
                        "checkpoints");
                throw new CommandError("info: unknown subject '" + what + "'"
                        + dev.deja.cli.Suggest.closest(what, subjects).map(m -> " (did you mean 'info " + m + "'?)")
                        .orElse(" (" + String.join(" ", subjects) + ")"));
            }
        }
    }

    private void infoEvent() {
        SyscallEvent e = current();
        out.println(style.event(t.line(e)));
        Optional<ProcessContext> ctx = t.context(e.pid(), e.seq());
        out.println("  process   pid " + e.pid() + ctx.map(c -> " (ppid " + c.ppid() + ") " + c.comm() + "  exe " + c.exe()
                + "  cwd " + c.cwd() + "  uid " + c.uid()).orElse(""));
        Integer livePid = livePids.get(e.pid());
        out.println("  thread    tid " + e.tid() + (livePid != null ? "  (live pid " + livePid + " tid " + liveTid + ")" : ""));
        long t0 = t.events().getFirst().timeNs();
        out.printf(Locale.ROOT, "  time      +%.6f s%s%n", (e.timeNs() - t0) / 1e9,
                e.returned() ? String.format(Locale.ROOT, ", the call took %d us", (e.exitTimeNs() - e.timeNs()) / 1000) : "");
        out.println("  call      " + t.name(e) + " (nr " + e.nr() + ")");
        printArgs(e);
        out.println("  result    " + result(e));
        out.println("  inputs    " + blocks(e.inputs()));
        out.println("  outputs   " + blocks(e.outputs()));
        for (SignalEvent s : t.signalsBefore(position)) {
            out.println("  signal    " + Signals.name(s.signo()) + " delivered to the thread before this call (#" + s.seq() + ")");
        }
        for (String m : CodeView.mappingsMadeBy(t.events(), e)) out.println("  mapping   " + m);
        if (live != null && live.running()) {
            List<dev.deja.formats.event.MappingEvent> recorded = recordedMappings(e.pid(), e.seq());
            try {
                for (var f : live.query(tracee -> code.frames(tracee, recorded, 2))) {
                    out.println((f.number() == 0 ? "  code      " : "            called from ") + f.function() + " in " + f.object());
                }
            } catch (DeviceException | dev.deja.replayer.stack.ElfException ex) {
                out.println("  code      unknown: " + ex.getMessage());
            }
        }
        out.println("  state     " + (live == null ? "offline: as recorded" : atExitOf == e.seq()
                ? "held at the call's exit; the replay has answered it (finish)"
                : "held at the call's entry; the replay has not made it yet"));
    }

    private String result(SyscallEvent e) {
        if (!e.returned()) return "none: the call never returned in the recording";
        if (e.failed()) {
            int errno = (int) -e.result();
            return "-1 " + Errno.name(errno) + " (" + Errno.message(errno) + "), raw " + e.result();
        }
        return e.result() + " (0x" + Long.toHexString(e.result()) + ")";
    }

    private static String blocks(List<MemoryBlock> blocks) {
        if (blocks.isEmpty()) return "none";
        long bytes = 0;
        for (MemoryBlock b : blocks) bytes += b.length();
        return blocks.size() + " block" + (blocks.size() == 1 ? "" : "s") + ", " + bytes + " bytes ('print inputs', 'print outputs')";
    }

    private void printArgs(SyscallEvent e) {
        List<String> shown = renderedArgs(t.render(e));
        Schema s = t.schema(e).orElse(null);
        int n = s == null ? 6 : s.argCount();
        for (int i = 0; i < n; i++) {
            ArgSpec a = s == null ? null : s.arg(i);
            String label = a == null ? "" : a.kind().name().toLowerCase(Locale.ROOT) + (a.name() == null ? "" : " " + a.name());
            out.printf(Locale.ROOT, "  arg%d      %-18s = 0x%x (%d)%s%n", i, label, e.arg(i), e.arg(i),
                    argText(e, i, i < shown.size() ? shown.get(i) : null));
        }
    }

    private static String argText(SyscallEvent e, int arg) {
        return argText(e, arg, null);
    }

    /** The argument as text: its string, else as the event line decodes it (AT_FDCWD, O_RDONLY|O_CLOEXEC). */
    private static String argText(SyscallEvent e, int arg, String rendered) {
        for (MemoryBlock b : e.inputs()) {
            if (b.arg() == arg && b.length() > 0 && printable(b.data())) return " \"" + escape(Timeline.cString(b.data()), 64) + "\"";
        }
        if (rendered == null || rendered.isEmpty() || rendered.startsWith("\"")) return "";
        // a bare number or address adds nothing to the raw value beside it
        if (rendered.matches("-?\\d+|0x[0-9a-f]+|NULL")) return "";
        return " " + (rendered.length() > 80 ? rendered.substring(0, 77) + "..." : rendered);
    }

    /** The top-level arguments of an event line "name(a, {b, c}, d) = r", as shown. */
    static List<String> renderedArgs(String line) {
        List<String> args = new ArrayList<>();
        int open = line.indexOf('(');
        if (open < 0) return args;
        int depth = 0;
        boolean quoted = false;
        StringBuilder cur = new StringBuilder();
        for (int i = open + 1; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                cur.append(c);
                if (c == '\\' && i + 1 < line.length()) cur.append(line.charAt(++i));
                else if (c == '"') quoted = false;
                continue;
            }
            if (c == '"') quoted = true;
            if (c == '(' || c == '[' || c == '{') depth++;
            if ((c == ')' || c == ']' || c == '}') && depth-- == 0) {
                if (!cur.toString().isBlank()) args.add(cur.toString().strip());
                return args;
            }
            if (c == ',' && depth == 0) {
                args.add(cur.toString().strip());
                cur.setLength(0);
                continue;
            }
            cur.append(c);
        }
        return args;
    }

    private static boolean printable(byte[] d) {
        int n = 0;
        while (n < d.length && d[n] != 0) {
            if ((d[n] < 32 || d[n] == 127) && d[n] != '\n' && d[n] != '\t') return false;
            n++;
        }
        return n > 0;
    }

    private void print(String what) {
        SyscallEvent e = current();
        String w = what.strip();
        if (w.startsWith("$")) {
            long[] regs = liveRegisters("print " + w);
            int i = REGISTERS.indexOf(w.substring(1).toLowerCase(Locale.ROOT));
            if (i < 0) throw new CommandError("unknown register '" + w + "' (" + String.join(" ", REGISTERS) + ")");
            out.printf(Locale.ROOT, "%s = 0x%x (%d)%n", w, regs[i], regs[i]);
            return;
        }
        switch (w) {
            case "" -> {
                out.println(style.event(t.line(e)));
                printArgs(e);
                out.println("result = " + result(e));
                printBlocks("inputs", e.inputs());
                printBlocks("outputs", e.outputs());
            }
            case "args" -> printArgs(e);
            case "result" -> out.println("result = " + result(e));
            case "errno" -> out.println("errno = " + (e.failed() ? Errno.name((int) -e.result()) : "none: the call did not fail"));
            case "inputs" -> printBlocks("inputs", e.inputs());
            case "outputs" -> printBlocks("outputs", e.outputs());
            default -> {
                if (w.matches("arg[0-5]")) {
                    int i = w.charAt(3) - '0';
                    out.printf(Locale.ROOT, "%s = 0x%x (%d)%s%n", w, e.arg(i), e.arg(i), argText(e, i));
                    for (MemoryBlock b : e.inputs()) if (b.arg() == i) hexdump("input", b);
                    for (MemoryBlock b : e.outputs()) if (b.arg() == i) hexdump("output", b);
                } else {
                    throw new CommandError("print: unknown '" + w + "' (args arg0..arg5 result errno inputs outputs $REG)");
                }
            }
        }
    }

    private void printBlocks(String kind, List<MemoryBlock> blocks) {
        if (blocks.isEmpty()) {
            out.println(kind + ": none");
            return;
        }
        out.println(kind + ":");
        for (MemoryBlock b : blocks) hexdump(kind.substring(0, kind.length() - 1), b);
    }

    private void hexdump(String kind, MemoryBlock b) {
        String owner = b.arg() >= 0 ? "arg" + b.arg() : "pointed to";
        out.printf(Locale.ROOT, "  %s %s at 0x%x, %d bytes%s%n", kind, owner, b.address(), b.length(),
                printable(b.data()) ? ": \"" + escape(new String(b.data(), java.nio.charset.StandardCharsets.UTF_8), 80) + "\"" : "");
        byte[] d = b.data();
        int n = Math.min(d.length, HEX_LIMIT);
        for (int off = 0; off < n; off += 16) {
            StringBuilder hex = new StringBuilder();
            StringBuilder text = new StringBuilder();
            for (int i = off; i < off + 16; i++) {
                if (i < n) {
                    hex.append(String.format(Locale.ROOT, "%02x ", d[i] & 0xff));
                    text.append(d[i] >= 32 && d[i] < 127 ? (char) d[i] : '.');
                } else {
                    hex.append("   ");
                }
                if (i == off + 7) hex.append(' ');
            }
            out.printf(Locale.ROOT, "    %04x  %s |%s|%n", off, hex, text);
        }
        if (d.length > n) out.println("    ... " + (d.length - n) + " more bytes");
    }

    private static String escape(String s, int limit) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (b.length() >= limit) {
                b.append("...");
                break;
            }
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case 0 -> b.append("\\0");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private void requireLive(String what) {
        if (live == null) {
            throw new CommandError(what + " needs a live replay: this session browses the recording only (--no-exec)");
        }
        if (!live.running() || position >= t.size()) {
            throw new CommandError(what + " needs the replaying process, and the run is over ('run' starts it again)");
        }
    }

    private long[] liveRegisters(String what) {
        requireLive(what);
        try {
            return live.query(dev.deja.device.Tracee::registers);
        } catch (DeviceException e) {
            // the thread may be gone (killed meanwhile); say so and keep the session
            throw new CommandError("cannot read the registers of the replaying thread: " + e.getMessage());
        }
    }

    private void registers() {
        long[] regs = liveRegisters("regs");
        for (int i = 0; i < REGISTERS.size() && i < regs.length; i++) {
            out.printf(Locale.ROOT, "%-9s 0x%016x  %d%n", REGISTERS.get(i), regs[i], regs[i]);
        }
    }

    private byte[] readMemory(long address, int length) {
        requireLive("x");
        try {
            return live.query(tracee -> {
                byte[] b = new byte[length];
                int got = tracee.memory().read(address, b, 0, length);
                return Arrays.copyOf(b, Math.max(0, got));
            });
        } catch (DeviceException e) {
            throw new CommandError(String.format(Locale.ROOT, "cannot read memory at 0x%x: %s", address, e.getMessage()));
        }
    }

    private static final Pattern FORMAT = Pattern.compile("(\\d*)([xduotcsa]?)([bhwg]?)([xduotcsa]?)");

    /** x/NFU ADDR, as gdb: N units of size U (b h w g) shown in format F (x d u o t c s a). */
    private void examine(String args) {
        String fmt = "";
        String addrText = args;
        if (args.startsWith("/")) {
            int sp = args.indexOf(' ');
            fmt = sp < 0 ? args.substring(1) : args.substring(1, sp);
            addrText = sp < 0 ? "" : args.substring(sp + 1).strip();
        }
        var m = FORMAT.matcher(fmt);
        if (!m.matches()) throw new CommandError("x: bad format '/" + fmt + "' (x/[N][FMT][SIZE]: FMT x d u o t c s a, SIZE b h w g)");
        var last = FORMAT.matcher(lastFormat);
        if (!last.matches()) throw new IllegalStateException(lastFormat);
        int count = m.group(1).isEmpty() ? 1 : Integer.parseInt(m.group(1));
        String f = !m.group(2).isEmpty() ? m.group(2) : !m.group(4).isEmpty() ? m.group(4) : last.group(2);
        String u = !m.group(3).isEmpty() ? m.group(3) : f.equals("c") ? "b" : f.equals("a") ? "g" : last.group(3);
        if (addrText.isEmpty()) throw new CommandError("x: which address? e.g. 'x/16xb $rsp'");
        if (count <= 0 || count > 4096) throw new CommandError("x: count must be 1..4096");
        long address = address(addrText);
        lastFormat = count + f + u;
        if (f.equals("s")) {
            for (int i = 0; i < count; i++) {
                byte[] d = readMemory(address, 256);
                int n = 0;
                while (n < d.length && d[n] != 0) n++;
                if (d.length == 0) throw new CommandError(String.format(Locale.ROOT, "cannot read memory at 0x%x", address));
                out.printf(Locale.ROOT, "0x%x:\t\"%s\"%n", address, escape(new String(d, 0, n, java.nio.charset.StandardCharsets.UTF_8), 256));
                address += n + 1;
            }
            return;
        }
        int size = switch (u) {
            case "b" -> 1;
            case "h" -> 2;
            case "g" -> 8;
            default -> 4;
        };
        byte[] d = readMemory(address, count * size);
        if (d.length < count * size) {
            if (d.length < size) throw new CommandError(String.format(Locale.ROOT, "cannot read memory at 0x%x", address + d.length));
            count = d.length / size;
        }
        int perLine = f.equals("c") ? 8 : switch (size) {
            case 1 -> 8;
            case 2 -> 8;
            case 4 -> 4;
            default -> 2;
        };
        java.nio.ByteBuffer v = java.nio.ByteBuffer.wrap(d).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < count; i++) {
            if (i % perLine == 0) {
                if (!line.isEmpty()) out.println(line);
                line.setLength(0);
                line.append(String.format(Locale.ROOT, "0x%x:", address + (long) i * size));
            }
            long raw = switch (size) {
                case 1 -> v.get(i);
                case 2 -> v.getShort(i * 2);
                case 4 -> v.getInt(i * 4);
                default -> v.getLong(i * 8);
            };
            line.append('\t').append(unit(raw, size, f));
        }
        if (!line.isEmpty()) out.println(line);
    }

    private static String unit(long signed, int size, String f) {
        long mask = size == 8 ? -1L : (1L << (size * 8)) - 1;
        long unsigned = signed & mask;
        int digits = size * 2;
        return switch (f) {
            case "x" -> String.format(Locale.ROOT, "0x%0" + digits + "x", unsigned);
            case "a" -> String.format(Locale.ROOT, "0x%x", unsigned);
            case "d" -> Long.toString(signed);
            case "u" -> Long.toUnsignedString(unsigned);
            case "o" -> "0" + Long.toOctalString(unsigned);
            case "t" -> String.format(Locale.ROOT, "%" + size * 8 + "s", Long.toBinaryString(unsigned)).replace(' ', '0');
            case "c" -> {
                int c = (int) (unsigned & 0xff);
                String ch = c >= 32 && c < 127 ? String.valueOf((char) c) : c == '\n' ? "\\n" : c == 0 ? "\\0"
                        : String.format(Locale.ROOT, "\\%03o", c);
                yield (byte) c + " '" + ch + "'";
            }
            default -> throw new CommandError("x: unknown format '" + f + "'");
        };
    }

    private static final Pattern ADDRESS = Pattern.compile("\\s*(\\$[a-z0-9_]+|0[xX][0-9a-fA-F]+|\\d+)\\s*(?:([+-])\\s*(0[xX][0-9a-fA-F]+|\\d+))?\\s*");

    private long address(String text) {
        var m = ADDRESS.matcher(text);
        if (!m.matches()) throw new CommandError("x: bad address '" + text + "' (a number, 0xHEX, or $reg[+-N])");
        String base = m.group(1);
        long a;
        if (base.startsWith("$")) {
            int i = REGISTERS.indexOf(base.substring(1));
            if (i < 0 && base.equals("$sp")) i = REGISTERS.indexOf("rsp");
            if (i < 0 && base.equals("$pc")) i = REGISTERS.indexOf("rip");
            if (i < 0) throw new CommandError("x: unknown register '" + base + "'");
            a = liveRegisters("x")[i];
        } else {
            a = BreakSpec.number("x", base);
        }
        if (m.group(2) != null) {
            long off = BreakSpec.number("x", m.group(3));
            a = m.group(2).equals("+") ? a + off : a - off;
        }
        return a;
    }

    /** bt [N]: the live thread's stack, unwound through the recorded copies of its objects ({@link CodeView}). */
    private void backtrace(String args) {
        requireLive("bt");
        int limit = args.isBlank() ? dev.deja.replayer.stack.Unwinder.MAX_FRAMES : count(args, 1);
        SyscallEvent e = current();
        List<dev.deja.formats.event.MappingEvent> recorded = recordedMappings(e.pid(), e.seq());
        try {
            live.query(tracee -> code.backtrace(tracee, recorded, limit)).forEach(out::println);
        } catch (DeviceException ex) {
            throw new CommandError("cannot unwind the replaying thread: " + ex.getMessage());
        }
    }

    /** x/Ni ADDR: N instructions from ADDR, disassembled ({@link CodeView#disassemble}). */
    private void disassemble(String args) {
        requireLive("x/i");
        int sp = args.indexOf(' ');
        String n = args.substring(1, args.indexOf('i'));
        int count = n.isEmpty() ? 1 : Integer.parseInt(n);
        if (count <= 0 || count > 1024) throw new CommandError("x: count must be 1..1024");
        if (sp < 0) throw new CommandError("x: which address? e.g. 'x/3i $pc'");
        long address = address(args.substring(sp + 1).strip());
        SyscallEvent e = current();
        List<dev.deja.formats.event.MappingEvent> recorded = recordedMappings(e.pid(), e.seq());
        try {
            for (String line : live.query(tracee -> code.disassemble(tracee, recorded, address, count))) out.println(line);
        } catch (DeviceException ex) {
            throw new CommandError(String.format(Locale.ROOT, "cannot read memory at 0x%x: %s", address, ex.getMessage()));
        }
    }

    private void maps() {
        requireLive("maps");
        SyscallEvent e = current();
        Integer pid = livePids.get(e.pid());
        if (pid == null) throw new CommandError("maps: the live process of recorded pid " + e.pid() + " is not known yet");
        List<dev.deja.formats.event.MappingEvent> recorded = recordedMappings(e.pid(), e.seq());
        if (recorded.isEmpty() && t.name(e).startsWith("execve")) {
            // The recording starts at this exec: what runs before it is deja's launcher, never recorded.
            out.println("(before its first execve the process still runs deja's launcher, not the recorded program:"
                    + " these are the launcher's mappings; 'step' to see the program's)");
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "maps"))) out.println(withRecordedPath(line, recorded));
        } catch (IOException ex) {
            throw new CommandError("cannot read /proc/" + pid + "/maps: " + ex.getMessage());
        }
    }

    /** The file mappings process {@code pid} has made since its last exec, up to event {@code seq}. */
    private List<dev.deja.formats.event.MappingEvent> recordedMappings(int pid, long seq) {
        List<dev.deja.formats.event.MappingEvent> out = new ArrayList<>();
        for (Event ev : t.events()) {
            if (ev.seq() > seq) break;
            if (ev.pid() != pid) continue;
            if (ev instanceof dev.deja.formats.event.ExecEvent) out.clear();
            if (ev instanceof dev.deja.formats.event.MappingEvent m && !m.path().isEmpty()) out.add(m);
        }
        return out;
    }

    /**
     * A line of the live /proc/PID/maps with the recorded file's path first and deja's copy after: replay
     * maps the recording's copies (blobs, the replay directory's executables) at the recorded addresses,
     * so the recorded mapping that covers the line's start names the file the program mapped.
     */
    static String withRecordedPath(String line, List<dev.deja.formats.event.MappingEvent> recorded) {
        String[] f = line.split("\\s+", 6);
        if (f.length < 6 || !f[5].startsWith("/")) return line;
        long start;
        try {
            start = Long.parseUnsignedLong(f[0].substring(0, f[0].indexOf('-')), 16);
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            return line; // not a maps line: as it is
        }
        for (int i = recorded.size() - 1; i >= 0; i--) {
            dev.deja.formats.event.MappingEvent m = recorded.get(i);
            if (Long.compareUnsigned(start, m.address()) >= 0 && Long.compareUnsigned(start, m.address() + m.length()) < 0) {
                if (m.path().equals(f[5])) return line;
                return line.substring(0, line.length() - f[5].length()) + m.path() + "   (deja's copy: " + f[5] + ")";
            }
        }
        return line;
    }

    private void fds() {
        SyscallEvent e = current();
        out.println("descriptors of pid " + e.pid() + " before #" + e.seq() + " (as recorded):");
        for (FdTable.Open o : FdTable.before(t, e.pid(), e.seq())) {
            String line = String.format(Locale.ROOT, "  %3d  %-40s %s%s", o.fd(), o.what(),
                    o.openedAt() < 0 ? "" : "opened at #" + o.openedAt(), o.cloexec() ? ", close-on-exec" : "");
            out.println(line.stripTrailing());
        }
    }

    /** The stop of a thread's next call at or after the current position, or -1 when it made no more. */
    private int nextOfThread(int tid) {
        List<Integer> mine = t.stopsOfThread(tid);
        for (int i : mine) if (i >= position) return i;
        return -1;
    }

    private void threads() {
        int currentTid = position < t.size() ? t.stop(position).tid() : -1;
        for (int tid : t.threads()) {
            int next = nextOfThread(tid);
            String where = next >= 0 ? t.line(t.stop(next)) : "done (no more calls)";
            if (next >= 0 && next != position && t.stopsOfThread(tid).getFirst() > position) where = "not started yet; first call " + where;
            long seq = position < t.size() ? t.stop(position).seq() : Long.MAX_VALUE;
            String name = t.threadName(tid, seq).map(n -> " " + ThreadNames.quoted(n)).orElse("");
            out.println(style.event((tid == currentTid ? "* " : "  ") + "tid " + tid + name + " (pid " + t.processOf(tid) + ")  " + where));
        }
    }

    /** Every test deja-junit marked: its events, outcome, name; "=>" marks the one the position is in. */
    private void tests() {
        List<TestMarkers.TestRun> runs = t.tests();
        if (runs.isEmpty()) {
            out.println("no test markers in this recording (a JVM run with deja-junit's listener and DEJA_MARKER_FD set"
                    + " writes them; scripts/deja-java sets it up)");
            return;
        }
        long seq = position < t.size() ? t.stop(position).seq() : -1;
        for (TestMarkers.TestRun r : runs) {
            boolean here = r.startSeq() >= 0 && seq >= r.startSeq() && (r.endSeq() < 0 || seq <= r.endSeq());
            String line = (here ? "=> " : "   ") + r.line();
            out.println(r.failed() ? style.red(line) : line);
        }
        out.println(TestMarkers.summary(runs));
    }

    /**
     * The stop of "goto time [DATE ]HH:MM[:SS[.fff]][ZONE]" ({@link WallTime}): the first clock read
     * (clock_gettime of CLOCK_REALTIME, gettimeofday, time) that returned that wall-clock time or a
     * later one, so that a log line's timestamp leads to its moment.
     */
    private int timeStop(String spec) {
        List<Timeline.WallRead> reads = t.wallReads();
        if (reads.isEmpty()) {
            throw new CommandError("goto time: the program never read the wall clock (no clock_gettime of CLOCK_REALTIME,"
                    + " gettimeofday or time)");
        }
        WallTime target = WallTime.parse(spec, zone, WallTime.instant(reads.getFirst().epochNanos()));
        for (Timeline.WallRead r : reads) {
            if (r.epochNanos() >= target.epochNanos()) {
                out.println("time " + target.text() + ": the first clock read at or after it is #" + t.stop(r.index()).seq()
                        + " (" + WallTime.show(r.epochNanos(), target.zone()) + ")");
                return r.index();
            }
        }
        Timeline.WallRead first = reads.getFirst();
        Timeline.WallRead last = reads.getLast();
        throw new CommandError("goto time: the program's clock reads go from " + WallTime.show(first.epochNanos(), target.zone())
                + " (#" + t.stop(first.index()).seq() + ") to " + WallTime.show(last.epochNanos(), target.zone()) + " (#"
                + t.stop(last.index()).seq() + "): none at or after " + target.text());
    }

    /** The stop of "goto test:ID" (its start marker) or "goto test:ID end" (its end marker). */
    private int testStop(String spec) {
        boolean end = false;
        String id = spec;
        if (spec.endsWith(" end")) {
            end = true;
            id = spec.substring(0, spec.length() - 4).strip();
        } else if (spec.endsWith(" start")) {
            id = spec.substring(0, spec.length() - 6).strip();
        }
        if (id.isEmpty()) throw new CommandError("goto test: which test? e.g. 'goto test:CacheTest#evicts' ('tests' lists them)");
        List<TestMarkers.TestRun> runs = t.tests();
        if (runs.isEmpty()) throw new CommandError("goto test:" + id + ": this recording has no test markers ('tests' says why)");
        List<TestMarkers.TestRun> found = TestMarkers.find(runs, id);
        if (found.isEmpty()) {
            throw new CommandError("goto test:" + id + ": no such test" + dev.deja.cli.Suggest.closest(id,
                    runs.stream().map(TestMarkers.TestRun::name).distinct().toList()).map(m -> " (did you mean '" + m + "'?)")
                    .orElse(" ('tests' lists them)"));
        }
        if (found.size() > 1) {
            StringBuilder sb = new StringBuilder("goto test:" + id + ": " + found.size() + " tests match; name one by more of its name or unique id:");
            for (TestMarkers.TestRun r : found.subList(0, Math.min(5, found.size()))) sb.append("\n  ").append(r.uniqueId());
            throw new CommandError(sb.toString());
        }
        TestMarkers.TestRun r = found.getFirst();
        long seq = end ? r.endSeq() : r.startSeq();
        if (seq < 0) {
            throw new CommandError("goto test:" + id + ": the test " + (end ? "has no end marker (" + r.outcome() + ")"
                    : "never started (" + r.outcome() + ")"));
        }
        out.println((end ? "end" : "start") + " of " + r.name() + (end ? " (" + r.outcome() + ")" : "") + ": #" + seq);
        return Math.min(t.atOrAfter(seq), t.size());
    }

    private void processes() {
        int currentPid = position < t.size() ? t.stop(position).pid() : -1;
        for (int pid : t.processes()) {
            long seq = position < t.size() ? t.stop(position).seq() : Long.MAX_VALUE;
            String comm = t.program(pid, seq);
            List<Integer> mine = t.stopsOfProcess(pid);
            long threads = t.threads().stream().filter(tid -> t.processOf(tid) == pid).count();
            int next = -1;
            for (int i : mine) {
                if (i >= position) {
                    next = i;
                    break;
                }
            }
            String state;
            if (next >= 0) {
                state = (mine.getFirst() > position ? "not started yet; first call " : "next ") + t.line(t.stop(next));
            } else {
                state = t.processExit(pid).map(x -> x.killed() ? "killed by " + Signals.name(x.termSignal())
                        : "exited with status " + x.exitCode()).orElse("done");
            }
            Integer livePid = next >= 0 ? livePids.get(pid) : null;
            out.println(style.event((pid == currentPid ? "* " : "  ") + "pid " + pid + " " + comm + " (" + threads + " thread"
                    + (threads == 1 ? "" : "s") + (livePid != null ? ", live pid " + livePid : "") + ")  " + state));
            String names = namedThreads(pid, seq);
            if (!names.isEmpty()) out.println("      threads: " + names);
        }
    }

    /**
     * The threads of process {@code pid} that have started and make calls still, with the names they gave
     * themselves by event {@code seq}: "10991 "VM Thread", 10995 "C2 CompilerThre", ..." (a JVM's thread names,
     * so that ps tells a Java process's threads apart); empty when none is named. Not cut to the terminal's
     * width: the names are what the line is for.
     */
    private String namedThreads(int pid, long seq) {
        List<String> named = new ArrayList<>();
        for (int tid : t.threads()) {
            List<Integer> mine = t.stopsOfThread(tid);
            if (t.processOf(tid) != pid || mine.getFirst() > position || nextOfThread(tid) < 0) continue;
            t.threadName(tid, seq).ifPresent(n -> named.add(tid + " " + ThreadNames.quoted(n)));
        }
        return String.join(", ", named);
    }

    private void list(String args) {
        int before = 5;
        int after = 5;
        long around = position < t.size() ? t.stop(position).seq() : Long.MAX_VALUE;
        for (String w : words(args)) {
            if (w.startsWith("-")) before = count(w.substring(1), 5);
            else if (w.startsWith("+")) after = count(w.substring(1), 5);
            else around = event(w);
        }
        List<Event> visible = new ArrayList<>();
        for (Event e : t.events()) if (t.line(e) != null) visible.add(e);
        int at = 0;
        while (at < visible.size() && visible.get(at).seq() < around) at++;
        long currentSeq = position < t.size() ? t.stop(position).seq() : -1;
        int from = Math.max(0, at - before);
        int to = Math.min(visible.size(), at + after + 1);
        if (from >= to) {
            out.println("no events there");
            return;
        }
        for (int i = from; i < to; i++) {
            Event e = visible.get(i);
            out.println(style.event((e.seq() == currentSeq ? "=> " : "   ") + t.line(e)));
        }
    }

    private void search(String args) {
        String re = args.strip();
        if (re.startsWith("/")) re = re.endsWith("/") && re.length() > 1 ? re.substring(1, re.length() - 1) : re.substring(1);
        if (re.isEmpty()) throw new CommandError("search: which regex? e.g. 'search /ENOENT/'");
        Pattern p;
        try {
            p = Pattern.compile(re);
        } catch (PatternSyntaxException e) {
            throw new CommandError("search: bad regex: " + e.getDescription());
        }
        long currentSeq = position < t.size() ? t.stop(position).seq() : -1;
        int found = 0;
        for (Event e : t.events()) {
            String line = t.line(e);
            if (line == null || !p.matcher(line).find()) continue;
            if (++found <= SEARCH_LIMIT) out.println(style.event((e.seq() == currentSeq ? "=> " : "   ") + line));
        }
        if (found > SEARCH_LIMIT) out.println("... " + (found - SEARCH_LIMIT) + " more");
        out.println(found + " match" + (found == 1 ? "" : "es"));
    }

    private void diff(String args) {
        if (comparer == null) throw new CommandError("diff: not available in this session");
        String other = null;
        int context = DiffOptions.DEFAULT.context();
        boolean all = false;
        boolean data = false;
        String[] words = args.isBlank() ? new String[0] : args.strip().split("\\s+");
        for (int i = 0; i < words.length; i++) {
            switch (words[i]) {
                case "--all" -> all = true;
                case "--data" -> data = true;
                case "-C" -> {
                    if (i + 1 >= words.length) throw new CommandError("diff: -C takes a number of events");
                    context = count(words[++i], DiffOptions.DEFAULT.context());
                }
                default -> {
                    if (other != null) throw new CommandError("diff: one recording to compare with, not '" + words[i] + "'");
                    other = words[i];
                }
            }
        }
        if (other == null) throw new CommandError("diff: which recording? e.g. 'diff /tmp/pass'");
        try {
            out.print(comparer.compare(other, new DiffOptions(context, all, data)));
        } catch (IllegalArgumentException e) {
            throw new CommandError("diff: " + e.getMessage());
        }
    }

    private void help(String what) {
        if (what.isBlank()) {
            out.println("Commands (abbreviations in parentheses); 'help COMMAND' shows examples:");
            for (Help.Entry e : Help.COMMANDS) {
                String names = e.aliases().isEmpty() ? "" : " (" + String.join(", ", e.aliases()) + ")";
                String first = e.summary().substring(0, e.summary().indexOf('.') + 1);
                String left = e.usage() + names;
                if (left.length() > 36) out.printf(Locale.ROOT, "  %s%n  %-36s %s%n", left, "", first);
                else out.printf(Locale.ROOT, "  %-36s %s%n", left, first);
            }
            return;
        }
        Help.Entry e = Help.find(what.strip()).orElseThrow(() -> new CommandError("help: no command '" + what.strip() + "'"));
        out.println(e.usage() + (e.aliases().isEmpty() ? "" : "   (also: " + String.join(", ", e.aliases()) + ")"));
        out.println("  " + e.summary());
        out.println("Examples:");
        for (String x : e.examples()) out.println("  " + x);
    }

    // ---------------------------------------------------------------- parsing

    private static List<String> words(String s) {
        return s.isBlank() ? List.of() : List.of(s.strip().split("\\s+"));
    }

    private static int count(String s, int dflt) {
        if (s.isBlank()) return dflt;
        long n = BreakSpec.number("count", s.strip());
        if (n < 0 || n > Integer.MAX_VALUE) throw new CommandError("'" + s + "' is not a count");
        return (int) n;
    }

    private static long event(String s) {
        String v = s.strip();
        if (v.startsWith("#")) v = v.substring(1);
        if (v.isEmpty()) throw new CommandError("which event? e.g. 'goto 1042'");
        return BreakSpec.number("event", v);
    }
}
