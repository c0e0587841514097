package dev.deja.cli;

import java.util.HexFormat;

/** A minimal streaming JSON writer: deja's dump is flat enough that a library would add nothing. */
final class Json {
    private final StringBuilder out = new StringBuilder(256);
    private boolean first = true;

    Json open() {
        out.append('{');
        first = true;
        return this;
    }

    Json close() {
        out.append('}');
        first = false;
        return this;
    }

    Json openArray(String key) {
        key(key).append('[');
        first = true;
        return this;
    }

    Json closeArray() {
        out.append(']');
        first = false;
        return this;
    }

    /** Starts an unnamed object inside an array. */
    Json element() {
        if (!first) out.append(',');
        out.append('{');
        first = true;
        return this;
    }

    Json field(String key, String value) {
        key(key);
        string(value);
        return this;
    }

    Json field(String key, long value) {
        key(key).append(value);
        return this;
    }

    Json field(String key, boolean value) {
        key(key).append(value);
        return this;
    }

    Json hex(String key, byte[] bytes) {
        return field(key, HexFormat.of().formatHex(bytes));
    }

    Json longs(String key, long[] values) {
        key(key).append('[');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) out.append(',');
            out.append(values[i]);
        }
        out.append(']');
        return this;
    }

    Json strings(String key, Iterable<String> values) {
        key(key).append('[');
        boolean f = true;
        for (String v : values) {
            if (!f) out.append(',');
            string(v);
            f = false;
        }
        out.append(']');
        return this;
    }

    Json objectField(String key) {
        key(key).append('{');
        first = true;
        return this;
    }

    private StringBuilder key(String key) {
        if (!first) out.append(',');
        first = false;
        string(key);
        return out.append(':');
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
