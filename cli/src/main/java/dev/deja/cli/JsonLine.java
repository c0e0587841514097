package dev.deja.cli;

import java.util.HexFormat;

/**
 * A streaming builder for {@code dump --json}'s one object per event, so that a long recording is
 * written without a map per event; strings are quoted by deja's one JSON implementation.
 */
final class JsonLine {
    private final StringBuilder out = new StringBuilder(256);
    private boolean first = true;

    JsonLine open() {
        out.append('{');
        first = true;
        return this;
    }

    JsonLine close() {
        out.append('}');
        first = false;
        return this;
    }

    JsonLine openArray(String key) {
        key(key).append('[');
        first = true;
        return this;
    }

    JsonLine closeArray() {
        out.append(']');
        first = false;
        return this;
    }

    /** Starts an unnamed object inside an array. */
    JsonLine element() {
        if (!first) out.append(',');
        out.append('{');
        first = true;
        return this;
    }

    JsonLine field(String key, String value) {
        key(key);
        string(value);
        return this;
    }

    JsonLine field(String key, long value) {
        key(key).append(value);
        return this;
    }

    JsonLine field(String key, boolean value) {
        key(key).append(value);
        return this;
    }

    JsonLine hex(String key, byte[] bytes) {
        return field(key, HexFormat.of().formatHex(bytes));
    }

    JsonLine longs(String key, long[] values) {
        key(key).append('[');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) out.append(',');
            out.append(values[i]);
        }
        out.append(']');
        return this;
    }

    JsonLine strings(String key, Iterable<String> values) {
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

    JsonLine objectField(String key) {
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
        out.append(dev.deja.formats.json.Json.quote(s));
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
