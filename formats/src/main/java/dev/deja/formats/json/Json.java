package dev.deja.formats.json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The small JSON subset deja speaks everywhere (recording metadata, {@code dump --json}, the tracer
 * protocol's JSON Lines): objects, arrays, strings, integers, booleans and null. Objects keep their
 * key order; duplicate keys and nesting deeper than {@link #MAX_DEPTH} are refused. No floating point.
 */
public final class Json {

    /** How deep arrays and objects may nest: deeper input is refused, not recursed into. */
    public static final int MAX_DEPTH = 32;

    private Json() {
    }

    /** A syntax error at a character offset. */
    public static final class SyntaxException extends Exception {
        private final int offset;

        SyntaxException(int offset, String what) {
            super(what);
            this.offset = offset;
        }

        public int offset() {
            return offset;
        }
    }

    // ---- writing

    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) && !validSurrogateAt(s, i)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    private static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /** Writes a value: a Map (string keys), List, String, Long/Integer, Boolean or null. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> sb.append(quote(s));
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) sb.append(',');
                    first = false;
                    sb.append(quote(String.valueOf(e.getKey()))).append(':');
                    write(sb, e.getValue());
                }
                sb.append('}');
            }
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) sb.append(',');
                    write(sb, l.get(i));
                }
                sb.append(']');
            }
            case Long n -> sb.append(n);
            case Integer n -> sb.append(n);
            case Boolean b -> sb.append(b);
            default -> throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
        }
    }

    // ---- reading

    public static Object parse(String text) throws SyntaxException {
        Parser p = new Parser(text);
        p.skipSpace();
        Object v = p.value();
        p.skipSpace();
        if (p.pos != text.length()) throw new SyntaxException(p.pos, "unexpected text after the end of the document");
        return v;
    }

    private static final class Parser {
        private final String s;
        private int pos;
        private int depth;

        Parser(String s) {
            this.s = s;
        }

        void skipSpace() {
            while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\n' || s.charAt(pos) == '\r'
                    || s.charAt(pos) == '\t')) pos++;
        }

        SyntaxException error(String what) {
            return new SyntaxException(pos, what + (pos < s.length() ? ", found '" + s.charAt(pos) + "'" : ", found end of file"));
        }

        Object value() throws SyntaxException {
            if (pos >= s.length()) throw error("expected a value");
            char c = s.charAt(pos);
            return switch (c) {
                case '{', '[' -> {
                    if (++depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH);
                    Object nested = c == '{' ? object() : array();
                    depth--;
                    yield nested;
                }
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || c >= '0' && c <= '9') yield number();
                    throw error("expected a value");
                }
            };
        }

        Object literal(String word, Object v) throws SyntaxException {
            if (!s.startsWith(word, pos)) throw error("expected " + word);
            pos += word.length();
            return v;
        }

        Long number() throws SyntaxException {
            int start = pos;
            if (s.charAt(pos) == '-') pos++;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') pos++;
            if (pos < s.length() && (s.charAt(pos) == '.' || s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                throw error("expected an integer (deja's JSON has no fractions)");
            }
            try {
                return Long.parseLong(s.substring(start, pos));
            } catch (NumberFormatException e) {
                throw new SyntaxException(start, "not a 64-bit integer: " + s.substring(start, pos));
            }
        }

        String string() throws SyntaxException {
            pos++; // opening quote
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= s.length()) throw error("unterminated string");
                char c = s.charAt(pos++);
                if (c == '"') return sb.toString();
                if (c == '\\') {
                    if (pos >= s.length()) throw error("unterminated escape");
                    char e = s.charAt(pos++);
                    switch (e) {
                        case '"', '\\', '/' -> sb.append(e);
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'u' -> {
                            if (pos + 4 > s.length()) throw error("truncated \\u escape");
                            try {
                                sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                            } catch (NumberFormatException ex) {
                                throw error("bad \\u escape");
                            }
                            pos += 4;
                        }
                        default -> {
                            pos--;
                            throw error("unknown escape");
                        }
                    }
                } else if (c < 0x20) {
                    pos--;
                    throw error("control character in string");
                } else {
                    sb.append(c);
                }
            }
        }

        List<Object> array() throws SyntaxException {
            pos++;
            List<Object> list = new ArrayList<>();
            skipSpace();
            if (pos < s.length() && s.charAt(pos) == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipSpace();
                list.add(value());
                skipSpace();
                if (pos >= s.length()) throw error("expected ',' or ']'");
                char c = s.charAt(pos++);
                if (c == ']') return list;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']'");
                }
            }
        }

        Map<String, Object> object() throws SyntaxException {
            pos++;
            Map<String, Object> map = new LinkedHashMap<>();
            skipSpace();
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipSpace();
                if (pos >= s.length() || s.charAt(pos) != '"') throw error("expected a key");
                int keyAt = pos;
                String key = string();
                skipSpace();
                if (pos >= s.length() || s.charAt(pos) != ':') throw error("expected ':'");
                pos++;
                skipSpace();
                if (map.containsKey(key)) throw new SyntaxException(keyAt, "duplicate key \"" + key + "\"");
                map.put(key, value());
                skipSpace();
                if (pos >= s.length()) throw error("expected ',' or '}'");
                char c = s.charAt(pos++);
                if (c == '}') return map;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}'");
                }
            }
        }
    }
}
