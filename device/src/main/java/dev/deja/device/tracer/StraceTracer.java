package dev.deja.device.tracer;

import static dev.deja.device.syscall.AtFlags.AT_FDCWD;

import dev.deja.device.Decision;
import dev.deja.device.SyscallEntry;
import dev.deja.device.SyscallInterest;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.ArgKind;
import dev.deja.device.syscall.Renderer;
import dev.deja.device.syscall.Schema;
import dev.deja.device.syscall.Schemas;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * strace on the trace device: prints every event as {@code strace -f} 6.x does, and injects faults
 * as {@code -e inject=} does. Runs on the device's thread; everything it prints goes to one writer.
 */
public final class StraceTracer implements Tracer {

    /**
     * What to print and inject.
     *
     * @param pidPrefix    "PID " before every line (strace -f -o FILE); otherwise "[pid N] " once
     *                     more than one thread is traced (strace -f to stderr)
     * @param decodeFds    -y: file descriptors as {@code 3</etc/hosts>}
     * @param absoluteTime -tt: wall-clock time of day with microseconds before each line
     * @param callTime     -T: time spent in each call after it, {@code <0.000012>}
     * @param summary      -c: no lines, a table of counts, errors and times at the end
     * @param quiet        -qq: no "+++ exited" lines
     * @param more         the rarer strace options
     */
    public record Options(Renderer renderer, SyscallSet trace, List<InjectRule> injects, boolean pidPrefix,
                          boolean decodeFds, boolean absoluteTime, boolean callTime, boolean summary, boolean quiet,
                          More more) {
        public Options {
            injects = List.copyOf(injects);
            if (more.clock() == Clock.NONE && absoluteTime) more = more.withClock(Clock.MICROS);
            decodeFds = decodeFds || more.fdDetails();
        }

        public Options(Renderer renderer, SyscallSet trace, List<InjectRule> injects, boolean pidPrefix,
                       boolean decodeFds, boolean absoluteTime, boolean callTime, boolean summary, boolean quiet) {
            this(renderer, trace, injects, pidPrefix, decodeFds, absoluteTime, callTime, summary, quiet, More.NONE);
        }

        Clock clock() {
            return more.clock();
        }

        boolean relative() {
            return more.relative();
        }

        boolean fdDetails() {
            return more.fdDetails();
        }

        public static Options defaults() {
            return new Options(new Renderer(Arch.current()), SyscallSet.all(), List.of(), false, false, false, false,
                    false, false);
        }
    }

    /**
     * strace's rarer options.
     *
     * @param clock      which time prefix: -t, -tt, -ttt (NONE with absoluteTime means -tt)
     * @param relative   -r: the time since the previous line's call began, before each line
     * @param fdDetails  -yy: sockets as {@code TCP:[addr:port->addr:port]}, devices as {@code /dev/null<char 1:3>}
     * @param status     -e status= (-z: successful, -Z: failed): which calls print; empty for all
     * @param linesToo   -C: the lines and the -c table
     * @param sortBy     -S: the -c table's order (time, calls, errors, name, nothing)
     * @param column     -a: the column " = " is aligned to (strace's default 40)
     * @param instructionPointer -i: the instruction pointer at the call, {@code [00007f...] }, before each line
     * @param signals    -e signal=: the signals whose delivery lines print (all of them by default)
     * @param paths      -P: only the calls that name one of these paths, or use a descriptor open on one
     * @param dumpReads  -e read=: descriptors whose data read is dumped in hex and ASCII after the line
     * @param dumpWrites -e write=: the same for data written
     * @param columns    -U: the -c table's columns, in order ({@link #DEFAULT_COLUMNS} by default)
     * @param pidNames   --decode-pids=comm: thread and process ids followed by the command name, {@code 42<sh>}
     * @param detachOnExec -b execve: a process that execs (after the program's own exec) is let go
     */
    public record More(Clock clock, boolean relative, boolean fdDetails, Set<String> status, boolean linesToo, String sortBy,
                       int column, boolean instructionPointer, Set<Integer> signals, Set<String> paths,
                       Set<Integer> dumpReads, Set<Integer> dumpWrites, List<Column> columns, boolean pidNames,
                       boolean detachOnExec) {
        /** Signals 1 to 64: what -e signal=all prints. */
        public static final Set<Integer> ALL_SIGNALS = allSignals();
        /** strace's default -c columns. */
        public static final List<Column> DEFAULT_COLUMNS = List.of(Column.TIME_PERCENT, Column.TOTAL_TIME, Column.AVG_TIME,
                Column.CALLS, Column.ERRORS, Column.NAME);
        public static final More NONE = new More(Clock.NONE, false, false, Set.of(), false, "time", 40, false, ALL_SIGNALS,
                Set.of(), Set.of(), Set.of(), DEFAULT_COLUMNS, false, false);
        /** In dumpReads or dumpWrites: every descriptor ("-e read=all"). */
        public static final int ALL_FDS = -1;

        public More {
            status = Set.copyOf(status);
            signals = Set.copyOf(signals);
            paths = Set.copyOf(paths);
            dumpReads = Set.copyOf(dumpReads);
            dumpWrites = Set.copyOf(dumpWrites);
            columns = List.copyOf(columns);
        }

        private static Set<Integer> allSignals() {
            Set<Integer> all = new HashSet<>();
            for (int s = 1; s <= 64; s++) all.add(s);
            return Set.copyOf(all);
        }

        More withClock(Clock c) {
            return new More(c, relative, fdDetails, status, linesToo, sortBy, column, instructionPointer, signals, paths,
                    dumpReads, dumpWrites, columns, pidNames, detachOnExec);
        }
    }

