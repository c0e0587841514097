package dev.deja.device.tracer;

import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Signals;
import dev.deja.device.syscall.SyscallTable;
import java.util.OptionalInt;

/**
 * One {@code -e inject=} rule in strace's syntax:
 * {@code SET:error=ERRNO|retval=N[:signal=SIG][:delay_enter=US][:delay_exit=US][:when=EXPR]}, and
 * {@code -e fault=SET[:error=ERRNO][:when=EXPR]} (error defaults to ENOSYS). EXPR is {@code N}
 * (the Nth call only), {@code N+} (the Nth and every later one), {@code N+S} (every Sth from the
 * Nth) or {@code N..M} (the Nth to the Mth); calls are counted per thread and per syscall, as
 * strace counts them. Without when, every call is hit.
 *
 * @param errno   errno to fail with, or 0
 * @param retval  value to return without running the call, or null
 * @param signal  signal to send the thread at the call, or 0
 */
public record InjectRule(SyscallSet set, int errno, Long retval, int signal, long delayEnterUs, long delayExitUs,
                         long first, long step, long last) {

    public static final long NO_LAST = Long.MAX_VALUE;

    /** True when this rule replaces the call's result (error or retval), not only delays or signals it. */
    public boolean skips() {
        return errno != 0 || retval != null;
    }

    /** Whether the {@code n}th (1-based) call of a syscall in a thread is hit. */
    public boolean hits(long n) {
        if (n < first || n > last) return false;
        return step == 0 ? n == first : (n - first) % step == 0;
    }

    /** Parses the value of {@code inject=} ({@code fault} true for {@code fault=}). */
    public static InjectRule parse(String spec, boolean fault, SyscallTable table) {
        String[] parts = spec.split(":", -1);
        if (parts[0].isEmpty()) throw new IllegalArgumentException("inject: no syscall named in '" + spec + "'");
        SyscallSet set = SyscallSet.parse(parts[0], table);
        int errno = 0;
        Long retval = null;
        int signal = 0;
        long delayEnter = 0;
        long delayExit = 0;
        long first = 1;
        long step = 1;
        long last = NO_LAST;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            int eq = p.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("inject: expected KEY=VALUE, got '" + p + "' in '" + spec + "'");
            String key = p.substring(0, eq);
            String value = p.substring(eq + 1);
            switch (key) {
                case "error" -> errno = errno(value, spec);
                case "retval" -> retval = number(value, "retval", spec);
                case "signal" -> signal = signal(value, spec);
                case "delay_enter" -> delayEnter = nonNegative(value, "delay_enter", spec);
                case "delay_exit" -> delayExit = nonNegative(value, "delay_exit", spec);
                case "when" -> {
                    long[] w = when(value, spec);
                    first = w[0];
                    step = w[1];
                    last = w[2];
                }
                default -> throw new IllegalArgumentException("inject: unknown key '" + key + "' in '" + spec
                        + "' (known: error, retval, signal, delay_enter, delay_exit, when)");
            }
        }
        if (fault && errno == 0 && retval == null) errno = 38; // ENOSYS, as strace's fault= does
        if (errno != 0 && retval != null) throw new IllegalArgumentException("inject: error= and retval= together in '" + spec + "'");
        if (!fault && errno == 0 && retval == null && signal == 0 && delayEnter == 0 && delayExit == 0) {
            throw new IllegalArgumentException("inject: '" + spec + "' needs error=, retval=, signal=, delay_enter= or delay_exit=");
        }
        return new InjectRule(set, errno, retval, signal, delayEnter, delayExit, first, step, last);
    }

    private static int errno(String v, String spec) {
        OptionalInt n = Errno.number(v);
        if (n.isPresent()) return n.getAsInt();
        try {
            int e = Integer.parseInt(v);
            if (e > 0 && e <= 4095) return e;
        } catch (NumberFormatException ignored) {
            // fall through
        }
        throw new IllegalArgumentException("inject: unknown errno '" + v + "' in '" + spec + "'");
    }

    private static int signal(String v, String spec) {
        OptionalInt n = Signals.number(v.toUpperCase(java.util.Locale.ROOT));
        if (n.isPresent()) return n.getAsInt();
        try {
            int s = Integer.parseInt(v);
            if (s > 0 && s <= 64) return s;
        } catch (NumberFormatException ignored) {
            // fall through
        }
        throw new IllegalArgumentException("inject: unknown signal '" + v + "' in '" + spec + "'");
    }

    private static long number(String v, String key, String spec) {
        try {
            return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("inject: " + key + "=" + v + " is not a number in '" + spec + "'", e);
        }
    }

    private static long nonNegative(String v, String key, String spec) {
        long n = number(v, key, spec);
        if (n < 0) throw new IllegalArgumentException("inject: " + key + " must not be negative in '" + spec + "'");
        return n;
    }

    /** {first, step, last}: step 0 means the first only. */
    private static long[] when(String v, String spec) {
        try {
            int dots = v.indexOf("..");
            if (dots >= 0) {
                long a = Long.parseLong(v.substring(0, dots));
                long b = Long.parseLong(v.substring(dots + 2));
                if (a < 1 || b < a) throw new NumberFormatException();
                return new long[]{a, 1, b};
            }
            int plus = v.indexOf('+');
            if (plus < 0) {
                long a = Long.parseLong(v);
                if (a < 1) throw new NumberFormatException();
                return new long[]{a, 0, a};
            }
            long a = Long.parseLong(v.substring(0, plus));
            String s = v.substring(plus + 1);
            long step = s.isEmpty() ? 1 : Long.parseLong(s);
            if (a < 1 || step < 1) throw new NumberFormatException();
            return new long[]{a, step, NO_LAST};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("inject: when=" + v + " is not N, N+, N+STEP or N..M (N from 1) in '"
                    + spec + "'", e);
        }
    }
}
