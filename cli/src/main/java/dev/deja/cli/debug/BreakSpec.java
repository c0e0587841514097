package dev.deja.cli.debug;

import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Signals;
import dev.deja.device.tracer.SyscallSet;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SyscallEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * What a breakpoint stops at, parsed from its text (docs/debug.md has the grammar):
 * <pre>
 *   SPEC  := [SYSCALLS | "test"] TERM* [ "if" COND ]
 *   TERM  := path=GLOB | fd=N | result=N | errno=NAME|N | pid=N | tid=N | signal=SIGNAME|N | event=N
 *   COND  := CMP { ("&&" | "and") CMP | ("||" | "or") CMP }      (and binds tighter than or)
 *   CMP   := OPERAND ("==" | "!=" | "&lt;" | "&lt;=" | "&gt;" | "&gt;=") NUMBER
 *   OPERAND := arg0..arg5 | result | nr | event | pid | tid
 * </pre>
 * SYSCALLS is an strace set (openat,read or %file or /regex). Every part given must match.
 */
record BreakSpec(String text, List<Term> terms) {
    BreakSpec {
        terms = List.copyOf(terms);
    }

    /** One part of a breakpoint; all must hold at a stop. */
    sealed interface Term {
        boolean test(Timeline t, int index);
    }

    record Syscalls(SyscallSet set) implements Term {
        public boolean test(Timeline t, int index) {
            return set.contains(t.stop(index).nr());
        }
    }

    record PathGlob(String glob, Pattern regex) implements Term {
        public boolean test(Timeline t, int index) {
            for (String p : t.paths(t.stop(index))) if (regex.matcher(p).matches()) return true;
            return false;
        }
    }

    record Fd(int fd) implements Term {
        public boolean test(Timeline t, int index) {
            return t.fds(t.stop(index)).contains(fd);
        }
    }

    record Result(long value) implements Term {
        public boolean test(Timeline t, int index) {
            SyscallEvent e = t.stop(index);
            return e.returned() && Timeline.shownResult(e) == value;
        }
    }

    record ErrnoIs(int errno) implements Term {
        public boolean test(Timeline t, int index) {
            SyscallEvent e = t.stop(index);
            return e.failed() && -e.result() == errno;
        }
    }

    record Pid(int pid) implements Term {
        public boolean test(Timeline t, int index) {
            return t.stop(index).pid() == pid;
        }
    }

    record Tid(int tid) implements Term {
        public boolean test(Timeline t, int index) {
            return t.stop(index).tid() == tid;
        }
    }

    record SignalBefore(int signo) implements Term {
        public boolean test(Timeline t, int index) {
            for (SignalEvent s : t.signalsBefore(index)) if (s.signo() == signo) return true;
            return false;
        }
    }

    /** {@code break test}: the start marker of each test deja-junit marked. */
    record TestStart() implements Term {
        public boolean test(Timeline t, int index) {
            return t.isTestStart(index);
        }
    }

    record EventNumber(long seq) implements Term {
        public boolean test(Timeline t, int index) {
            return index == t.atOrAfter(seq);
        }
    }

    /** {@code if} conditions: alternatives of conjunctions of comparisons. */
    record Condition(List<List<Compare>> anyOf) implements Term {
        public boolean test(Timeline t, int index) {
            for (List<Compare> all : anyOf) {
                boolean ok = true;
                for (Compare c : all) ok &= c.test(t.stop(index));
                if (ok) return true;
            }
            return false;
        }
    }

    record Compare(String operand, String op, long value) {
        boolean test(SyscallEvent e) {
            long v = switch (operand) {
                case "result" -> e.result();
                case "nr" -> e.nr();
                case "event" -> e.seq();
                case "pid" -> e.pid();
                case "tid" -> e.tid();
                default -> e.arg(operand.charAt(3) - '0');
            };
            return switch (op) {
                case "==" -> v == value;
                case "!=" -> v != value;
                case "<" -> v < value;
                case "<=" -> v <= value;
                case ">" -> v > value;
                default -> v >= value;
            };
        }
    }

    boolean test(Timeline t, int index) {
        for (Term term : terms) if (!term.test(t, index)) return false;
        return true;
    }