    /**
     * A column of the -c table (strace -U), with strace's header and width. Times are in seconds
     * except avg-time (microseconds per call, strace's "usecs/call").
     */
    public enum Column {
        TIME_PERCENT("% time", 6, "time-percent", "time"),
        TOTAL_TIME("seconds", 11, "total-time", "time-total"),
        MIN_TIME("shortest", 8, "min-time", "shortest", "time-min"),
        MAX_TIME("longest", 8, "max-time", "longest", "time-max"),
        AVG_TIME("usecs/call", 11, "avg-time", "time-avg"),
        CALLS("calls", 9, "calls", "count"),
        ERRORS("errors", 9, "errors", "error"),
        NAME("syscall", 16, "name", "syscall", "syscall-name");

        final String header;
        final int width;
        private final List<String> names;

        Column(String header, int width, String... names) {
            this.header = header;
            this.width = width;
            this.names = List.of(names);
        }

        /** The column strace -U calls {@code name} (or one of its other names). */
        public static java.util.Optional<Column> named(String name) {
            for (Column c : values()) if (c.names.contains(name)) return java.util.Optional.of(c);
            return java.util.Optional.empty();
        }

        /** Every name -U accepts, for error messages. */
        public static List<String> allNames() {
            List<String> all = new ArrayList<>();
            for (Column c : values()) all.addAll(c.names);
            return all;
        }
    }

    /** strace's -t (time of day), -tt (with microseconds), -ttt (seconds since the epoch, microseconds). */
    public enum Clock { NONE, SECONDS, MICROS, EPOCH }

    private final Options o;
    /** -k: where the stack of each traced call comes from (null without -k), and each thread's at its entry. */
    private StackSource stacks;
    private final Map<Integer, List<String>> entryStacks = new HashMap<>();
    /** -i: the instruction pointer at each call's entry, by thread. */
    private final Map<Integer, Long> entryIps = new HashMap<>();
    /** -r: when the previous printed call began; -1 before the first. */
    private long previousNs = -1;
    private final PrintWriter out;
    private final Schemas schemas = Schemas.of(Arch.current());
    private final Set<Integer> live = new HashSet<>();
    /** Per thread: calls seen per syscall number (strace counts injections per thread). */
    private final Map<Integer, Map<Integer, Long>> counts = new HashMap<>();
    /** Per thread: what was decided at the pending call's entry. */
    private final Map<Integer, Entered> entered = new HashMap<>();
    private final Map<String, Stat> stats = new TreeMap<>();
    private final ZoneId zone = ZoneId.systemDefault();

    private record Entered(long seq, boolean injected, long delayExitUs, int signal, Map<Integer, String> fdPaths) {
    }

    private static final class Stat {
        long calls;
        long errors;
        long ns;
        long minNs = Long.MAX_VALUE;
        long maxNs;
    }

    public StraceTracer(Options options, PrintWriter out) {
        this.o = options;
        this.out = out;
    }

    /**
     * strace's -k: the lines of a stopped thread's call stack, innermost first, each as strace prints
     * them ({@code  > /usr/lib/x86_64-linux-gnu/libc.so.6(read+0xd) [0xf82ad]}).
     */
    @FunctionalInterface
    public interface StackSource {
        List<String> lines(Tracee tracee);
    }

