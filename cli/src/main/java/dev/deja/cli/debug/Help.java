package dev.deja.cli.debug;

import java.util.List;
import java.util.Optional;

/** The shell's commands: names, abbreviations, usage and examples, for {@code help} and completion. */
final class Help {
    private Help() {
    }

    record Entry(String name, List<String> aliases, String usage, String summary, List<String> examples) {
        boolean answers(String word) {
            return name.equals(word) || aliases.contains(word);
        }
    }

    static final List<Entry> COMMANDS = List.of(
            new Entry("step", List.of("s"), "step [N]", "Move N events forward (default 1), in any thread.",
                    List.of("step", "s 3")),
            new Entry("next", List.of("n"), "next [N] [-t]",
                    "Move N events forward; with -t, N events of the current thread (the others run meanwhile).",
                    List.of("next 5", "n -t", "next -t 3")),
            new Entry("continue", List.of("c", "cont"), "continue",
                    "Run to the next breakpoint hit, or to the end of the run.", List.of("continue", "c")),
            new Entry("until", List.of("u"), "until EVENT", "Run forward to event EVENT (the first call at or after it).",
                    List.of("until 2000")),
            new Entry("goto", List.of("g"), "goto EVENT | test:ID [end] | time [DATE] HH:MM:SS[.mmm][ZONE]",
                    "Go to event EVENT, forwards or backwards (backwards re-runs the replay from the nearest earlier checkpoint, or the start); "
                            + "test:ID goes to the start (or end) of a marked test, ID its name, unique id or a unique "
                            + "suffix of one; time goes to the first wall-clock read that returned that time or later "
                            + "(a log line's timestamp; the recorded TZ unless a zone is given).",
                    List.of("goto 17", "goto 1042", "goto test:CacheTest#evicts", "goto test:CacheTest#evicts end",
                            "goto time 12:03:04.123", "goto time 2026-12-02 12:03:04Z")),
            new Entry("finish", List.of("fin"), "finish [process]",
                    "Run to the current call's exit (the replay answers it) and show its result and the outputs it wrote,"
                            + " read back from memory; 'finish process': to the process's last recorded call (from there,"
                            + " one call on).",
                    List.of("finish", "finish process")),
            new Entry("reverse-step", List.of("rs"), "reverse-step [N]",
                    "Go N events back (default 1), by re-running the replay to there from the nearest earlier checkpoint"
                            + " (or the start).", List.of("reverse-step", "rs 3")),
            new Entry("reverse-continue", List.of("rc"), "reverse-continue",
                    "Go back to the previous breakpoint hit (or the start), by re-running the replay from the nearest"
                            + " earlier checkpoint (or the start).",
                    List.of("reverse-continue")),
            new Entry("run", List.of("restart", "r"), "run | restart [N]",
                    "Start the replay again from its first event (the program's execve); 'restart N' goes to checkpoint N.",
                    List.of("run", "restart 2")),
            new Entry("checkpoint", List.of(), "checkpoint",
                    "Take a checkpoint here (a stopped copy of the replayed process): going back to or past it"
                            + " restarts from it instead of from the start. 'info checkpoints' lists them, 'restart N'"
                            + " goes to one, 'delete checkpoint N' drops one. Taken automatically too as the replay runs.",
                    List.of("checkpoint", "info checkpoints", "restart 1", "delete checkpoint 1")),
            new Entry("break", List.of("b"), "break [SYSCALLS] [TERM...] [if COND]",
                    "Stop where a recorded call matches. SYSCALLS: names or classes as strace writes them "
                            + "(openat,read %file %network /regex). TERMs: path=GLOB fd=N result=N errno=NAME pid=N "
                            + "tid=N signal=SIGx event=N. COND: arg0..arg5, result, nr, event, pid, tid compared "
                            + "(== != < <= > >=) with numbers, joined by && and ||. 'break test' stops at each "
                            + "test's start (deja-junit's markers). 'exit' after SYSCALLS stops after the call returned"
                            + " (as finish).",
                    List.of("break openat path=*.conf", "break read exit", "break test", "b %network", "b errno=ENOENT", "b read fd=3 if arg2 > 100",
                            "b signal=SIGUSR1", "b event=1042")),
            new Entry("delete", List.of("d"), "delete [ID...] | delete checkpoint N",
                    "Delete breakpoints (all without IDs), or checkpoint N.",
                    List.of("delete 2", "delete", "delete checkpoint 1")),
            new Entry("disable", List.of(), "disable [ID...]", "Disable breakpoints (all without IDs).",
                    List.of("disable 1")),
            new Entry("enable", List.of(), "enable [ID...]", "Enable breakpoints (all without IDs).",
                    List.of("enable 1")),
            new Entry("info", List.of("i"), "info [event|breakpoints|registers|threads|processes|fds|maps|checkpoints]",
                    "The current event in full: process, thread, time, arguments raw and decoded, result, "
                            + "inputs, outputs, signals; or one of the listed subjects.",
                    List.of("info", "info breakpoints", "info registers")),
            new Entry("print", List.of("p"), "print [args|argN|result|inputs|outputs|$REG]",
                    "The recorded call's arguments, inputs and outputs, decoded and in hex; $REG reads a live register.",
                    List.of("print", "print arg1", "print outputs", "p $rsp")),
            new Entry("regs", List.of("registers"), "regs",
                    "The live replaying thread's registers (at the entry of the current call).", List.of("regs")),
            new Entry("x", List.of(), "x/[N][FMT][SIZE] ADDR",
                    "Examine live memory as gdb does: FMT x d u o t c s a, SIZE b h w g, or x/Ni for N instructions"
                            + " (disassembled by objdump); ADDR a number or $reg[+-N].",
                    List.of("x/32xb $rsp", "x/4gx $rsp+8", "x/s $rsi", "x/8dw 0x7ffffffde000", "x/3i $pc")),
            new Entry("bt", List.of("backtrace", "where"), "bt [N]",
                    "The live thread's call stack (N innermost frames): address, function+offset, the object's recorded path;"
                            + " unwound through .eh_frame, frames found by frame pointers marked as guessed.",
                    List.of("bt", "bt 3")),
            new Entry("maps", List.of(), "maps", "The live replaying process's memory maps (/proc/PID/maps).",
                    List.of("maps")),
            new Entry("fds", List.of(), "fds", "The current process's open descriptors, as the recorded calls left them.",
                    List.of("fds")),
            new Entry("threads", List.of(), "threads",
                    "Every recorded thread, its name (prctl PR_SET_NAME: a JVM's thread names; \"main\" for java's main thread), the call it makes next.",
                    List.of("threads")),
            new Entry("tests", List.of(), "tests",
                    "Every test deja-junit's listener marked in the recording: its event range, outcome, name, failure message.",
                    List.of("tests")),
            new Entry("processes", List.of("ps"), "processes",
                    "Every recorded process: program, threads, live pid, the call it makes next or how it ended; then its running named threads.",
                    List.of("processes")),
            new Entry("list", List.of("l"), "list [-N] [+M] [EVENT]",
                    "The events around the current one (or EVENT): N before and M after (default 5 and 5).",
                    List.of("list", "list -10 +2", "list 1042")),
            new Entry("search", List.of("/"), "search /REGEX/",
                    "Every event whose strace-style text matches REGEX (Java syntax), from the start.",
                    List.of("search /ENOENT/", "search /openat.*conf/")),
            new Entry("diff", List.of(), "diff REC2 [-C N] [--all] [--data]",
                    "Compare this recording (run A) with REC2 (run B), as 'deja diff': the first events where the"
                            + " runs part, with context and the data that differed before.",
                    List.of("diff /tmp/pass", "diff passing-run -C 5", "diff pass.deja --all --data")),
            new Entry("help", List.of("h", "?"), "help [COMMAND]", "The commands, or one command with examples.",
                    List.of("help", "help break")),
            new Entry("gdb", List.of(), "gdb [PORT | HOST:PORT]",
                    "Serve the replay, stopped at the current call, to gdb (default 127.0.0.1:50505; 0 picks a free port):"
                    + " it prints the gdb command to connect and waits; when gdb detaches, the shell stops at the next call"
                    + " the replay reached (source-level breakpoints, bt, threads: docs/gdb.md).",
                    List.of("gdb", "gdb 0", "gdb 127.0.0.1:2345")),
            new Entry("quit", List.of("q", "exit"), "quit", "End the session (the replay is killed).", List.of("quit")));

