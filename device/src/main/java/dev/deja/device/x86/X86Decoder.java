package dev.deja.device.x86;

import java.util.HexFormat;

/**
 * Decodes the length and the position-dependent parts of one x86-64 instruction (64-bit mode, user
 * code): its RIP-relative displacement and its relative branch, all that relocating the instruction
 * to another address needs ("displaced execution").
 *
 * <p>It knows legacy prefixes, REX, VEX (C4/C5), EVEX (62, maps 1-3, 5 and 6), XOP (8F, maps 8-A),
 * the one-byte map, the 0F, 0F 38 and 0F 3A maps and 3DNow! (0F 0F). Operands it does not decode;
 * the opcode tables below say only whether an opcode has a ModRM byte and how long its immediate is.
 */
public final class X86Decoder {
    /** The longest instruction the processor accepts. */
    public static final int MAX_LENGTH = 15;

    private X86Decoder() {
    }

    /*
     * Opcode kinds, one character per opcode, 16 to a row:
     *   .  no ModRM, no immediate       M  ModRM
     *   m  ModRM and imm8               Z  ModRM and imm16/32 (by operand size)
     *   b  imm8                         z  imm16/32 (by operand size)
     *   w  imm16                        E  imm16 and imm8 (ENTER)
     *   V  imm16/32/64 (MOV r, imm)     O  moffs: 8 bytes, 4 with 67
     *   r  rel8                         R  rel32
     *   T  group 3 (F6): imm8 for /0 and /1 only    U  group 3 (F7): imm16/32 for /0 and /1 only
     *   C  ModRM that names registers whatever its mod (MOV to and from CR/DR)
     *   P  a prefix (handled before the opcode)     S  handled in code
     *   X  invalid in 64-bit mode
     */
    private static final String ONE_BYTE = ""
            + "MMMMbzXXMMMMbzXS" // 00
            + "MMMMbzXXMMMMbzXX" // 10
            + "MMMMbzPXMMMMbzPX" // 20
            + "MMMMbzPXMMMMbzPX" // 30
            + "PPPPPPPPPPPPPPPP" // 40 REX
            + "................" // 50
            + "XXSMPPPPzZbm...." // 60
            + "rrrrrrrrrrrrrrrr" // 70
            + "mZXmMMMMMMMMMMMS" // 80
            + "..........X....." // 90
            + "OOOO....bz......" // A0
            + "bbbbbbbbVVVVVVVV" // B0
            + "mmw.SSmZE.w..bX." // C0
            + "MMMMXXX.MMMMMMMM" // D0
            + "rrrrbbbbRRXr...." // E0
            + "P.PP..TU......MM"; // F0

    /** The 0F map, in the same notation. */
    private static final String TWO_BYTE = ""
            + "MMMMX.....X.XM.S" // 0F 00
            + "MMMMMMMMMMMMMMMM" // 0F 10
            + "CCCCXXXXMMMMMMMM" // 0F 20
            + "......X.SXSXXXXX" // 0F 30
            + "MMMMMMMMMMMMMMMM" // 0F 40
            + "MMMMMMMMMMMMMMMM" // 0F 50
            + "MMMMMMMMMMMMMMMM" // 0F 60
            + "mmmmMMM.SMXXMMMM" // 0F 70
            + "RRRRRRRRRRRRRRRR" // 0F 80
            + "MMMMMMMMMMMMMMMM" // 0F 90
            + "...MmMMM...MmMMM" // 0F A0 (A6, A7: VIA PadLock)
            + "MMMMMMMMMMmMMMMM" // 0F B0
            + "MMmMmmmM........" // 0F C0
            + "MMMMMMMMMMMMMMMM" // 0F D0
            + "MMMMMMMMMMMMMMMM" // 0F E0
            + "MMMMMMMMMMMMMMMM"; // 0F F0

    /** Opcode maps, as VEX, EVEX and XOP number them. */
    private static final int MAP_ONE_BYTE = 0;
    private static final int MAP_0F = 1;
    private static final int MAP_0F38 = 2;
    private static final int MAP_0F3A = 3;
    private static final int MAP_FP16_5 = 5;
    private static final int MAP_FP16_6 = 6;
    private static final int MAP_XOP8 = 8;
    private static final int MAP_XOP9 = 9;
    private static final int MAP_XOPA = 10;

    /** Reads the bytes of one instruction, no further than its end, the input's or 15 bytes. */
    private static final class Reader {
        final byte[] code;
        final int start;
        int pos;
        /** The immediate operands' bytes skipped so far. */
        int immediateBytes;