    /** -k: print {@code source}'s stack, taken at each traced call's entry, after the call's line. Before the run. */
    public void stacks(StackSource source) {
        this.stacks = source;
    }

    @Override
    public boolean decides() {
        return stacks != null || !o.injects().isEmpty() || o.decodeFds() || o.more().instructionPointer() || !o.more().paths().isEmpty()
                || o.more().pidNames();
    }

    /** The traced calls and those an injection may hit: the others need not stop the program. */
    @Override
    public SyscallInterest interest() {
        SyscallInterest i = o.trace().interest();
        for (InjectRule r : o.injects()) i = i.union(r.set().interest());
        return i;
    }

    @Override
    public Decision onSyscallEntry(SyscallEntry e, Tracee tracee) {
        live.add(e.tid());
        if (o.more().instructionPointer() && o.trace().contains(e.nr())) readAtEntry(e, tracee);
        // -k at the entry, so that a call that never returns has one; an exec's is taken at its exit (below)
        if (stacks != null && o.trace().contains(e.nr())) entryStacks.put(e.tid(), stacks.lines(tracee));
        // --decode-pids=comm: the name as the call starts (strace prints it then): a call that never
        // returns (exit_group) is printed once the thread is gone, an execve's after the name changed
        if (o.more().pidNames() && o.trace().contains(e.nr())) {
            String now = comm(e.tid());
            if (now != null) names.put(e.tid(), now);
        }
        // -P needs them too: close(3) names its file only before it runs
        Map<Integer, String> fdPaths = o.decodeFds() || !o.more().paths().isEmpty() ? fdPaths(e.pid(), e.nr(), e.args()) : Map.of();
        InjectRule hit = null;
        if (!o.injects().isEmpty()) {
            long n = counts.computeIfAbsent(e.tid(), t -> new HashMap<>()).merge(e.nr(), 1L, Long::sum);
            for (InjectRule r : o.injects()) {
                if (r.set().contains(e.nr()) && r.hits(n)) {
                    hit = r;
                    break;
                }
            }
        }
        if (hit == null) {
            if (!fdPaths.isEmpty()) entered.put(e.tid(), new Entered(e.seq(), false, 0, 0, fdPaths));
            return Decision.proceed();
        }
        sleepUs(hit.delayEnterUs());
        entered.put(e.tid(), new Entered(e.seq(), hit.skips(), hit.delayExitUs(), hit.signal(), fdPaths));
        if (hit.errno() != 0) return Decision.fail(hit.errno());
        if (hit.retval() != null) return Decision.succeed(hit.retval());
        return Decision.proceed();
    }

    @Override
    public void onSyscall(SyscallEvent e, Tracee tracee) {
        live.add(e.tid());
        Entered en = entered.remove(e.tid());
        if (en != null && en.seq() != e.seq()) en = null;
        if (en != null) {
            sleepUs(en.delayExitUs());
            // signal=: sent now, at the call's exit, so it is delivered as the thread returns from it
            if (en.signal() != 0) dev.deja.device.ffm.Signals.tgkill(e.pid(), e.tid(), en.signal());
        }
        if (!o.trace().contains(e.nr())) return;
        if (o.summary()) {
            count(e);
            if (!o.more().linesToo()) return;
        }
        if (!o.more().status().isEmpty() && !o.more().status().contains(status(e))) return;
        if (!o.more().paths().isEmpty() && !touches(e, en == null ? Map.of() : en.fdPaths())) return;
        String text = o.renderer().render(e);
        String mask = text.startsWith("rt_sigreturn(") && e.returned() ? restoredMask(e.pid(), e.tid()) : null;
        if (mask != null) {
            int close = matching(text, text.indexOf('('));
            if (close > 0) text = "rt_sigreturn({mask=" + mask + "})" + text.substring(close + 1);
        }
        Long ip = entryIps.remove(e.tid());
        if (o.more().instructionPointer()) text = String.format("[%016x] ", ip == null ? 0 : ip) + text;
        if (o.decodeFds()) text = decorate(text, e, en == null ? Map.of() : en.fdPaths());
        if (o.more().pidNames()) text = namedPids(text, e);
        if (en != null && en.injected()) text += " (INJECTED)";
        if (o.callTime() && e.returned()) {
            long ns = Math.max(0, e.exitTimeNs() - e.timeNs());
            text += String.format(" <%d.%06d>", ns / 1_000_000_000L, ns / 1000 % 1_000_000);
        }
        line(e.tid(), e.timeNs(), text, true);
        List<String> stack = entryStacks.remove(e.tid());
        // strace -k shows a successful exec's stack in the new program (its loader's first instruction)
        if (stack != null && e.result() == 0 && EXECS.contains(schemas.table().name(e.nr()))) stack = stacks.lines(tracee);
        if (stack != null) for (String frame : stack) out.println(frame);
        dump(e);
    }

