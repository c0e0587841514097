package dev.deja.device.tracer;

import dev.deja.device.SyscallInterest;
import dev.deja.device.syscall.SyscallTable;
import java.util.BitSet;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A set of syscalls written as strace writes it: {@code open,openat}, {@code %file}, {@code all},
 * {@code none}, {@code /regex}, {@code ?name} (no error when unknown), and a leading {@code !}
 * for the complement. Membership is by number in one architecture's table.
 */
public final class SyscallSet {
    private final BitSet members;
    private final boolean negated;
    private final String text;

    private SyscallSet(BitSet members, boolean negated, String text) {
        this.members = members;
        this.negated = negated;
        this.text = text;
    }

    public static SyscallSet all() {
        return new SyscallSet(new BitSet(), true, "all");
    }

    /** Parses {@code expr}; throws IllegalArgumentException naming the first unknown syscall or class. */
    public static SyscallSet parse(String expr, SyscallTable table) {
        String e = expr.strip();
        boolean neg = false;
        while (e.startsWith("!")) {
            neg = !neg;
            e = e.substring(1);
        }
        BitSet bits = new BitSet();
        if (e.isEmpty()) throw new IllegalArgumentException("empty syscall set in '" + expr + "'");
        for (String raw : e.split(",", -1)) {
            String t = raw.strip();
            boolean optional = t.startsWith("?");
            if (optional) t = t.substring(1);
            if (t.isEmpty()) throw new IllegalArgumentException("empty syscall name in '" + expr + "'");
            switch (t) {
                case "all" -> {
                    for (String n : table.names()) table.number(n).ifPresent(bits::set);
                    continue;
                }
                case "none" -> {
                    continue;
                }
                default -> {
                }
            }
            if (t.startsWith("/")) {
                Pattern p;
                try {
                    p = Pattern.compile(t.substring(1));
                } catch (PatternSyntaxException ex) {
                    throw new IllegalArgumentException("bad regular expression '" + t.substring(1) + "': "
                            + ex.getDescription(), ex);
                }
                for (String n : table.names()) if (p.matcher(n).find()) table.number(n).ifPresent(bits::set);
                continue;
            }
            if (t.startsWith("%")) {
                Set<String> names = SyscallClasses.members(t).orElse(null);
                if (names == null) {
                    if (optional) continue;
                    throw new IllegalArgumentException("unknown syscall class '" + t + "' (known: %"
                            + String.join(", %", SyscallClasses.names()) + ")");
                }
                for (String n : names) table.number(n).ifPresent(bits::set);
                continue;
            }
            OptionalInt nr = table.number(t);
            if (nr.isEmpty() && t.chars().allMatch(Character::isDigit)) nr = OptionalInt.of(Integer.parseInt(t));
            if (nr.isEmpty()) {
                if (optional) continue;
                throw new UnknownSyscallException(t);
            }
            bits.set(nr.getAsInt());
        }
        return new SyscallSet(bits, neg, expr);
    }

    public boolean contains(int nr) {
        return nr >= 0 && members.get(nr) != negated;
    }

    /** The calls of this set as a tracer's interest: every call for "all", else the member numbers. */
    public SyscallInterest interest() {
        if (negated && members.isEmpty()) return SyscallInterest.all();
        Set<Integer> numbers = new java.util.HashSet<>();
        for (int nr = 0; nr < SyscallInterest.LIMIT; nr++) if (contains(nr)) numbers.add(nr);
        return SyscallInterest.only(numbers);
    }

    /** True when no syscall is a member (for "none"). */
    public boolean isEmpty() {
        return !negated && members.isEmpty();
    }

    @Override
    public String toString() {
        return text;
    }
}
