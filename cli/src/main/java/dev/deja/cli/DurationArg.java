package dev.deja.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as a user types them: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}; a bare number is seconds. */
final class DurationArg {
    private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");

    private DurationArg() {
    }

    /** The duration {@code text} names; throws {@link IllegalArgumentException} saying what is wrong. */
    static Duration parse(String text) {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (examples: 500ms, 30s, 5m, 2h)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> throw new IllegalStateException("unit " + unit + " matched but not handled");
        };
        if (d.isZero()) throw new IllegalArgumentException("'" + text + "' is no time at all: a duration must be positive");
        return d;
    }

    /** {@code d} as {@link #parse} reads it back: the largest unit that divides it. */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) return ms / 3_600_000 + "h";
        if (ms % 60_000 == 0) return ms / 60_000 + "m";
        if (ms % 1000 == 0) return ms / 1000 + "s";
        return ms + "ms";
    }
}