        Reader(byte[] code, int start) {
            this.code = code;
            this.start = start;
            this.pos = start;
        }

        int next() throws X86DecodeException {
            need(1);
            return code[pos++] & 0xff;
        }

        int peek() throws X86DecodeException {
            need(1);
            return code[pos] & 0xff;
        }

        void skip(int n) throws X86DecodeException {
            need(n);
            pos += n;
        }

        /** Skips an immediate operand (a relative branch's displacement included). */
        void immediate(int n) throws X86DecodeException {
            skip(n);
            immediateBytes += n;
        }

        void need(int n) throws X86DecodeException {
            if (pos + n - start > MAX_LENGTH) throw fail("longer than " + MAX_LENGTH + " bytes");
            if (pos + n > code.length) throw fail("truncated");
        }

        int offset() {
            return pos - start;
        }

        X86DecodeException fail(String why) {
            int end = Math.min(code.length, start + MAX_LENGTH);
            String bytes = start < end ? HexFormat.ofDelimiter(" ").formatHex(code, start, end) : "";
            return new X86DecodeException("x86-64 instruction at offset " + start + ": " + why + " [" + bytes + "]");
        }
    }

    /** The prefixes before an opcode, as far as they matter here. */
    private static final class Prefixes {
        boolean opSize; // 66
        boolean addrSize; // 67
        int rep; // F2 or F3, the last one, else 0
        boolean lock; // F0
        int rex; // 40-4F right before the opcode, else 0

        boolean rexW() {
            return (rex & 8) != 0;
        }
    }

    /**
     * Decodes the instruction at {@code code[offset]}.
     *
     * @throws X86DecodeException when the bytes are no valid instruction in 64-bit mode, or when
     *     they end before it does
     */
    public static X86Insn decode(byte[] code, int offset) throws X86DecodeException {
        if (offset < 0 || offset > code.length) throw new IllegalArgumentException("offset " + offset + " outside " + code.length + " bytes");
        Reader in = new Reader(code, offset);
        Prefixes p = new Prefixes();
        int b;
        for (;;) {
            b = in.next();
            if (b >= 0x40 && b <= 0x4f) {
                p.rex = b;
                continue;
            }
            if (!isLegacyPrefix(b)) break;
            p.rex = 0; // a REX prefix counts only right before the opcode
            switch (b) {
                case 0x66 -> p.opSize = true;
                case 0x67 -> p.addrSize = true;
                case 0xf2, 0xf3 -> p.rep = b;
                case 0xf0 -> p.lock = true;
                default -> { } // segment overrides (and branch hints, notrack)
            }
        }
        return switch (b) {
            case 0x0f -> escape0F(in, p);
            case 0xc4, 0xc5 -> vex(in, p, b);
            case 0x62 -> evex(in, p);
            case 0x8f -> (in.peek() & 0x1f) >= 8 ? xop(in, p) : popGroup(in, p);
            default -> table(in, p, ONE_BYTE.charAt(b), MAP_ONE_BYTE, b);
        };
    }

    private static boolean isLegacyPrefix(int b) {
        return switch (b) {
            case 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 -> true;
            default -> false;
        };
    }

    /** The 0F escape: the 0F map, 0F 38, 0F 3A or 3DNow!. */
    private static X86Insn escape0F(Reader in, Prefixes p) throws X86DecodeException {
        int b = in.next();
        switch (b) {
            case 0x38 -> {
                in.next();
                int rip = modrm(in, false);
                return done(in, rip, Branch.NONE, -1);
            }
            case 0x3a -> {
                in.next();
                int rip = modrm(in, false);
                in.immediate(1);
                return done(in, rip, Branch.NONE, -1);
            }
            case 0x0f -> { // 3DNow!: ModRM, then the opcode proper as an imm8
                int rip = modrm(in, false);
                in.immediate(1);
                return done(in, rip, Branch.NONE, -1);
            }
            case 0x78 -> { // VMREAD; with 66 EXTRQ, with F2 INSERTQ (SSE4a), both ib ib
                int rip = modrm(in, false);
                if (p.opSize || p.rep == 0xf2) in.immediate(2);
                return done(in, rip, Branch.NONE, -1);
            }
            case 0x01 -> { // group 7; some register forms are VM calls and the like
                int m = in.peek();
                int rip = modrm(in, false);
                boolean system = switch (m) {
                    case 0xc0, 0xc1, 0xc2, 0xc3, 0xcf, 0xd7, 0xd8, 0xd9 -> true; // enclv vmcall vmlaunch vmresume encls/seamcall enclu vmrun vmmcall
                    case 0xcc, 0xcd -> p.opSize; // tdcall, seamret
                    case 0xec -> p.rep == 0xf3; // uiret
                    default -> false;
                };
                return done(in, rip, system ? Branch.SYSTEM : Branch.NONE, -1);
            }
            default -> {
                return table(in, p, TWO_BYTE.charAt(b), MAP_0F, b);
            }
        }
    }