    /** Parses a breakpoint; throws IllegalArgumentException with a message for the user. */
    static BreakSpec parse(String text, Timeline t) {
        String spec = text.strip();
        if (spec.isEmpty()) throw new IllegalArgumentException("break needs what to stop at, e.g. 'break openat path=*.conf'");
        List<Term> terms = new ArrayList<>();
        String cond = null;
        int at = indexOfWord(spec, "if");
        if (at >= 0) {
            cond = spec.substring(at + 2).strip();
            spec = spec.substring(0, at).strip();
            if (cond.isEmpty()) throw new IllegalArgumentException("'if' needs a condition, e.g. 'if arg0 == 3'");
        }
        boolean first = true;
        for (String word : spec.isEmpty() ? new String[0] : spec.split("\\s+")) {
            int eq = word.indexOf('=');
            if (eq < 0 && word.equals("test")) {
                terms.add(new TestStart());
            } else if (eq < 0) {
                if (!first) throw new IllegalArgumentException("'" + word + "': syscalls come first, then key=value terms");
                try {
                    terms.add(new Syscalls(SyscallSet.parse(word, t.table())));
                } catch (dev.deja.device.tracer.UnknownSyscallException e) {
                    throw new IllegalArgumentException(dev.deja.cli.Suggest.syscall(e, t.table()), e);
                }
            } else {
                terms.add(term(word.substring(0, eq).toLowerCase(Locale.ROOT), word.substring(eq + 1)));
            }
            first = false;
        }
        if (cond != null) terms.add(condition(cond));
        return new BreakSpec(text.strip(), terms);
    }

    private static int indexOfWord(String s, String word) {
        String[] parts = s.split("\\s+");
        int pos = 0;
        for (String p : parts) {
            pos = s.indexOf(p, pos);
            if (p.equals(word)) return pos;
            pos += p.length();
        }
        return -1;
    }

    private static Term term(String key, String value) {
        if (value.isEmpty()) throw new IllegalArgumentException("'" + key + "=' needs a value");
        return switch (key) {
            case "path" -> new PathGlob(value, Glob.regex(value));
            case "fd" -> new Fd((int) number(key, value));
            case "result" -> new Result(number(key, value));
            case "errno" -> new ErrnoIs(errno(value));
            case "pid" -> new Pid((int) number(key, value));
            case "tid" -> new Tid((int) number(key, value));
            case "signal", "sig" -> new SignalBefore(signal(value));
            case "event" -> new EventNumber(number(key, value));
            default -> throw new IllegalArgumentException("unknown breakpoint term '" + key
                    + "=' (known: path fd result errno pid tid signal event)");
        };
    }

    static long number(String what, String value) {
        try {
            String v = value.strip();
            boolean neg = v.startsWith("-");
            if (neg) v = v.substring(1);
            long n = v.startsWith("0x") || v.startsWith("0X") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
            return neg ? -n : n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": '" + value + "' is not a number");
        }
    }

    private static int errno(String value) {
        OptionalInt n = Errno.number(value.toUpperCase(Locale.ROOT));
        if (n.isPresent()) return n.getAsInt();
        if (value.chars().allMatch(Character::isDigit)) return Integer.parseInt(value);
        throw new IllegalArgumentException("errno: unknown error name '" + value + "'");
    }

    private static int signal(String value) {
        String v = value.toUpperCase(Locale.ROOT);
        OptionalInt n = Signals.number(v.startsWith("SIG") ? v : "SIG" + v);
        if (n.isPresent()) return n.getAsInt();
        if (v.chars().allMatch(Character::isDigit)) return Integer.parseInt(v);
        throw new IllegalArgumentException("signal: unknown signal '" + value + "'");
    }

    private static final Pattern COMPARE = Pattern.compile("\\s*(arg[0-5]|result|nr|event|pid|tid)\\s*(==|!=|<=|>=|<|>)\\s*(-?(?:0[xX][0-9a-fA-F]+|\\d+))\\s*");

    private static Condition condition(String cond) {
        List<List<Compare>> any = new ArrayList<>();
        for (String alt : cond.split("\\|\\||\\s+or\\s+")) {
            List<Compare> all = new ArrayList<>();
            for (String part : alt.split("&&|\\s+and\\s+")) {
                var m = COMPARE.matcher(part);
                if (!m.matches()) {
                    throw new IllegalArgumentException("bad condition '" + part.strip()
                            + "' (OPERAND OP NUMBER; operands arg0..arg5 result nr event pid tid; ops == != < <= > >=)");
                }
                all.add(new Compare(m.group(1), m.group(2), number(m.group(1), m.group(3))));
            }
            any.add(all);
        }
        return new Condition(any);
    }
}
