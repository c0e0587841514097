package dev.deja.cli.debug;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A wall-clock time as a log line or a CI report shows it, for {@code goto time}:
 * {@code [YYYY-MM-DD[T ]]HH:MM[:SS[.fff]][ZONE]}, ZONE {@code Z}, {@code UTC}, {@code +01:00} or {@code +0100};
 * a comma before the fraction (log4j's) is accepted.
 *
 * @param at   the instant it names
 * @param zone the zone it was read in
 * @param text how the shell shows it back
 */
record WallTime(Instant at, ZoneId zone, String text) {
    private static final Pattern FORM = Pattern.compile(
            "(?:(\\d{4}-\\d{2}-\\d{2})[T ])?(\\d{1,2}:\\d{2}(?::\\d{2}(?:[.,]\\d{1,9})?)?)\\s*(Z|UTC|[+-]\\d{2}:?\\d{2})?");
    private static final DateTimeFormatter SHOWN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS", Locale.ROOT);

    /**
     * Parses {@code spec}; without a zone it is in {@code zone}, without a date on the day of
     * {@code firstRead} (the next day for a time more than 12 hours before it: a run across midnight).
     */
    static WallTime parse(String spec, ZoneId zone, Instant firstRead) {
        Matcher m = FORM.matcher(spec.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("goto time: '" + spec + "' is not a time; e.g. 'goto time 12:03:04.123', "
                    + "'goto time 2026-12-02 12:03:04Z'");
        }
        ZoneId z = zone;
        if (m.group(3) != null) z = m.group(3).equals("Z") || m.group(3).equals("UTC") ? ZoneOffset.UTC : ZoneOffset.of(m.group(3));
        String hms = m.group(2).replace(',', '.');
        LocalTime time;
        try {
            time = LocalTime.parse(hms.indexOf(':') == 1 ? "0" + hms : hms);
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("goto time: '" + m.group(2) + "' is not a time of day", e);
        }
        ZonedDateTime target;
        if (m.group(1) != null) {
            try {
                target = LocalDate.parse(m.group(1)).atTime(time).atZone(z);
            } catch (DateTimeException e) {
                throw new IllegalArgumentException("goto time: '" + m.group(1) + "' is not a date", e);
            }
        } else {
            target = firstRead.atZone(z).toLocalDate().atTime(time).atZone(z);
            if (target.toInstant().isBefore(firstRead.minus(Duration.ofHours(12)))) target = target.plusDays(1);
        }
        return new WallTime(target.toInstant(), z, target.toLocalDateTime() + " " + z);
    }

    long epochNanos() {
        return at.getEpochSecond() * 1_000_000_000L + at.getNano();
    }

    static Instant instant(long epochNanos) {
        return Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
    }

    /** "2026-12-02 12:03:04.125" in zone z, to the millisecond as log lines show it. */
    static String show(long epochNanos, ZoneId z) {
        return SHOWN.format(instant(epochNanos).atZone(z));
    }
}
