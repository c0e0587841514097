package dev.deja.replayer.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.TraceeMemory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The server's answers to packets that do not resume, against a stopped thread made of arrays. */
class GdbServerTest {

    /** A thread whose memory is one page at 0x1000 and whose registers are fixed; it records breakpoints. */
    private static final class FakeThread implements ServerSideTracee {
        final byte[] page = new byte[4096];
        final long[] regs = new long[27];
        final List<String> calls = new ArrayList<>();

        FakeThread() {
            for (int i = 0; i < page.length; i++) page[i] = (byte) i;
            regs[16] = 0x1234;
        }

        @Override
        public int pid() {
            return 4242;
        }

        @Override
        public int tid() {
            return 4242;
        }

        @Override
        public TraceeMemory memory() {
            return (address, dst, off, len) -> {
                if (address < 0x1000 || address >= 0x2000) return 0;
                int n = (int) Math.min(len, 0x2000 - address);
                System.arraycopy(page, (int) (address - 0x1000), dst, off, n);
                return n;
            };
        }

        @Override
        public long[] registers() {
            return regs.clone();
        }

        @Override
        public byte[] fpRegisters() {
            return new byte[512];
        }

        @Override
        public void insertBreakpoint(long address) {
            calls.add("insert " + Long.toHexString(address));
        }

        @Override
        public boolean removeBreakpoint(long address) {
            calls.add("remove " + Long.toHexString(address));
            return true;
        }

        @Override
        public void watchMemory(long address, long length, boolean reads) {
            calls.add("watch " + Long.toHexString(address) + "+" + length + (reads ? " reads" : ""));
        }

        @Override
        public void unwatchMemory(long address, long length, boolean reads) {
            calls.add("unwatch " + Long.toHexString(address) + "+" + length + (reads ? " reads" : ""));
        }
    }

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final GdbServer server = new GdbServer(null, new GdbServer.Program("/bin/prog", "prog",
            new long[] {3, 0x400040, 5, 13, 0, 0}, List.of(), null), new PrintStream(console, true, StandardCharsets.UTF_8));
    private final FakeThread t = new FakeThread();

    @Test
    void announcesWhatItServes() {
        String s = server.answer("qSupported:swbreak+;hwbreak+;xmlRegisters=i386", t);
        for (String f : List.of("PacketSize=4000", "qXfer:features:read+", "qXfer:auxv:read+", "qXfer:exec-file:read+",
                "qXfer:threads:read+", "qXfer:libraries-svr4:read+", "QStartNoAckMode+", "QCatchSyscalls+", "vContSupported+", "swbreak+")) {
            assertTrue(s.contains(f), s);
        }
        assertEquals("vCont;c;C;s;S", server.answer("vCont?", t));
        assertEquals("QC1092", server.answer("qC", t));
        assertEquals("m1092", server.answer("qfThreadInfo", t));
        assertEquals("l", server.answer("qsThreadInfo", t));
        assertEquals("OK", server.answer("Hg1092", t));
        assertEquals("OK", server.answer("Hc-1", t));
        assertEquals("E02", server.answer("Hg99", t));
        assertEquals("OK", server.answer("QCatchSyscalls:1;0;1;e7", t));
        assertEquals("OK", server.answer("QCatchSyscalls:0", t));
        assertEquals("E01", server.answer("QCatchSyscalls:2", t));
        assertEquals("", server.answer("qSomethingNew", t)); // unknown: empty, as the protocol wants
    }

    @Test
    void readsMemoryAsFarAsItIsReadable() {
        assertEquals("00010203", server.answer("m1000,4", t));
        assertEquals("fdfeff", server.answer("m1ffd,10", t)); // the rest is unmapped: what was read
        assertEquals("E14", server.answer("m3000,4", t));
        assertEquals("E01", server.answer("mzz,4", t));
    }

    @Test
    void refusesEveryWriteAndSaysWhy() {
        for (String p : List.of("M1000,1:ff", "X1000,1:a", "G00", "P10=0000000000000000")) {
            assertTrue(server.answer(p, t).startsWith("E."), p);
        }
        String said = console.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("gdb asked to write memory: refused"), said);
        assertTrue(said.contains("gdb asked to write registers: refused"), said);
    }

    @Test
    void insertsAndRemovesSoftwareBreakpointsOnly() {
        assertEquals("OK", server.answer("Z0,555555555288,1", t));
        assertEquals("OK", server.answer("z0,555555555288,1", t));
        assertEquals(List.of("insert 555555555288", "remove 555555555288"), t.calls);
    }

    @Test
    void watchesWithinItsBoundsAndReadWatchesMakeThePagesInaccessible() {
        assertEquals("OK", server.answer("Z2,1004,4", t));
        assertEquals("E14", server.answer("Z2,3000,4", t)); // unreadable: no old value
        assertEquals("E01", server.answer("Z2,1000," + Long.toHexString(WatchSet.MAX_LENGTH + 1), t));
        assertEquals("OK", server.answer("z2,1004,4", t));
        assertEquals("OK", server.answer("z2,1004,4", t)); // gone already: nothing to undo
        assertEquals(List.of("watch 1004+4", "unwatch 1004+4"), t.calls);
        t.calls.clear();
        assertEquals("OK", server.answer("Z3,1004,4", t));
        assertEquals("OK", server.answer("Z4,1008,2", t));
        assertEquals("OK", server.answer("z2,1008,2", t)); // no write watch there: the access watch stays
        assertEquals("OK", server.answer("z4,1008,2", t));
        assertEquals("OK", server.answer("z3,1004,4", t));
        assertEquals(List.of("watch 1004+4 reads", "watch 1008+2 reads", "unwatch 1008+2 reads", "unwatch 1004+4 reads"), t.calls);
    }

    @Test
    void transfersObjectsInChunks() {
        String xml = X86Target.targetXml();
        StringBuilder got = new StringBuilder();
        int off = 0;
        while (true) {
            String r = server.answer("qXfer:features:read:target.xml:" + Integer.toHexString(off) + ",200", t);
            got.append(r.substring(1));
            off += r.length() - 1;
            if (r.startsWith("l")) break;
            assertTrue(r.startsWith("m"), r);
        }
        assertEquals(xml, got.toString());
        assertEquals("l", server.answer("qXfer:features:read:target.xml:" + Integer.toHexString(xml.length()) + ",200", t));
        assertEquals("l/bin/prog", server.answer("qXfer:exec-file:read::0,fff", t));
        String auxv = server.answer("qXfer:auxv:read::0,1000", t);
        assertEquals(1 + 48, auxv.length()); // three pairs of words, AT_NULL last
        assertTrue(server.answer("qXfer:threads:read::0,fff", t).contains("<thread id=\"1092\" name=\"prog\"/>"));
        assertEquals("E00", server.answer("qXfer:features:read:other.xml:0,fff", t));
    }

    @Test
    void readsOneRegister() {
        assertEquals("3412000000000000", server.answer("p10", t));
        assertEquals("E00", server.answer("p3c", t));
    }
}