    /** An opcode of the one-byte or the 0F map, by its kind in the tables above. */
    private static X86Insn table(Reader in, Prefixes p, char kind, int map, int op) throws X86DecodeException {
        int rip = -1;
        int modrm = -1;
        switch (kind) {
            case 'M', 'm', 'Z', 'T', 'U' -> {
                modrm = in.peek();
                rip = modrm(in, false);
            }
            case 'C' -> rip = modrm(in, true);
            case 'P', 'X', 'S' -> throw in.fail("invalid opcode " + (map == MAP_0F ? "0F " : "") + hex(op));
            default -> { }
        }
        int regField = modrm < 0 ? -1 : (modrm >> 3) & 7;
        if (map == MAP_ONE_BYTE && modrm >= 0) checkGroup(in, op, modrm);
        boolean xbegin = map == MAP_ONE_BYTE && op == 0xc7 && modrm == 0xf8;
        int imm = switch (kind) {
            case 'm', 'b' -> 1;
            case 'Z', 'z' -> immZ(p);
            case 'w' -> 2;
            case 'E' -> 3;
            case 'V' -> p.rexW() ? 8 : immZ(p);
            case 'O' -> p.addrSize ? 4 : 8;
            case 'r' -> 1;
            case 'R' -> 4;
            case 'T' -> regField <= 1 ? 1 : 0;
            case 'U' -> regField <= 1 ? immZ(p) : 0;
            default -> 0;
        };
        Branch branch = map == MAP_0F ? branch0F(op) : branchOneByte(op, regField);
        if (xbegin) branch = Branch.SYSTEM; // its abort address is relative: rel16/32
        int immAt = in.offset();
        in.immediate(imm);
        boolean relative = kind == 'r' || kind == 'R' || xbegin;
        return done(in, rip, branch, relative ? immAt : -1);
    }

    /** Rejects the undefined members of the one-byte map's opcode groups (C6/C7 /7 is only XABORT/XBEGIN). */
    private static void checkGroup(Reader in, int op, int modrm) throws X86DecodeException {
        int reg = (modrm >> 3) & 7;
        boolean bad = switch (op) {
            case 0xfe -> reg > 1;
            case 0xff -> reg == 7;
            case 0xc6, 0xc7 -> reg != 0 && modrm != 0xf8;
            default -> false;
        };
        if (bad) throw in.fail("undefined opcode " + hex(op) + " /" + reg);
    }

    private static Branch branchOneByte(int op, int reg) {
        if (op >= 0x70 && op <= 0x7f) return Branch.JCC_REL8;
        return switch (op) {
            case 0xe0, 0xe1, 0xe2, 0xe3 -> Branch.LOOP_REL8;
            case 0xe8 -> Branch.CALL_REL32;
            case 0xe9 -> Branch.JMP_REL32;
            case 0xeb -> Branch.JMP_REL8;
            case 0xc2, 0xc3, 0xca, 0xcb -> Branch.RET;
            case 0xcc, 0xcd, 0xcf, 0xf1, 0xf4 -> Branch.SYSTEM;
            case 0xff -> reg == 2 || reg == 3 ? Branch.INDIRECT_CALL : reg == 4 || reg == 5 ? Branch.INDIRECT_JMP : Branch.NONE;
            default -> Branch.NONE;
        };
    }

    private static Branch branch0F(int op) {
        if (op >= 0x80 && op <= 0x8f) return Branch.JCC_REL32;
        return switch (op) {
            case 0x05, 0x07, 0x0b, 0x34, 0x35, 0xaa, 0xb9, 0xff -> Branch.SYSTEM;
            default -> Branch.NONE;
        };
    }

    /** Group 1A (8F): POP r/m is /0; anything else is undefined. */
    private static X86Insn popGroup(Reader in, Prefixes p) throws X86DecodeException {
        if (((in.peek() >> 3) & 7) != 0) throw in.fail("undefined opcode 8F /" + ((in.peek() >> 3) & 7));
        int rip = modrm(in, false);
        return done(in, rip, Branch.NONE, -1);
    }

