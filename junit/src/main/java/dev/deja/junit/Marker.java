package dev.deja.junit;

/** The text of one marker line (see {@link DejaMarkers}); escaped so that it stays one line of tab-separated fields. */
final class Marker {
    static final String PREFIX = "deja-test\t1\t";

    private Marker() {
    }

    static String start(String kind, String uniqueId, String name, String display) {
        return line("start", kind, uniqueId, name, display);
    }

    static String end(String kind, String uniqueId, String name, String display, String outcome, String message) {
        return line("end", kind, uniqueId, name, display, outcome, message);
    }

    static String skipped(String kind, String uniqueId, String name, String display, String reason) {
        return line("skipped", kind, uniqueId, name, display, "skipped", reason == null ? "" : reason);
    }

    private static String line(String... fields) {
        StringBuilder sb = new StringBuilder(PREFIX);
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) sb.append('\t');
            escape(fields[i], sb);
        }
        return sb.append('\n').toString();
    }

    /** Backslash, tab, newline, CR as \\ \t \n \r; other control characters as \\uXXXX. */
    static void escape(String s, StringBuilder sb) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\t' -> sb.append("\\t");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
    }
}
