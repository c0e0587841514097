package dev.deja.device.tracer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** C-style quoted strings of the text protocol: {@code "some data\n\x00"}. */
final class Quoting {
    private Quoting() {
    }

    static String quote(byte[] data) {
        StringBuilder sb = new StringBuilder(data.length + 2).append('"');
        for (byte b : data) {
            int c = b & 0xff;
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c >= 0x20 && c < 0x7f) sb.append((char) c);
                    else sb.append(String.format("\\x%02x", c));
                }
            }
        }
        return sb.append('"').toString();
    }

    static String quote(String s) {
        return quote(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A field value: bare when it has no space, quote, backslash or control character, quoted otherwise. */
    static String value(String s) {
        if (s.isEmpty()) return "\"\"";
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c == '"' || c == '\\' || c == 0x7f) return quote(s);
        }
        return s;
    }

    /** Reads a quoted string starting at {@code at} (the opening quote); returns the bytes and sets {@code end[0]} after the closing quote. */
    static byte[] unquote(String line, int at, int[] end) throws ProtocolException {
        if (at >= line.length() || line.charAt(at) != '"') throw new ProtocolException("expected a quoted string at column " + (at + 1));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = at + 1;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (c == '"') {
                end[0] = i + 1;
                return out.toByteArray();
            }
            if (c != '\\') {
                int cp = line.codePointAt(i);
                byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                i += Character.charCount(cp);
                continue;
            }
            if (i + 1 >= line.length()) break;
            char e = line.charAt(i + 1);
            i += 2;
            switch (e) {
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case 'r' -> out.write('\r');
                case 'a' -> out.write(7);
                case 'b' -> out.write(8);
                case 'f' -> out.write(12);
                case 'v' -> out.write(11);
                case '"', '\\', '\'' -> out.write(e);
                case 'x' -> {
                    int n = 0;
                    int v = 0;
                    while (n < 2 && i < line.length() && Character.digit(line.charAt(i), 16) >= 0) {
                        v = v * 16 + Character.digit(line.charAt(i++), 16);
                        n++;
                    }
                    if (n == 0) throw new ProtocolException("\\x without hex digits at column " + (i + 1));
                    out.write(v);
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        int n = 1;
                        while (n < 3 && i < line.length() && line.charAt(i) >= '0' && line.charAt(i) <= '7') {
                            v = v * 8 + (line.charAt(i++) - '0');
                            n++;
                        }
                        if (v > 255) throw new ProtocolException("octal escape above \\377 at column " + (i + 1));
                        out.write(v);
                    } else {
                        throw new ProtocolException("unknown escape \\" + e + " at column " + (i - 1));
                    }
                }
            }
        }
        throw new ProtocolException("unterminated quoted string starting at column " + (at + 1));
    }

    static String hex(byte[] data) {
        StringBuilder sb = new StringBuilder(data.length * 2);
        for (byte b : data) sb.append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
        return sb.toString();
    }

    static byte[] unhex(String s) throws ProtocolException {
        if (s.length() % 2 != 0) throw new ProtocolException("hex data of odd length " + s.length());
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            int hi = Character.digit(s.charAt(2 * i), 16);
            int lo = Character.digit(s.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) throw new ProtocolException("not hex: '" + s.charAt(hi < 0 ? 2 * i : 2 * i + 1) + "'");
            b[i] = (byte) (hi << 4 | lo);
        }
        return b;
    }

    /** A number as the protocol writes them: decimal (maybe negative) or 0x hex (the full 64 bits). */
    static long number(String s, String what) throws ProtocolException {
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) return Long.parseUnsignedLong(s.substring(2), 16);
            if (s.startsWith("-0x")) return -Long.parseUnsignedLong(s.substring(3), 16);
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ProtocolException(what + " is not a number: '" + s + "'");
        }
    }
}