    /** The size of an imm16/32 immediate: 2 with 66 (unless REX.W), else 4. */
    private static int immZ(Prefixes p) {
        return p.opSize && !p.rexW() ? 2 : 4;
    }

    private static void noPrefixesBeforeVex(Reader in, Prefixes p, String what) throws X86DecodeException {
        if (p.rex != 0 || p.opSize || p.rep != 0 || p.lock) throw in.fail(what + " after a REX, 66, F2, F3 or F0 prefix");
    }

    /** VEX: C5 (map 0F implied) or C4 (map in its first payload byte), then opcode and ModRM. */
    private static X86Insn vex(Reader in, Prefixes p, int first) throws X86DecodeException {
        noPrefixesBeforeVex(in, p, "VEX");
        int map;
        if (first == 0xc5) {
            in.next(); // R vvvv L pp
            map = MAP_0F;
        } else {
            map = in.next() & 0x1f; // R X B mmmmm
            in.next(); // W vvvv L pp
        }
        int op = in.next();
        return vectorOp(in, p, map, op, "VEX");
    }

    /** EVEX: 62, three payload bytes (the map in the first), then opcode and ModRM. */
    private static X86Insn evex(Reader in, Prefixes p) throws X86DecodeException {
        noPrefixesBeforeVex(in, p, "EVEX");
        int p0 = in.next();
        int p1 = in.next();
        in.next();
        if ((p1 & 0x04) == 0) throw in.fail("EVEX with its fixed bit clear");
        int map = p0 & 0x07;
        int op = in.next();
        return vectorOp(in, p, map, op, "EVEX");
    }

    /** XOP (AMD): 8F with a map of 8 or more, two payload bytes, then opcode and ModRM. */
    private static X86Insn xop(Reader in, Prefixes p) throws X86DecodeException {
        noPrefixesBeforeVex(in, p, "XOP");
        int map = in.next() & 0x1f;
        in.next();
        int op = in.next();
        return vectorOp(in, p, map, op, "XOP");
    }

    /** The opcode and operands of a VEX, EVEX or XOP instruction in the map given. */
    private static X86Insn vectorOp(Reader in, Prefixes p, int map, int op, String what) throws X86DecodeException {
        int imm;
        switch (map) {
            case MAP_0F -> {
                if (op == 0x77) return done(in, -1, Branch.NONE, -1); // VZEROUPPER, VZEROALL
                imm = TWO_BYTE.charAt(op) == 'm' ? 1 : 0;
            }
            case MAP_0F38, MAP_XOP9 -> imm = 0;
            case MAP_0F3A, MAP_XOP8 -> imm = 1;
            case MAP_XOPA -> imm = 4;
            case MAP_FP16_5, MAP_FP16_6 -> {
                if (!what.equals("EVEX")) throw in.fail(what + " map " + map + " is undefined");
                imm = 0;
            }
            default -> throw in.fail(what + " map " + map + " is undefined");
        }
        if (what.equals("XOP") && map < MAP_XOP8 || !what.equals("XOP") && map >= MAP_XOP8) throw in.fail(what + " map " + map + " is undefined");
        int rip = modrm(in, false);
        in.immediate(imm);
        return done(in, rip, Branch.NONE, -1);
    }

    /**
     * Reads a ModRM byte and the SIB byte and displacement it calls for. Returns the offset of a
     * RIP-relative disp32 in the instruction, else -1 (with 67 it is EIP-relative, of the same
     * form). 32-bit addressing (67) has the same ModRM and SIB forms as 64-bit addressing.
     * {@code registersOnly}: the ModRM names two registers whatever its mod says (MOV to and from
     * control and debug registers).
     */
    private static int modrm(Reader in, boolean registersOnly) throws X86DecodeException {
        int modrm = in.next();
        int mod = modrm >> 6;
        int rm = modrm & 7;
        if (registersOnly || mod == 3) return -1;
        if (rm == 4) { // SIB
            int sib = in.next();
            if (mod == 0 && (sib & 7) == 5) in.skip(4);
        } else if (mod == 0 && rm == 5) {
            int at = in.offset();
            in.skip(4);
            return at; // RIP-relative (EIP-relative with 67)
        }
        if (mod == 1) in.skip(1);
        else if (mod == 2) in.skip(4);
        return -1;
    }

    private static X86Insn done(Reader in, int ripDisp, Branch branch, int rel) {
        return new X86Insn(in.offset(), ripDisp, branch, rel, in.immediateBytes);
    }

    private static String hex(int b) {
        return String.format("%02X", b);
    }
}
