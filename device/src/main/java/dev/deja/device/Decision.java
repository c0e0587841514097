package dev.deja.device;

/**
 * What a deciding tracer answers at a syscall entry (the 1999 proposal's answers):
 * let it run, run it with other arguments, or skip it and return a result of the tracer's choosing.
 */
public sealed interface Decision {

    /** Let the call reach the kernel as it is. */
    record Proceed() implements Decision {
    }

    /** Run {@code nr(args)} instead: "write 4, ..." in place of "write 2, ...". */
    record Rewrite(int nr, long[] args) implements Decision {
        public Rewrite {
            if (args.length != 6) throw new IllegalArgumentException("a syscall has six arguments, got " + args.length);
            args = args.clone();
        }

        @Override
        public long[] args() {
            return args.clone();
        }
    }

    /**
     * The kernel never sees the call; the thread gets {@code result} ("skip-ok 12" with 12,
     * "skip-fail EIO" with -5). Memory the call should have written is set with {@link Tracee#write}.
     * A kernel restart code (-512 to -516) is never what the program gets: a signal pending when the
     * thread leaves the call gets the kernel's restart rules (SA_RESTART issues it again, a handler
     * without it gives EINTR); with none pending the call is issued again (restart_syscall for -516).
     */
    record Skip(long result) implements Decision {
    }

    Decision PROCEED = new Proceed();

    static Decision proceed() {
        return PROCEED;
    }

    static Decision succeed(long value) {
        return new Skip(value);
    }

    static Decision fail(int errno) {
        if (errno <= 0 || errno > 4095) throw new IllegalArgumentException("errno out of range: " + errno);
        return new Skip(-errno);
    }
}
