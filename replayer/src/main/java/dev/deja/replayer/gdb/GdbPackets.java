package dev.deja.replayer.gdb;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The GDB remote serial protocol's framing, pure: {@code $payload#cs} with a two-digit checksum (the
 * sum of the payload's bytes modulo 256), {@code +}/{@code -} acknowledgements, the interrupt byte
 * 0x03, binary escapes ({@code }} then the byte xor 0x20, for {@code # $ } *}) and hex encodings.
 * Nothing here touches a socket: {@link Reader} reads any {@link InputStream}.
 */
public final class GdbPackets {
    /** The byte gdb sends for Ctrl-C while the target runs. */
    public static final int INTERRUPT = 0x03;
    private static final byte ESCAPE = '}';
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private GdbPackets() {
    }

    /** What came in. */
    public sealed interface Incoming {
    }

    /** A packet whose checksum matched; {@code payload} as sent (escapes not undone: only binary packets use them). */
    public record Packet(byte[] payload) implements Incoming {
        public String text() {
            return new String(payload, StandardCharsets.ISO_8859_1);
        }
    }

    /** A packet whose checksum did not match: answer {@code -} and gdb sends it again. */
    public record Corrupt(byte[] payload, int sent, int computed) implements Incoming {
    }

    /** The interrupt byte (Ctrl-C in gdb). */
    public record Interrupt() implements Incoming {
    }

    /** {@code +}: the last packet arrived. */
    public record Ack() implements Incoming {
    }

    /** {@code -}: the last packet arrived damaged; send it again. */
    public record Nack() implements Incoming {
    }

    /** The connection closed. */
    public record End() implements Incoming {
    }

    /** The modulo-256 sum of {@code data}. */
    public static int checksum(byte[] data) {
        int sum = 0;
        for (byte b : data) sum += b & 0xff;
        return sum & 0xff;
    }

    /** {@code $payload#cs}, with the payload's {@code # $ } *} escaped (the checksum covers the escaped bytes). */
    public static byte[] frame(byte[] payload) {
        byte[] body = escape(payload);
        int sum = checksum(body);
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 4);
        out.write('$');
        out.writeBytes(body);
        out.write('#');
        out.write(HEX[sum >> 4]);
        out.write(HEX[sum & 0xf]);
        return out.toByteArray();
    }

    public static byte[] frame(String payload) {
        return frame(payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Escapes the bytes the framing reserves: {@code # $ } *} become {@code }} and the byte xor 0x20. */
    public static byte[] escape(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + 8);
        for (byte b : data) {
            if (b == '#' || b == '$' || b == ESCAPE || b == '*') {
                out.write(ESCAPE);
                out.write(b ^ 0x20);
            } else {
                out.write(b);
            }
        }
        return out.toByteArray();
    }

    /** Undoes {@link #escape}; a trailing lone escape byte is an error. */
    public static byte[] unescape(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length);
        for (int i = 0; i < data.length; i++) {
            if (data[i] == ESCAPE) {
                if (++i == data.length) throw new IllegalArgumentException("an escape byte ends the data");
                out.write(data[i] ^ 0x20);
            } else {
                out.write(data[i]);
            }
        }
        return out.toByteArray();
    }

    /** Lower-case hex of {@code data}, two digits a byte. */
    public static String hex(byte[] data) {
        return hex(data, 0, data.length);
    }

    public static String hex(byte[] data, int off, int len) {
        StringBuilder s = new StringBuilder(len * 2);
        for (int i = off; i < off + len; i++) {
            s.append(HEX[(data[i] >> 4) & 0xf]).append(HEX[data[i] & 0xf]);
        }
        return s.toString();
    }

    /** The bytes of an even-length hex string; {@link IllegalArgumentException} for anything else. */
    public static byte[] unhex(String hex) {
        if ((hex.length() & 1) != 0) throw new IllegalArgumentException("odd-length hex: " + hex);
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) (digit(hex.charAt(2 * i)) << 4 | digit(hex.charAt(2 * i + 1)));
        return out;
    }

    /** {@code value}'s low {@code bytes} bytes, little-endian, as hex (a register in a {@code g} reply). */
    public static String hexLittleEndian(long value, int bytes) {
        StringBuilder s = new StringBuilder(bytes * 2);
        for (int i = 0; i < bytes; i++) {
            int b = (int) (value >>> (8 * i)) & 0xff;
            s.append(HEX[b >> 4]).append(HEX[b & 0xf]);
        }
        return s.toString();
    }

    /** An unsigned hex number as the protocol writes addresses and lengths ("7ffff7fe3290"). */
    public static long parseHex(String s) {
        if (s.isEmpty()) throw new IllegalArgumentException("an empty number");
        return Long.parseUnsignedLong(s, 16);
    }

    private static int digit(char c) {
        int d = Character.digit(c, 16);
        if (d < 0) throw new IllegalArgumentException("not a hex digit: '" + c + "'");
        return d;
    }

    /** Reads what gdb sends, one {@link Incoming} at a time; bytes between packets other than these are skipped. */
    public static final class Reader {
        private final InputStream in;

        public Reader(InputStream in) {
            this.in = in;
        }

        public Incoming next() throws IOException {
            while (true) {
                int c = in.read();
                switch (c) {
                    case -1 -> {
                        return new End();
                    }
                    case '+' -> {
                        return new Ack();
                    }
                    case '-' -> {
                        return new Nack();
                    }
                    case INTERRUPT -> {
                        return new Interrupt();
                    }
                    case '$' -> {
                        return packet();
                    }
                    default -> {
                        // noise between packets (a newline from a terminal): not part of the protocol
                    }
                }
            }
        }

        private Incoming packet() throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                int c = in.read();
                if (c == -1) return new End();
                if (c == '#') break;
                body.write(c);
            }
            int hi = in.read();
            int lo = in.read();
            if (hi == -1 || lo == -1) return new End();
            byte[] payload = body.toByteArray();
            int computed = checksum(payload);
            int sent = Character.digit(hi, 16) << 4 | Character.digit(lo, 16);
            if (Character.digit(hi, 16) < 0 || Character.digit(lo, 16) < 0 || sent != computed) {
                return new Corrupt(payload, sent, computed);
            }
            return new Packet(payload);
        }
    }
}
