package dev.deja.cli.debug;

import java.util.regex.Pattern;

/**
 * Shell-like globs over whole paths: {@code *} matches any run of characters (slashes included,
 * so {@code *.conf} matches {@code /etc/app.conf}), {@code ?} one character, {@code [abc]} and
 * {@code [!a-z]} a class; everything else is literal.
 */
final class Glob {
    private Glob() {
    }

    static Pattern regex(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[' -> {
                    int end = glob.indexOf(']', i + 2);
                    if (end < 0) {
                        re.append("\\[");
                        continue;
                    }
                    String body = glob.substring(i + 1, end);
                    if (body.startsWith("!")) body = "^" + body.substring(1);
                    re.append('[').append(body.replace("\\", "\\\\")).append(']');
                    i = end;
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
