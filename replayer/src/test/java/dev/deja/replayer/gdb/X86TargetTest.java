package dev.deja.replayer.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The x86-64 target description and the encoding of registers in g and p replies. */
class X86TargetTest {
    /** user_regs_struct indices. */
    private static final int RAX = 10, RBX = 5, R15 = 0, ORIG_RAX = 15, RIP = 16, CS = 17, EFLAGS = 18, RSP = 19,
            FS_BASE = 21, GS_BASE = 22;

    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void theDescriptionNamesGdbsAmd64LinuxFeaturesAndRegistersInOrder() throws Exception {
        Document d = parse(X86Target.targetXml());
        assertEquals("i386:x86-64", d.getElementsByTagName("architecture").item(0).getTextContent());
        NodeList features = d.getElementsByTagName("feature");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < features.getLength(); i++) names.add(((Element) features.item(i)).getAttribute("name"));
        assertEquals(List.of("org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.linux",
                "org.gnu.gdb.i386.segments"), names);
        NodeList regs = d.getElementsByTagName("reg");
        assertEquals(60, regs.getLength());
        String[] expected = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13",
                "r14", "r15", "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs", "st0", "st1", "st2", "st3", "st4", "st5",
                "st6", "st7", "fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop", "xmm0", "xmm1", "xmm2",
                "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
                "mxcsr", "orig_rax", "fs_base", "gs_base"};
        int bits = 0;
        for (int i = 0; i < regs.getLength(); i++) {
            Element r = (Element) regs.item(i);
            assertEquals(expected[i], r.getAttribute("name"));
            assertEquals(Integer.toString(i), r.getAttribute("regnum"));
            bits += Integer.parseInt(r.getAttribute("bitsize"));
        }
        assertEquals(8 * X86Target.registerBytes(), bits);
        // every type a register names is predefined by gdb or defined in the document
        List<String> defined = new ArrayList<>(List.of("int", "int32", "int64", "data_ptr", "code_ptr", "i387_ext"));
        for (String tag : List.of("flags", "vector", "union")) {
            NodeList ts = d.getElementsByTagName(tag);
            for (int i = 0; i < ts.getLength(); i++) defined.add(((Element) ts.item(i)).getAttribute("id"));
        }
        for (int i = 0; i < regs.getLength(); i++) {
            String type = ((Element) regs.item(i)).getAttribute("type");
            assertTrue(defined.contains(type), type);
        }
    }

    private static long[] general() {
        long[] g = new long[27];
        for (int i = 0; i < g.length; i++) g[i] = 0x1000L * (i + 1) + i;
        g[RAX] = 0x1122334455667788L;
        g[RIP] = 0x555555555288L;
        g[EFLAGS] = 0x246;
        g[ORIG_RAX] = -1;
        g[FS_BASE] = 0x7ffff7fb7600L;
        return g;
    }

    private static byte[] fxsave() {
        byte[] f = new byte[512];
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) 0x037f); // fcw
        b.putShort(2, (short) 0);      // fsw: TOP 0
        f[4] = 0x01;                   // abridged tag: st0 in use
        b.putShort(6, (short) 0xffff); // fop: 11 bits count
        b.putInt(24, 0x1f80);          // mxcsr
        b.putLong(32, 0x8000000000000000L); // st0 = 1.0: mantissa with the integer bit
        b.putShort(40, (short) 0x3fff);
        for (int i = 0; i < 16; i++) f[160 + i] = (byte) (0xa0 + i); // xmm0
        return f;
    }

    @Test
    void aGReplyPlacesEveryRegisterLittleEndianAtItsOffset() {
        String g = X86Target.allRegisters(general(), fxsave());
        assertEquals(2 * 560, g.length());
        assertEquals("8877665544332211", g.substring(0, 16));                       // rax
        assertEquals(GdbPackets.hexLittleEndian(general()[RBX], 8), g.substring(16, 32)); // rbx
        assertEquals(GdbPackets.hexLittleEndian(general()[RSP], 8), g.substring(2 * 56, 2 * 64));
        assertEquals(GdbPackets.hexLittleEndian(general()[R15], 8), g.substring(2 * 120, 2 * 128));
        assertEquals("8852555555550000", g.substring(2 * 128, 2 * 136));             // rip
        assertEquals("46020000", g.substring(2 * 136, 2 * 140));                     // eflags, 32 bits
        assertEquals(GdbPackets.hexLittleEndian(general()[CS], 4), g.substring(2 * 140, 2 * 144));
        assertEquals("0000000000000080ff3f", g.substring(2 * 164, 2 * 174));         // st0, 80 bits
        assertEquals("7f030000", g.substring(2 * 244, 2 * 248));                     // fctrl
        assertEquals("fcff0000", g.substring(2 * 252, 2 * 256));                     // ftag: st0 valid, the rest empty
        assertEquals("ff070000", g.substring(2 * 272, 2 * 276));                     // fop, 11 bits
        assertEquals("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", g.substring(2 * 276, 2 * 292)); // xmm0
        assertEquals("801f0000", g.substring(2 * 532, 2 * 536));                     // mxcsr
        assertEquals("ffffffffffffffff", g.substring(2 * 536, 2 * 544));             // orig_rax
        assertEquals("0076fbf7ff7f0000", g.substring(2 * 544, 2 * 552));             // fs_base
        assertEquals(GdbPackets.hexLittleEndian(general()[GS_BASE], 8), g.substring(2 * 552, 2 * 560));
    }

    @Test
    void aPReplyIsTheSameBytesAsInTheGReply() {
        String g = X86Target.allRegisters(general(), fxsave());
        int at = 0;
        for (int n = 0; n < X86Target.REGISTERS.size(); n++) {
            String p = X86Target.oneRegister(n, general(), fxsave());
            assertEquals(g.substring(at, at + p.length()), p, X86Target.REGISTERS.get(n).name());
            at += p.length();
        }
        assertNull(X86Target.oneRegister(60, general(), fxsave()));
        assertNull(X86Target.oneRegister(-1, general(), fxsave()));
        assertEquals(X86Target.PC, 16);
    }

    @Test
    void theFullTagWordFollowsTopAndClassifiesValues() {
        byte[] f = new byte[512];
        assertEquals(0xffff, X86Target.fullTag(f)); // all empty
        f[4] = (byte) 0xff;                          // all in use, all zero: tag 1 each
        assertEquals(0x5555, X86Target.fullTag(f));
        f[4] = 0x02;                                 // physical register 1 in use; TOP = 1: it is st0
        f[3] = 1 << 3;
        f[32 + 9] = 0x7f;                            // st0's exponent all ones: special
        f[32 + 8] = (byte) 0xff;
        assertEquals(0xfffb, X86Target.fullTag(f));
    }
}
