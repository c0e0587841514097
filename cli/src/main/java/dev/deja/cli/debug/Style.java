package dev.deja.cli.debug;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the shell writes: ANSI colours and lines cut to the terminal's width on a terminal, plain
 * full lines otherwise (scripts and tests get stable text).
 *
 * @param colour whether to colour
 * @param width  the terminal's width, or 0 for no limit
 */
record Style(boolean colour, int width) {
    static final Style PLAIN = new Style(false, 0);

    private static final Pattern FAILED = Pattern.compile(" = -1 [A-Z0-9]+.*$");
    private static final Pattern NUMBER = Pattern.compile("^(=> |   |\\* |  )?(#\\d+)");

    String bold(String s) {
        return colour ? "\u001b[1m" + s + "\u001b[0m" : s;
    }

    String red(String s) {
        return colour ? "\u001b[31m" + s + "\u001b[0m" : s;
    }

    String yellow(String s) {
        return colour ? "\u001b[33m" + s + "\u001b[0m" : s;
    }

    /** An event line: cut to the width, the event number highlighted and a failure in red. */
    String event(String line) {
        String s = fit(line);
        if (!colour) return s;
        Matcher f = FAILED.matcher(s);
        if (f.find()) s = s.substring(0, f.start()) + red(f.group());
        Matcher n = NUMBER.matcher(s);
        if (n.find()) s = s.substring(0, n.start(2)) + "\u001b[36m" + n.group(2) + "\u001b[0m" + s.substring(n.end(2));
        return s;
    }

    /** The line cut to the terminal's width (with an ellipsis), or as is. */
    String fit(String line) {
        if (width <= 0 || line.length() <= width) return line;
        return line.substring(0, Math.max(0, width - 1)) + "\u2026";
    }
}
