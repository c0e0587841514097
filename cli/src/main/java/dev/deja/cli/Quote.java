package dev.deja.cli;

import java.util.List;
import java.util.regex.Pattern;

/** Shell quoting for showing command lines the way a user would retype them. */
final class Quote {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private Quote() {
    }

    static String command(List<String> argv) {
        StringBuilder b = new StringBuilder();
        for (String a : argv) {
            if (!b.isEmpty()) b.append(' ');
            b.append(PLAIN.matcher(a).matches() ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return b.toString();
    }
}
