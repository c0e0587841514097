package dev.deja.device;

import java.util.BitSet;
import java.util.HashSet;
import java.util.Set;

/**
 * The syscalls a tracer needs to see: every call, or only some. When a whole session's tracer
 * wants only some, the device installs a seccomp filter in the program so that the other calls do
 * not stop it at all. Numbers at or above {@link #LIMIT} (no such syscall on x86_64; the x32 ABI)
 * always stop the program: the device sees anything unusual.
 */
public sealed interface SyscallInterest {
    /** Syscall numbers below this are filtered by the interest; the others always stop. */
    int LIMIT = 1024;

    boolean includes(int nr);

    /** The calls this interest or {@code other} includes. */
    SyscallInterest union(SyscallInterest other);

    static SyscallInterest all() {
        return All.INSTANCE;
    }

    static SyscallInterest only(Set<Integer> numbers) {
        return new Only(numbers);
    }

    /** Every syscall stops the program (the default; record and replay need it). */
    enum All implements SyscallInterest {
        INSTANCE;

        @Override
        public boolean includes(int nr) {
            return true;
        }

        @Override
        public SyscallInterest union(SyscallInterest other) {
            return this;
        }
    }

    /** Only these syscall numbers (and those at or above {@link #LIMIT}) stop the program. */
    record Only(Set<Integer> numbers) implements SyscallInterest {
        public Only {
            numbers = Set.copyOf(numbers);
            for (int nr : numbers) {
                if (nr < 0) throw new IllegalArgumentException("negative syscall number " + nr);
            }
        }

        @Override
        public boolean includes(int nr) {
            return nr >= LIMIT || nr < 0 || numbers.contains(nr);
        }

        @Override
        public SyscallInterest union(SyscallInterest other) {
            return switch (other) {
                case All a -> a;
                case Only o -> {
                    Set<Integer> both = new HashSet<>(numbers);
                    both.addAll(o.numbers());
                    yield new Only(both);
                }
            };
        }

        /** The included numbers below {@link #LIMIT} as bits. */
        public BitSet bits() {
            BitSet b = new BitSet(LIMIT);
            for (int nr : numbers) if (nr < LIMIT) b.set(nr);
            return b;
        }
    }
}
