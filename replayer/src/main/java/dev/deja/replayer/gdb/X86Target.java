package dev.deja.replayer.gdb;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The x86-64 Linux target gdb is told about: its registers in the order of the target description
 * (gdb's numbering for amd64-linux: the core registers, x87, SSE, orig_rax, fs_base and gs_base),
 * the description's XML, and the encoding of a thread's registers for {@code g} and {@code p} replies,
 * from PTRACE_GETREGS's user_regs_struct and PTRACE_GETFPREGS's fxsave area. Pure.
 */
public final class X86Target {
    private X86Target() {
    }

    /** Where a register's value comes from. */
    enum Source {
        /** A word of user_regs_struct. */
        GENERAL,
        /** Bytes of the fxsave area. */
        FXSAVE,
        /** The x87 tag word, rebuilt from fxsave's abridged one. */
        FULL_TAG
    }

    /**
     * One register: its name, size in bits, description type and group, the feature it belongs to,
     * and where it is read: a user_regs_struct index or an fxsave byte offset.
     */
    record Register(String name, int bits, String type, String group, String feature, Source source, int at) {
        int bytes() {
            return bits / 8;
        }
    }

    static final String CORE = "org.gnu.gdb.i386.core";
    static final String SSE = "org.gnu.gdb.i386.sse";
    static final String LINUX = "org.gnu.gdb.i386.linux";
    static final String SEGMENTS = "org.gnu.gdb.i386.segments";

    /** user_regs_struct indices (sys/user.h). */
    private static final int R15 = 0, R14 = 1, R13 = 2, R12 = 3, RBP = 4, RBX = 5, R11 = 6, R10 = 7, R9 = 8, R8 = 9,
            RAX = 10, RCX = 11, RDX = 12, RSI = 13, RDI = 14, ORIG_RAX = 15, RIP = 16, CS = 17, EFLAGS = 18, RSP = 19,
            SS = 20, FS_BASE = 21, GS_BASE = 22, DS = 23, ES = 24, FS = 25, GS = 26;

    /** The registers in gdb's order; a register's number is its index here. */
    static final List<Register> REGISTERS = registers();

    /** Number of rip, for stop replies and tests. */
    public static final int PC = 16;

    private static List<Register> registers() {
        java.util.ArrayList<Register> r = new java.util.ArrayList<>();
        String[] names = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
        int[] words = {RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8, R9, R10, R11, R12, R13, R14, R15};
        for (int i = 0; i < names.length; i++) {
            String type = names[i].equals("rbp") || names[i].equals("rsp") ? "data_ptr" : "int64";
            r.add(new Register(names[i], 64, type, null, CORE, Source.GENERAL, words[i]));
        }
        r.add(new Register("rip", 64, "code_ptr", null, CORE, Source.GENERAL, RIP));
        r.add(new Register("eflags", 32, "i386_eflags", null, CORE, Source.GENERAL, EFLAGS));
        String[] segs = {"cs", "ss", "ds", "es", "fs", "gs"};
        int[] segWords = {CS, SS, DS, ES, FS, GS};
        for (int i = 0; i < segs.length; i++) r.add(new Register(segs[i], 32, "int32", null, CORE, Source.GENERAL, segWords[i]));
        // fxsave: st(i) at 32 + 16 i (80 bits used of 128)
        for (int i = 0; i < 8; i++) r.add(new Register("st" + i, 80, "i387_ext", null, CORE, Source.FXSAVE, 32 + 16 * i));
        // fxsave 64-bit layout: fcw @0 (16), fsw @2 (16), abridged ftw @4 (8), fop @6 (16), fip @8 (64), fdp @16 (64)
        r.add(new Register("fctrl", 32, "int", "float", CORE, Source.FXSAVE, 0));
        r.add(new Register("fstat", 32, "int", "float", CORE, Source.FXSAVE, 2));
        r.add(new Register("ftag", 32, "int", "float", CORE, Source.FULL_TAG, 4));
        r.add(new Register("fiseg", 32, "int", "float", CORE, Source.FXSAVE, 12));
        r.add(new Register("fioff", 32, "int", "float", CORE, Source.FXSAVE, 8));
        r.add(new Register("foseg", 32, "int", "float", CORE, Source.FXSAVE, 20));
        r.add(new Register("fooff", 32, "int", "float", CORE, Source.FXSAVE, 16));
        r.add(new Register("fop", 32, "int", "float", CORE, Source.FXSAVE, 6));
        for (int i = 0; i < 16; i++) r.add(new Register("xmm" + i, 128, "vec128", null, SSE, Source.FXSAVE, 160 + 16 * i));
        r.add(new Register("mxcsr", 32, "i386_mxcsr", "vector", SSE, Source.FXSAVE, 24));
        r.add(new Register("orig_rax", 64, "int", null, LINUX, Source.GENERAL, ORIG_RAX));
        r.add(new Register("fs_base", 64, "data_ptr", null, SEGMENTS, Source.GENERAL, FS_BASE));
        r.add(new Register("gs_base", 64, "data_ptr", null, SEGMENTS, Source.GENERAL, GS_BASE));
        return List.copyOf(r);
    }

    /** The number of bytes a {@code g} reply carries. */
    static int registerBytes() {
        int n = 0;
        for (Register r : REGISTERS) n += r.bytes();
        return n;
    }

    /**
     * The target description, one document with every feature (no xi:include): gdb checks the features'
     * names and register names, and numbers the registers in document order.
     */
    public static String targetXml() {
        StringBuilder x = new StringBuilder();
        x.append("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
        x.append("  <architecture>i386:x86-64</architecture>\n  <osabi>GNU/Linux</osabi>\n");
        String open = null;
        for (int i = 0; i < REGISTERS.size(); i++) {
            Register r = REGISTERS.get(i);
            if (!r.feature().equals(open)) {
                if (open != null) x.append("  </feature>\n");
                open = r.feature();
                x.append("  <feature name=\"").append(open).append("\">\n");
                x.append(typesOf(open));
            }
            x.append("    <reg name=\"").append(r.name()).append("\" bitsize=\"").append(r.bits())
                    .append("\" type=\"").append(r.type()).append("\" regnum=\"").append(i).append('"');
            if (r.group() != null) x.append(" group=\"").append(r.group()).append('"');
            x.append("/>\n");
        }
        x.append("  </feature>\n</target>\n");
        return x.toString();
    }

    /** The types a feature's registers use that gdb does not predefine. */
    private static String typesOf(String feature) {
        if (feature.equals(CORE)) {
            return flags("i386_eflags", new String[] {"CF", "0", "", "1", "PF", "2", "AF", "4", "ZF", "6", "SF", "7", "TF", "8",
                    "IF", "9", "DF", "10", "OF", "11", "NT", "14", "RF", "16", "VM", "17", "AC", "18", "VIF", "19", "VIP", "20",
                    "ID", "21"});
        }
        if (feature.equals(SSE)) {
            StringBuilder t = new StringBuilder();
            String[][] vectors = {{"v4f", "ieee_single", "4"}, {"v2d", "ieee_double", "2"}, {"v16i8", "int8", "16"},
                    {"v8i16", "int16", "8"}, {"v4i32", "int32", "4"}, {"v2i64", "int64", "2"}};
            for (String[] v : vectors) {
                t.append("    <vector id=\"").append(v[0]).append("\" type=\"").append(v[1]).append("\" count=\"").append(v[2]).append("\"/>\n");
            }
            t.append("    <union id=\"vec128\">\n");
            String[][] fields = {{"v4_float", "v4f"}, {"v2_double", "v2d"}, {"v16_int8", "v16i8"}, {"v8_int16", "v8i16"},
                    {"v4_int32", "v4i32"}, {"v2_int64", "v2i64"}, {"uint128", "uint128"}};
            for (String[] f : fields) t.append("      <field name=\"").append(f[0]).append("\" type=\"").append(f[1]).append("\"/>\n");
            t.append("    </union>\n");
            t.append(flags("i386_mxcsr", new String[] {"IE", "0", "DE", "1", "ZE", "2", "OE", "3", "UE", "4", "PE", "5", "DAZ", "6",
                    "IM", "7", "DM", "8", "ZM", "9", "OM", "10", "UM", "11", "PM", "12", "FZ", "15"}));
            return t.toString();
        }
        return "";
    }

    private static String flags(String id, String[] nameBit) {
        StringBuilder t = new StringBuilder("    <flags id=\"" + id + "\" size=\"4\">\n");
        for (int i = 0; i < nameBit.length; i += 2) {
            t.append("      <field name=\"").append(nameBit[i]).append("\" start=\"").append(nameBit[i + 1])
                    .append("\" end=\"").append(nameBit[i + 1]).append("\"/>\n");
        }
        return t.append("    </flags>\n").toString();
    }

    /** Register {@code n}'s value as little-endian bytes. */
    static byte[] value(int n, long[] general, byte[] fxsave) {
        Register r = REGISTERS.get(n);
        ByteBuffer out = ByteBuffer.allocate(r.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        switch (r.source()) {
            case GENERAL -> {
                long v = general[r.at()];
                if (r.bytes() == 8) out.putLong(v);
                else out.putInt((int) v);
            }
            case FXSAVE -> {
                ByteBuffer f = ByteBuffer.wrap(fxsave).order(ByteOrder.LITTLE_ENDIAN);
                if (r.bits() == 32) {
                    // fcw, fsw, fop are 16 bits wide in fxsave; fiseg/foseg the 16 bits above fip/fdp's low half
                    boolean narrow = r.at() == 0 || r.at() == 2 || r.at() == 6 || r.at() == 12 || r.at() == 20;
                    int v = narrow ? Short.toUnsignedInt(f.getShort(r.at())) : f.getInt(r.at());
                    if (r.name().equals("fop")) v &= 0x7ff;
                    out.putInt(v);
                } else {
                    out.put(fxsave, r.at(), r.bytes());
                }
            }
            case FULL_TAG -> out.putInt(fullTag(fxsave));
        }
        return out.array();
    }

    /**
     * The x87 tag word as FSAVE has it (2 bits a register: 0 valid, 1 zero, 2 special, 3 empty) from
     * fxsave's abridged one (1 bit a register: not empty). Physical register i is st((i - TOP) mod 8).
     */
    static int fullTag(byte[] fxsave) {
        int abridged = fxsave[4] & 0xff;
        int top = ((fxsave[2] & 0xff) | (fxsave[3] & 0xff) << 8) >> 11 & 7;
        int tag = 0;
        for (int phys = 0; phys < 8; phys++) {
            int t;
            if ((abridged & (1 << phys)) == 0) {
                t = 3;
            } else {
                int st = (phys - top) & 7;
                int base = 32 + 16 * st;
                long mantissa = ByteBuffer.wrap(fxsave, base, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                int exponent = ((fxsave[base + 8] & 0xff) | (fxsave[base + 9] & 0xff) << 8) & 0x7fff;
                if (exponent == 0x7fff) t = 2;
                else if (exponent == 0) t = mantissa == 0 ? 1 : 2;
                else t = mantissa < 0 ? 0 : 2; // the integer bit clear: unnormal, special
            }
            tag |= t << (2 * phys);
        }
        return tag;
    }

    /** A {@code g} reply: every register in order, hex. */
    public static String allRegisters(long[] general, byte[] fxsave) {
        StringBuilder s = new StringBuilder(registerBytes() * 2);
        for (int n = 0; n < REGISTERS.size(); n++) s.append(GdbPackets.hex(value(n, general, fxsave)));
        return s.toString();
    }

    /** A {@code p} reply for register {@code n}, or null when there is no such register. */
    public static String oneRegister(int n, long[] general, byte[] fxsave) {
        if (n < 0 || n >= REGISTERS.size()) return null;
        return GdbPackets.hex(value(n, general, fxsave));
    }

    /** Whether register {@code n} lives in the fxsave area (its value needs PTRACE_GETFPREGS). */
    static boolean needsFxsave(int n) {
        return n >= 0 && n < REGISTERS.size() && REGISTERS.get(n).source() != Source.GENERAL;
    }
}