    private static final Set<String> EXECS = Set.of("execve", "execveat");
    private static final Set<String> READS = Set.of("read", "pread64", "readv", "preadv", "preadv2", "recvfrom");
    private static final Set<String> WRITES = Set.of("write", "pwrite64", "writev", "pwritev", "pwritev2", "sendto");

    /** -e read= / -e write=: the data the call moved, as strace's full hex and ASCII dump. */
    private void dump(SyscallEvent e) {
        if (o.more().dumpReads().isEmpty() && o.more().dumpWrites().isEmpty()) return;
        if (!e.returned() || e.failed() || e.result() <= 0) return;
        String name = schemas.table().name(e.nr());
        boolean read = READS.contains(name);
        if (!read && !WRITES.contains(name)) return;
        Set<Integer> fds = read ? o.more().dumpReads() : o.more().dumpWrites();
        if (!fds.contains(More.ALL_FDS) && !fds.contains((int) e.arg(0))) return;
        // the buffer hangs off argument 1; vectors' element buffers are blocks of argument -1
        int arg = name.endsWith("v") || name.endsWith("v2") ? -1 : 1;
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        for (dev.deja.formats.event.MemoryBlock b : read ? e.outputs() : e.inputs()) {
            if (b.arg() == arg) data.writeBytes(b.data());
        }
        byte[] d = data.toByteArray();
        int n = (int) Math.min(d.length, e.result());
        for (int off = 0; off < n; off += 16) {
            StringBuilder hex = new StringBuilder();
            StringBuilder text = new StringBuilder();
            for (int i = off; i < off + 16 && i < n; i++) {
                int c = d[i] & 0xff;
                hex.append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16)).append(' ');
                if (i - off == 7) hex.append(' ');
                text.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
            }
            out.println(String.format(" | %05x  %-49s %-16s |", off, hex, text));
        }
        if (!o.pidPrefix()) out.flush();
    }

    private void count(SyscallEvent e) {
        if (!e.returned()) return; // strace counts calls as they return: exit_group never does
        Stat s = stats.computeIfAbsent(schemas.table().name(e.nr()), k -> new Stat());
        s.calls++;
        if (e.failed()) s.errors++;
        long ns = Math.max(0, e.exitTimeNs() - e.timeNs());
        s.ns += ns;
        s.minNs = Math.min(s.minNs, ns);
        s.maxNs = Math.max(s.maxNs, ns);
    }

    /**
     * -P: whether the call names one of the paths (as given, or resolved against the process's working
     * directory) or uses a descriptor open on one (read at entry with -y, else at the exit).
     */
    private boolean touches(SyscallEvent e, Map<Integer, String> atEntry) {
        Schema s = schemas.get(e.nr());
        if (s == null) return false;
        Set<String> wanted = o.more().paths();
        for (int i = 0; i < s.argCount() && i < 6; i++) {
            ArgKind k = s.arg(i).kind();
            if (k == ArgKind.PATH) {
                for (dev.deja.formats.event.MemoryBlock b : e.inputs()) {
                    if (b.arg() != i) continue;
                    byte[] d = b.data();
                    int n = 0;
                    while (n < d.length && d[n] != 0) n++;
                    String path = new String(d, 0, n, java.nio.charset.StandardCharsets.UTF_8);
                    if (wanted.contains(path)) return true;
                    String cwd = path.startsWith("/") ? null : link(e.pid(), AT_FDCWD);
                    if (cwd != null && wanted.contains(Path.of(cwd).resolve(path).normalize().toString())) return true;
                }
            } else if (k == ArgKind.FD) {
                int fd = (int) e.arg(i);
                String at = atEntry.get(fd);
                if (at == null && fd >= 0) at = plainLink(e.pid(), fd);
                if (at != null && wanted.contains(at)) return true;
            }
        }
        if (s.ret().equals("fd") && e.returned() && !e.failed()) {
            String r = plainLink(e.pid(), (int) e.result());
            return r != null && wanted.contains(r);
        }
        return false;
    }

    private static String plainLink(int pid, int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "fd", Integer.toString(fd))).toString();
        } catch (IOException | UnsupportedOperationException x) {
            return null; // closed or gone: not on the path
        }
    }

    /** strace's -e status= class of a finished call. */
    private static String status(SyscallEvent e) {
        if (!e.returned()) return "unfinished";
        return e.failed() ? "failed" : "successful";
    }

    @Override
    public void onSignal(SignalEvent e, Tracee tracee) {
        live.add(e.tid());
        if (!o.more().signals().contains(e.signo())) return;
        if (!o.summary() || o.more().linesToo()) {
            String text = o.renderer().renderSignal(e);
            if (o.more().pidNames()) text = namedSenders(text);
            line(e.tid(), e.timeNs(), text, false);
        }
    }

    @Override
    public boolean detachesAtExec() {
        return o.more().detachOnExec();
    }

    /** -b execve: the exec after which deja let the process go, as strace leaves it: unfinished. */
    @Override
    public void onDetached(SyscallEvent e) {
        if (o.trace().contains(e.nr()) && (!o.summary() || o.more().linesToo()) && o.more().status().isEmpty()) {
            line(e.tid(), e.timeNs(), o.renderer().renderEntry(e) + (o.pidPrefix() ? " <unfinished ...>" : " <detached ...>"),
                    false);
        }
        live.remove(e.tid());
        counts.remove(e.tid());
        entered.remove(e.tid());
        entryIps.remove(e.tid());
    }

    @Override
    public void onSpawn(SpawnEvent e) {
        live.add(e.tid());
        live.add(e.childTid());
    }

    @Override
    public void onExit(ExitEvent e) {
        if ((!o.summary() || o.more().linesToo()) && !o.quiet()) line(e.tid(), e.timeNs(), o.renderer().renderExit(e), false);
        live.remove(e.tid());
        counts.remove(e.tid());
        entered.remove(e.tid());
    }

    private static final int X86_RIP = 16;

    /** -i: the instruction pointer at the call's entry (after its syscall instruction, as strace shows it). */
    private void readAtEntry(SyscallEntry e, Tracee tracee) {
        if (!o.more().instructionPointer()) return;
        try {
            long[] regs = tracee.registers();
            if (regs.length > X86_RIP) entryIps.put(e.tid(), regs[X86_RIP]);
        } catch (UnsupportedOperationException | dev.deja.device.DeviceException x) {
            // no registers here: the line shows 0 for the address
        }
    }

    /**
     * rt_sigreturn's {mask=...}: strace reads it from the signal frame; after the call it is the thread's
     * blocked set, which /proc shows (SigBlk), so deja reads it there at the exit.
     */
    private static String restoredMask(int pid, int tid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "task", Integer.toString(tid), "status"))) {
                if (!line.startsWith("SigBlk:")) continue;
                long bits = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                byte[] b = new byte[8];
                for (int i = 0; i < 8; i++) b[i] = (byte) (bits >>> (8 * i));
                return dev.deja.device.syscall.Signals.mask(b, 0, 8);
            }
        } catch (IOException | NumberFormatException x) {
            return null; // the thread is gone: the raw argument, as before
        }
        return null;
    }

    /** Prints the -c table (nothing without -c) and flushes. */
    public void finish() {
        if (o.summary()) printSummary();
        out.flush();
    }

    private void line(int tid, long timeNs, String text, boolean call) {
        StringBuilder sb = new StringBuilder(text.length() + 32);
        String name = o.more().pidNames() ? threadName(tid, text) : "";
        if (o.pidPrefix()) {
            String t = Integer.toString(tid);
            sb.append(t).append(name).append(" ".repeat(Math.max(1, 6 - t.length() - name.length())));
        } else if (live.size() > 1) {
            String t = Integer.toString(tid);
            sb.append("[pid ").append(" ".repeat(Math.max(0, 5 - t.length()))).append(t).append(name).append("] ");
        }
        if (o.relative()) {
            long d = previousNs < 0 ? 0 : Math.max(0, timeNs - previousNs);
            previousNs = timeNs;
            sb.append(String.format("%6d.%06d ", d / 1_000_000_000L, d / 1000 % 1_000_000));
        }
        switch (o.clock()) {
            case NONE -> {
            }
            case EPOCH -> sb.append(String.format("%d.%06d ", Math.floorDiv(timeNs, 1_000_000_000L),
                    Math.floorMod(timeNs, 1_000_000_000L) / 1000));
            case SECONDS, MICROS -> {
                LocalTime t = LocalTime.ofInstant(Instant.ofEpochSecond(0, timeNs), zone);
                sb.append(String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond()));
                if (o.clock() == Clock.MICROS) sb.append(String.format(".%06d", t.getNano() / 1000));
                sb.append(' ');
            }
        }
        sb.append(call ? repad(text, sb.length(), o.more().column()) : text);
        out.println(sb);
        // to a file (-o) lines are buffered as strace buffers them; to stderr each line goes out at once
        if (!o.pidPrefix()) out.flush();
    }

    /**
     * strace pads "name(args)" to column 40 of the whole line, prefixes included: moves the
     * Renderer's padding (made without prefixes) so that " = " lands where strace puts it.
     */
    public static String repad(String text, int prefix) {
        return repad(text, prefix, 40);
    }

    /** As {@link #repad(String, int)}, aligning " = " at {@code column} (strace -a). */
    static String repad(String text, int prefix, int column) {
        int close = matching(text, text.indexOf('('));
        if (close < 0) return text;
        int eq = close + 1;
        while (eq < text.length() && text.charAt(eq) == ' ') eq++;
        if (!text.startsWith("= ", eq) && !(text.startsWith("=", eq) && eq + 1 == text.length())) return text;
        StringBuilder sb = new StringBuilder(text.length() + 8).append(text, 0, close + 1);
        int at = prefix + sb.length();
        if (at < column - 1) sb.append(" ".repeat(column - 1 - at));
        return sb.append(' ').append(text, eq, text.length()).toString();
    }

    private void printSummary() {
        List<Map.Entry<String, Stat>> rows = new ArrayList<>(stats.entrySet());
        java.util.Comparator<Map.Entry<String, Stat>> byName = Map.Entry.comparingByKey();
        switch (o.more().sortBy()) {
            case "calls" -> rows.sort(java.util.Comparator.<Map.Entry<String, Stat>>comparingLong(r -> -r.getValue().calls).thenComparing(byName));
            case "errors" -> rows.sort(java.util.Comparator.<Map.Entry<String, Stat>>comparingLong(r -> -r.getValue().errors).thenComparing(byName));
            case "name" -> rows.sort(byName);
            case "nothing" -> {
            }
            default -> rows.sort(java.util.Comparator.<Map.Entry<String, Stat>>comparingLong(r -> -r.getValue().ns).thenComparing(byName));
        }
        Stat total = new Stat();
        for (Map.Entry<String, Stat> r : rows) {
            Stat s = r.getValue();
            total.ns += s.ns;
            total.calls += s.calls;
            total.errors += s.errors;
            total.minNs = Math.min(total.minNs, s.minNs);
            total.maxNs = Math.max(total.maxNs, s.maxNs);
        }
        List<Column> columns = new ArrayList<>(o.more().columns());
        if (!columns.contains(Column.NAME)) columns.add(Column.NAME);   // as strace: the name is always shown
        StringBuilder header = new StringBuilder();
        StringBuilder dash = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            Column c = columns.get(i);
            boolean last = i == columns.size() - 1;
            if (i > 0) {
                header.append(' ');
                dash.append(' ');
            }
            header.append(c == Column.NAME ? (last ? c.header : pad(c.header, c.width, true)) : pad(c.header, c.width, false));
            dash.append("-".repeat(c.width));
        }
        out.println(header);
        out.println(dash);
        for (Map.Entry<String, Stat> r : rows) out.println(row(columns, r.getValue(), total.ns, r.getKey()));
        out.println(dash);
        out.println(row(columns, total, total.ns, "total"));
    }

    private static String pad(String s, int width, boolean left) {
        if (s.length() >= width) return s;
        String spaces = " ".repeat(width - s.length());
        return left ? s + spaces : spaces + s;
    }

    private static String row(List<Column> columns, Stat s, long totalNs, String name) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            Column c = columns.get(i);
            if (i > 0) sb.append(' ');
            String cell = switch (c) {
                case TIME_PERCENT -> String.format("%6.2f", totalNs == 0 ? (name.equals("total") ? 100.0 : 0) : 100.0 * s.ns / totalNs);
                case TOTAL_TIME -> String.format("%11.6f", s.ns / 1e9);
                case MIN_TIME -> String.format("%8.6f", (s.calls == 0 ? 0 : s.minNs) / 1e9);
                case MAX_TIME -> String.format("%8.6f", s.maxNs / 1e9);
                case AVG_TIME -> String.format("%11d", s.calls == 0 ? 0 : s.ns / 1000 / s.calls);
                case CALLS -> String.format("%9d", s.calls);
                case ERRORS -> String.format("%9s", s.errors == 0 ? "" : Long.toString(s.errors));
                case NAME -> i == columns.size() - 1 ? name : pad(name, c.width, true);
            };
            sb.append(cell);
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- --decode-pids=comm

    /** Command names by thread, as last read: a thread that exec'd or ended keeps the name it had. */
    private final Map<Integer, String> names = new HashMap<>();

    /**
     * "<sh>" for the prefix of a line of thread {@code tid}: read from /proc, except for what strace
     * names at the call's entry and deja prints later: an execve (the new program renamed the thread),
     * a call that never returns and the exit line (the thread is gone).
     */
    private String threadName(int tid, String text) {
        String known = names.get(tid);
        boolean atEntry = text.startsWith("execve(") || text.startsWith("execveat(") || text.startsWith("+++ ")
                || text.endsWith("= ?");
        if (known != null && atEntry) {
            return "<" + known + ">";
        }
        String now = comm(tid);
        if (now != null) names.put(tid, now);
        else now = known;
        return now == null ? "" : "<" + now + ">";
    }

    private static String comm(int pid) {
        if (pid <= 0) return null;
        try {
            return Files.readString(Path.of("/proc", Integer.toString(pid), "comm")).strip();
        } catch (IOException | UnsupportedOperationException x) {
            return null; // gone (or reaped): the id alone, as strace prints it
        }
    }

    /** "42<sh>" while process 42 exists (a zombie too), else "42" as strace prints a reaped one. */
    private static String named(int pid) {
        String n = comm(pid);
        return n == null ? Integer.toString(pid) : pid + "<" + n + ">";
    }

    /** The pid arguments and a pid result followed by their command names (kill(42<sh>, 0) = 0). */
    private String namedPids(String text, SyscallEvent e) {
        Schema s = schemas.get(e.nr());
        if (s == null || s.name().startsWith("exec")) return text;
        int open = text.indexOf('(');
        int close = matching(text, open);
        if (open < 0 || close < 0) return text;
        List<int[]> spans = topLevelArgs(text, open + 1, close);
        StringBuilder sb = new StringBuilder(text.length() + 16);
        int at = 0;
        for (int i = 0; i < spans.size() && i < s.argCount(); i++) {
            if (s.arg(i).kind() != ArgKind.PID) continue;
            int pid = (int) e.arg(i);
            int[] sp = spans.get(i);
            if (pid <= 0 || !text.substring(sp[0], sp[1]).equals(Integer.toString(pid))) continue;
            sb.append(text, at, sp[1]).append(named(pid).substring(Integer.toString(pid).length()));
            at = sp[1];
        }
        sb.append(text, at, text.length());
        String r = sb.toString();
        if (s.ret().equals("pid") && e.returned() && !e.failed() && e.result() > 0) {
            String tail = " = " + e.result();
            if (r.endsWith(tail)) r = r.substring(0, r.length() - tail.length()) + " = " + named((int) e.result());
        }
        return r;
    }

    private static final java.util.regex.Pattern SENDER = java.util.regex.Pattern.compile("si_pid=(\\d+)");

    /** si_pid=42 as si_pid=42<sh> in a signal line. */
    private String namedSenders(String text) {
        java.util.regex.Matcher m = SENDER.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) m.appendReplacement(sb, java.util.regex.Matcher.quoteReplacement("si_pid=" + named(Integer.parseInt(m.group(1)))));
        m.appendTail(sb);
        return sb.toString();
    }

    private static void sleepUs(long us) {
        if (us <= 0) return;
        try {
            Thread.sleep(us / 1000, (int) (us % 1000) * 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- -y

    /** The paths of the fd and dirfd arguments of a call, read from /proc while the thread is stopped at entry. */
    private Map<Integer, String> fdPaths(int pid, int nr, long[] args) {
        Schema s = schemas.get(nr);
        if (s == null) return Map.of();
        Map<Integer, String> paths = new HashMap<>();
        for (int i = 0; i < s.argCount() && i < 6; i++) {
            ArgKind k = s.arg(i).kind();
            int fd = (int) args[i];
            if ((k == ArgKind.FD || k == ArgKind.DIRFD) && (fd >= 0 || (k == ArgKind.DIRFD && fd == AT_FDCWD))) {
                String p = link(pid, fd);
                if (p != null) paths.put(fd, p);
            }
        }
        return paths;
    }

    private static final Set<String> FD_PAIR_CALLS = Set.of("pipe", "pipe2", "socketpair");
    private static final java.util.regex.Pattern FD_PAIR = java.util.regex.Pattern.compile("\\[(\\d+), (\\d+)\\]");

    /** Where descriptor {@code fd} of process {@code pid} points (AT_FDCWD: its working directory); -yy adds details. */
    private String link(int pid, int fd) {
        Path proc = Path.of("/proc", Integer.toString(pid));
        Path at = fd == AT_FDCWD ? proc.resolve("cwd") : proc.resolve("fd").resolve(Integer.toString(fd));
        String target;
        try {
            target = Files.readSymbolicLink(at).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
        return o.fdDetails() ? FdDetails.of(proc, at, target) : target;
    }

    /** Adds {@code <path>} after fd arguments (as known at entry) and after a returned fd (read now). */
    private String decorate(String text, SyscallEvent e, Map<Integer, String> atEntry) {
        Schema s = schemas.get(e.nr());
        if (s == null || s.name().startsWith("clone") || s.name().startsWith("exec")) return text;
        int open = text.indexOf('(');
        int close = matching(text, open);
        if (open < 0 || close < 0) return text;
        List<int[]> spans = topLevelArgs(text, open + 1, close);
        StringBuilder sb = new StringBuilder(text.length() + 32);
        int at = 0;
        for (int i = 0; i < spans.size() && i < s.argCount(); i++) {
            ArgKind k = s.arg(i).kind();
            if (k != ArgKind.FD && k != ArgKind.DIRFD) continue;
            int fd = (int) e.arg(i);
            boolean cwd = k == ArgKind.DIRFD && fd == AT_FDCWD;
            if (fd < 0 && !cwd) continue;
            String path = atEntry.get(fd);
            if (path == null && !s.name().equals("close")) path = link(e.pid(), fd);
            int[] sp = spans.get(i);
            if (path == null || !text.substring(sp[0], sp[1]).equals(cwd ? "AT_FDCWD" : Integer.toString(fd))) continue;
            sb.append(text, at, sp[1]).append('<').append(path).append('>');
            at = sp[1];
        }
        sb.append(text, at, text.length());
        String r = sb.toString();
        if (FD_PAIR_CALLS.contains(s.name()) && e.returned() && !e.failed()) {
            java.util.regex.Matcher m = FD_PAIR.matcher(r);
            if (m.find()) {
                String a = link(e.pid(), Integer.parseInt(m.group(1)));
                String b = link(e.pid(), Integer.parseInt(m.group(2)));
                if (a != null && b != null) {
                    r = r.substring(0, m.start()) + "[" + m.group(1) + "<" + a + ">, " + m.group(2) + "<" + b + ">]"
                            + r.substring(m.end());
                }
            }
        }
        if (s.ret().equals("fd") && e.returned() && !e.failed()) {
            String p = link(e.pid(), (int) e.result());
            String tail = " = " + e.result();
            int pos = r.lastIndexOf(tail);
            if (p != null && pos >= 0 && pos + tail.length() == r.length()) r = r + "<" + p + ">";
        }
        return r;
    }

    private static int matching(String t, int open) {
        if (open < 0) return -1;
        int depth = 0;
        boolean quoted = false;
        for (int i = open; i < t.length(); i++) {
            char c = t.charAt(i);
            if (quoted) {
                if (c == '\\') i++;
                else if (c == '"') quoted = false;
                continue;
            }
            if (c == '"') quoted = true;
            else if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') {
                if (--depth == 0) return i;
            }
        }
        return -1;
    }

    /** [start, end) of each top-level argument between {@code from} and {@code to}, trimmed. */
    private static List<int[]> topLevelArgs(String t, int from, int to) {
        List<int[]> spans = new ArrayList<>();
        int depth = 0;
        boolean quoted = false;
        int start = from;
        for (int i = from; i <= to; i++) {
            char c = i < to ? t.charAt(i) : ',';
            if (quoted) {
                if (c == '\\') i++;
                else if (c == '"') quoted = false;
                continue;
            }
            if (c == '"') quoted = true;
            else if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') depth--;
            else if (c == ',' && depth == 0) {
                int s = start;
                while (s < i && t.charAt(s) == ' ') s++;
                spans.add(new int[]{s, i});
                start = i + 1;
            }
        }
        return spans;
    }

    /** The syscall number of {@code name} in this machine's table. */
    public OptionalInt number(String name) {
        return schemas.table().number(name);
    }
}