    /**
     * What to use in deja for a gdb or rr habit it does not have (yet): stack traces, watchpoints,
     * instruction steps and checkpoints belong to the gdb issue; until then, the nearest deja command.
     */
    static final java.util.Map<String, String> HABITS = java.util.Map.ofEntries(
            java.util.Map.entry("frame", "deja has no frame selection: 'bt' lists the frames of the stopped thread, 'x/8xg $rsp'"
                    + " and 'regs' show its innermost one;"
                    + " 'gdb' serves this stop to gdb, which selects frames and shows their locals"),
            java.util.Map.entry("up", "@frame"), java.util.Map.entry("down", "@frame"),
            java.util.Map.entry("watch", "the shell stops at system calls, not at memory accesses: 'break write if arg0 == 1',"
                    + " 'break openat path=*.conf' or 'break fd=3' stop where the data goes in or out;"
                    + " 'gdb' serves this stop to gdb, where watch, rwatch and awatch work"),
            java.util.Map.entry("rwatch", "@watch"), java.util.Map.entry("awatch", "@watch"),
            java.util.Map.entry("when", "the prompt shows the current event number (deja #1042 [tid]>); 'info' shows it with the"
                    + " time since the start"),
            java.util.Map.entry("stepi", "deja moves by system calls, not instructions: 'step' goes to the next recorded call,"
                    + " 'next -t' to this thread's next one"),
            java.util.Map.entry("si", "@stepi"), java.util.Map.entry("nexti", "@stepi"), java.util.Map.entry("ni", "@stepi"),
            java.util.Map.entry("info frame", "@frame"),
            java.util.Map.entry("info sharedlibrary", "'maps' lists what the process has mapped, the shared libraries"
                    + " among it (with the recorded path first)"),
            java.util.Map.entry("info proc mappings", "@info sharedlibrary"),
            java.util.Map.entry("kill", "'quit' ends the session and kills the replay; 'run' starts it again"));

    /** The advice for a gdb habit ("bt", "info frame"), or empty. */
    static Optional<String> habit(String command) {
        String advice = HABITS.get(command);
        while (advice != null && advice.startsWith("@")) advice = HABITS.get(advice.substring(1));
        return Optional.ofNullable(advice);
    }

    /** Every command name and alias, for suggestions. */
    static List<String> words() {
        List<String> all = new java.util.ArrayList<>();
        for (Entry e : COMMANDS) {
            all.add(e.name());
            all.addAll(e.aliases());
        }
        return all;
    }

    static Optional<Entry> find(String word) {
        for (Entry e : COMMANDS) if (e.answers(word)) return Optional.of(e);
        return Optional.empty();
    }
}
