package dev.deja.replayer.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The remote protocol's framing: checksums, escapes, hex, and a reader fed whole or one byte at a time. */
class GdbPacketsTest {

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void framesWithTheModulo256Checksum() {
        // Values gdb's own logs show: "$OK#9a", "$qC#b4", "$#00".
        assertEquals("$OK#9a", new String(GdbPackets.frame("OK"), StandardCharsets.ISO_8859_1));
        assertEquals("$qC#b4", new String(GdbPackets.frame("qC"), StandardCharsets.ISO_8859_1));
        assertEquals("$#00", new String(GdbPackets.frame(""), StandardCharsets.ISO_8859_1));
        assertEquals(0xff, GdbPackets.checksum(new byte[] {(byte) 0xff}));
        assertEquals(0x00, GdbPackets.checksum(new byte[] {(byte) 0xff, 1}));
    }

    @Test
    void escapesTheFourReservedBytesOnly() {
        for (int b = 0; b < 256; b++) {
            byte[] one = {(byte) b};
            byte[] escaped = GdbPackets.escape(one);
            boolean reserved = b == '#' || b == '$' || b == '}' || b == '*';
            if (reserved) {
                assertArrayEquals(new byte[] {'}', (byte) (b ^ 0x20)}, escaped, "byte " + b);
            } else {
                assertArrayEquals(one, escaped, "byte " + b);
            }
            assertArrayEquals(one, GdbPackets.unescape(escaped), "byte " + b);
        }
        // The checksum covers the escaped bytes, as sent.
        byte[] framed = GdbPackets.frame(new byte[] {'*'});
        assertEquals("$}\n#" + String.format("%02x", ('}' + ('*' ^ 0x20)) & 0xff), new String(framed, StandardCharsets.ISO_8859_1));
        assertThrows(IllegalArgumentException.class, () -> GdbPackets.unescape(new byte[] {'a', '}'}));
    }

    @Test
    void randomBinaryDataSurvivesEscapingAndFraming() throws IOException {
        Random rnd = new Random(11);
        for (int i = 0; i < 500; i++) {
            byte[] data = new byte[rnd.nextInt(300)];
            rnd.nextBytes(data);
            assertArrayEquals(data, GdbPackets.unescape(GdbPackets.escape(data)));
            GdbPackets.Incoming in = new GdbPackets.Reader(new ByteArrayInputStream(GdbPackets.frame(data))).next();
            GdbPackets.Packet p = assertInstanceOf(GdbPackets.Packet.class, in);
            assertArrayEquals(data, GdbPackets.unescape(p.payload()));
        }
    }

    @Test
    void hexRoundTripsAndRejectsBadDigits() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) all[i] = (byte) i;
        String hex = GdbPackets.hex(all);
        assertEquals("000102", hex.substring(0, 6));
        assertEquals("feff", hex.substring(hex.length() - 4));
        assertArrayEquals(all, GdbPackets.unhex(hex));
        assertArrayEquals(all, GdbPackets.unhex(hex.toUpperCase()));
        assertThrows(IllegalArgumentException.class, () -> GdbPackets.unhex("abc"));
        assertThrows(IllegalArgumentException.class, () -> GdbPackets.unhex("zz"));
        assertEquals("efbeadde", GdbPackets.hexLittleEndian(0xdeadbeefL, 4));
        assertEquals("0100000000000080", GdbPackets.hexLittleEndian(0x8000000000000001L, 8));
        assertEquals(0x7ffff7fe3290L, GdbPackets.parseHex("7ffff7fe3290"));
        assertEquals(-1L, GdbPackets.parseHex("ffffffffffffffff"));
        assertThrows(IllegalArgumentException.class, () -> GdbPackets.parseHex(""));
    }

    private static final String STREAM = "+" + new String(GdbPackets.frame("qSupported:multiprocess+;swbreak+"),
            StandardCharsets.ISO_8859_1) + "-\u0003junk$m4000,10#be$g#67$bad#00+";

    private static List<GdbPackets.Incoming> readAll(InputStream in) throws IOException {
        GdbPackets.Reader r = new GdbPackets.Reader(in);
        List<GdbPackets.Incoming> out = new ArrayList<>();
        while (true) {
            GdbPackets.Incoming i = r.next();
            out.add(i);
            if (i instanceof GdbPackets.End) return out;
        }
    }

    private static void assertStream(List<GdbPackets.Incoming> got) {
        assertEquals(9, got.size(), got.toString());
        assertInstanceOf(GdbPackets.Ack.class, got.get(0));
        assertEquals("qSupported:multiprocess+;swbreak+", assertInstanceOf(GdbPackets.Packet.class, got.get(1)).text());
        assertInstanceOf(GdbPackets.Nack.class, got.get(2));
        assertInstanceOf(GdbPackets.Interrupt.class, got.get(3));
        assertEquals("m4000,10", assertInstanceOf(GdbPackets.Packet.class, got.get(4)).text());
        assertEquals("g", assertInstanceOf(GdbPackets.Packet.class, got.get(5)).text());
        GdbPackets.Corrupt bad = assertInstanceOf(GdbPackets.Corrupt.class, got.get(6));
        assertEquals(0, bad.sent());
        assertEquals(GdbPackets.checksum(ascii("bad")), bad.computed());
        assertInstanceOf(GdbPackets.Ack.class, got.get(7));
        assertInstanceOf(GdbPackets.End.class, got.get(8));
    }

    @Test
    void readsAcksInterruptsPacketsAndCorruptPackets() throws IOException {
        byte[] bytes = ascii(STREAM);
        // the test stream's hand-written checksums are right
        assertEquals("be", String.format("%02x", GdbPackets.checksum(ascii("m4000,10"))));
        assertEquals("67", String.format("%02x", GdbPackets.checksum(ascii("g"))));
        assertStream(readAll(new ByteArrayInputStream(bytes)));
    }

    @Test
    void readsTheSameWhenBytesComeOneAtATime() throws IOException {
        byte[] bytes = ascii(STREAM);
        InputStream trickle = new InputStream() {
            private int at;

            @Override
            public int read() {
                return at < bytes.length ? bytes[at++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (at >= bytes.length) return -1;
                if (len == 0) return 0;
                b[off] = bytes[at++];
                return 1;
            }
        };
        assertStream(readAll(trickle));
    }

    @Test
    void aPacketCutShortIsTheEnd() throws IOException {
        for (String cut : List.of("$qC", "$qC#", "$qC#b")) {
            assertInstanceOf(GdbPackets.End.class, new GdbPackets.Reader(new ByteArrayInputStream(ascii(cut))).next(), cut);
        }
        assertInstanceOf(GdbPackets.Corrupt.class, new GdbPackets.Reader(new ByteArrayInputStream(ascii("$qC#zz"))).next());
    }
}
