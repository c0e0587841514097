package dev.deja.cli.debug;

import dev.deja.device.tracer.SyscallClasses;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;

/** TAB in the shell: commands, then per command syscall names, breakpoint terms, paths, event numbers, registers. */
final class DebugCompleter implements Completer {
    private static final int EVENT_CANDIDATES = 200;
    private final Timeline timeline;
    private final List<String> commands = new ArrayList<>();
    private final TreeSet<String> syscalls = new TreeSet<>();
    private TreeSet<String> paths;

    DebugCompleter(Timeline timeline) {
        this.timeline = timeline;
        for (Help.Entry e : Help.COMMANDS) commands.add(e.name());
        // the names used in this recording first would be nicer, but all are valid breakpoints
        syscalls.addAll(timeline.table().names());
        for (String c : SyscallClasses.names()) syscalls.add("%" + c);
    }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        if (line.wordIndex() == 0) {
            for (String c : commands) candidates.add(new Candidate(c));
            return;
        }
        String verb = line.words().getFirst();
        String word = line.word().substring(0, Math.min(line.wordCursor(), line.word().length()));
        String cmd = Help.find(verb).map(Help.Entry::name).orElse(verb.startsWith("x/") ? "x" : "");
        switch (cmd) {
            case "break" -> {
                if (word.startsWith("path=")) {
                    if (paths == null) paths = timeline.allPaths();
                    for (String p : paths) candidates.add(new Candidate("path=" + p, p, null, null, null, null, true));
                    return;
                }
                for (String term : List.of("path=", "fd=", "result=", "errno=", "pid=", "tid=", "signal=", "event=", "if")) {
                    candidates.add(new Candidate(term, term, null, null, null, null, !term.endsWith("=")));
                }
                if (line.wordIndex() == 1) for (String s : syscalls) candidates.add(new Candidate(s));
            }
            case "goto", "until", "list" -> {
                if (cmd.equals("goto") && word.startsWith("test:")) {
                    for (TestMarkers.TestRun r : timeline.tests()) candidates.add(new Candidate("test:" + r.name()));
                    return;
                }
                events(word, candidates);
            }
            case "help" -> {
                for (String c : commands) candidates.add(new Candidate(c));
            }
            case "info" -> {
                for (String s : List.of("event", "breakpoints", "registers", "threads", "processes", "fds", "maps", "checkpoints")) {
                    candidates.add(new Candidate(s));
                }
            }
            case "print", "x" -> {
                if (cmd.equals("print")) {
                    for (String s : List.of("args", "arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "result", "errno", "inputs", "outputs")) {
                        candidates.add(new Candidate(s));
                    }
                }
                for (String r : Debugger.REGISTERS) candidates.add(new Candidate("$" + r));
            }
            default -> {
            }
        }
    }

    /** Event numbers of recorded calls that start with what is typed (a bounded number of them). */
    private void events(String prefix, List<Candidate> candidates) {
        String p = prefix.startsWith("#") ? prefix.substring(1) : prefix;
        int n = 0;
        for (int i = 0; i < timeline.size() && n < EVENT_CANDIDATES; i++) {
            String seq = Long.toString(timeline.stop(i).seq());
            if (seq.startsWith(p)) {
                candidates.add(new Candidate(seq, seq, null, timeline.name(timeline.stop(i)), null, null, true));
                n++;
            }
        }
    }
}
