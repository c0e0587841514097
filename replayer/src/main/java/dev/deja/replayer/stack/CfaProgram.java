package dev.deja.replayer.stack;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * The DWARF call frame instructions of a CIE and an FDE run up to an address: the row of the CFI
 * table that holds there (DWARF 4, section 6.4.2), with the x86-64 register numbers of the psABI
 * (0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15, 16 the return address).
 */
public final class CfaProgram {
    /** Registers tracked: 0..16. */
    public static final int REGISTERS = 17;
    public static final int RSP = 7;
    public static final int RBP = 6;
    public static final int RA = 16;

    /** How a register of the caller is found. */
    public enum Kind { SAME, UNDEFINED, OFFSET, VAL_OFFSET, REGISTER, EXPRESSION, VAL_EXPRESSION }

    /** One register's rule: {@code value} is the offset or the other register; {@code expression} the DWARF block. */
    public record Rule(Kind kind, long value, byte[] expression) {
        static final Rule SAME_VALUE = new Rule(Kind.SAME, 0, null);

        @Override
        public boolean equals(Object o) {
            return o instanceof Rule r && r.kind == kind && r.value == value && Arrays.equals(r.expression, expression);
        }

        @Override
        public int hashCode() {
            return kind.hashCode() * 31 + Long.hashCode(value);
        }

        @Override
        public String toString() {
            return switch (kind) {
                case SAME -> "s";
                case UNDEFINED -> "u";
                case OFFSET -> "c" + (value >= 0 ? "+" : "") + value;
                case VAL_OFFSET -> "v" + (value >= 0 ? "+" : "") + value;
                case REGISTER -> "r" + value;
                case EXPRESSION -> "exp";
                case VAL_EXPRESSION -> "vexp";
            };
        }
    }

    /**
     * A row: the CFA is register {@code cfaRegister} plus {@code cfaOffset}, or {@code cfaExpression}
     * when not null; {@code rules} by register number.
     */
    public record Row(int cfaRegister, long cfaOffset, byte[] cfaExpression, Rule[] rules) {
        public Rule rule(int reg) {
            return reg < rules.length ? rules[reg] : Rule.SAME_VALUE;
        }

        /** As readelf --debug-dump=frames-interp prints a row's CFA: {@code rsp+8}, {@code exp}. */
        public String cfaText() {
            return cfaExpression != null ? "exp" : regName(cfaRegister) + (cfaOffset >= 0 ? "+" : "") + cfaOffset;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Row r && r.cfaRegister == cfaRegister && r.cfaOffset == cfaOffset
                    && Arrays.equals(r.cfaExpression, cfaExpression) && Arrays.equals(r.rules, rules);
        }

        @Override
        public int hashCode() {
            return cfaRegister * 31 + Long.hashCode(cfaOffset);
        }

        @Override
        public String toString() {
            return "Row[cfa=" + cfaText() + ", ra=" + rule(RA) + ", rbp=" + rule(RBP) + "]";
        }
    }

    private static final String[] NAMES = {"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10",
        "r11", "r12", "r13", "r14", "r15", "rip"};

    static String regName(int reg) {
        return reg >= 0 && reg < NAMES.length ? NAMES[reg] : "r" + reg;
    }

    private CfaProgram() {
    }

    /** The row for unrelocated address {@code pc} inside {@code fde}. */
    public static Row rowAt(CallFrameInfo cfi, CallFrameInfo.Fde fde, long pc) {
        CallFrameInfo.Cie cie = fde.cie();
        State initial = new State();
        run(cfi, cie, cie.instructionsAt(), cie.instructionsEnd(), initial, null, Long.MIN_VALUE, Long.MAX_VALUE);
        State s = initial.copy();
        run(cfi, cie, fde.instructionsAt(), fde.instructionsEnd(), s, initial, fde.start(), pc);
        return new Row(s.cfaRegister, s.cfaOffset, s.cfaExpression, s.rules.clone());
    }

    private static final class State {
        int cfaRegister = RSP;
        long cfaOffset;
        byte[] cfaExpression;
        Rule[] rules = new Rule[REGISTERS];

        State() {
            Arrays.fill(rules, Rule.SAME_VALUE);
        }

        State copy() {
            State c = new State();
            c.cfaRegister = cfaRegister;
            c.cfaOffset = cfaOffset;
            c.cfaExpression = cfaExpression;
            c.rules = rules.clone();
            return c;
        }

        void set(int reg, Rule r) {
            if (reg >= 0 && reg < REGISTERS) rules[reg] = r; // vector and x87 registers: not tracked
        }
    }

    /**
     * Runs instructions [from, to) from location {@code loc} until the location passes {@code pc};
     * {@code initial} is the CIE's state (for DW_CFA_restore), null while running the CIE itself.
     */
    private static void run(CallFrameInfo cfi, CallFrameInfo.Cie cie, int from, int to, State s, State initial, long loc, long pc) {
        CallFrameInfo.Reader r = new CallFrameInfo.Reader(cfi.ehFrame(), from, 0);
        Deque<State> remembered = new ArrayDeque<>();
        long da = cie.dataAlign();
        long ca = cie.codeAlign();
        while (r.at < to) {
            int op = r.u8();
            int high = op & 0xc0;
            int low = op & 0x3f;
            if (high == 0x40) { // DW_CFA_advance_loc
                loc += low * ca;
                if (loc > pc) return;
                continue;
            }
            if (high == 0x80) { // DW_CFA_offset
                s.set(low, new Rule(Kind.OFFSET, r.uleb() * da, null));
                continue;
            }
            if (high == 0xc0) { // DW_CFA_restore
                s.set(low, initial == null ? Rule.SAME_VALUE : initial.rules[Math.min(low, REGISTERS - 1)]);
                continue;
            }
            switch (op) {
                case 0x00 -> { } // nop
                case 0x01 -> { // set_loc
                    loc = r.pointer(cie.fdeEncoding(), 0);
                    if (loc > pc) return;
                }
                case 0x02, 0x03, 0x04 -> { // advance_loc1/2/4
                    long delta = op == 0x02 ? r.u8() : op == 0x03 ? r.u16() : r.u32();
                    loc += delta * ca;
                    if (loc > pc) return;
                }
                case 0x05 -> { // offset_extended
                    int reg = (int) r.uleb();
                    s.set(reg, new Rule(Kind.OFFSET, r.uleb() * da, null));
                }
                case 0x06 -> { // restore_extended
                    int reg = (int) r.uleb();
                    s.set(reg, initial == null || reg >= REGISTERS ? Rule.SAME_VALUE : initial.rules[reg]);
                }
                case 0x07 -> s.set((int) r.uleb(), new Rule(Kind.UNDEFINED, 0, null));
                case 0x08 -> s.set((int) r.uleb(), Rule.SAME_VALUE);
                case 0x09 -> {
                    int reg = (int) r.uleb();
                    s.set(reg, new Rule(Kind.REGISTER, r.uleb(), null));
                }
                case 0x0a -> remembered.push(s.copy());
                case 0x0b -> {
                    if (remembered.isEmpty()) throw new ElfException("DW_CFA_restore_state without a remembered state");
                    State back = remembered.pop();
                    // The CFA is not part of the remembered rules in GCC's use, but DWARF 4 saves the whole row.
                    s.cfaRegister = back.cfaRegister;
                    s.cfaOffset = back.cfaOffset;
                    s.cfaExpression = back.cfaExpression;
                    s.rules = back.rules;
                }
                case 0x0c -> { // def_cfa
                    s.cfaRegister = (int) r.uleb();
                    s.cfaOffset = r.uleb();
                    s.cfaExpression = null;
                }
                case 0x0d -> {
                    s.cfaRegister = (int) r.uleb();
                    s.cfaExpression = null;
                }
                case 0x0e -> s.cfaOffset = r.uleb();
                case 0x0f -> s.cfaExpression = r.block((int) r.uleb());
                case 0x10 -> {
                    int reg = (int) r.uleb();
                    s.set(reg, new Rule(Kind.EXPRESSION, 0, r.block((int) r.uleb())));
                }
                case 0x11 -> {
                    int reg = (int) r.uleb();
                    s.set(reg, new Rule(Kind.OFFSET, r.sleb() * da, null));
                }
                case 0x12 -> { // def_cfa_sf
                    s.cfaRegister = (int) r.uleb();
                    s.cfaOffset = r.sleb() * da;
                    s.cfaExpression = null;
                }
                case 0x13 -> s.cfaOffset = r.sleb() * da;
                case 0x14 -> {
                    int reg = (int) r.uleb();
                    s.set(reg, new Rule(Kind.VAL_OFFSET, r.uleb() * da, null));
                }
                case 0x15 -> {
                    int reg = (int) r.uleb();
                    s.set(reg, new Rule(Kind.VAL_OFFSET, r.sleb() * da, null));
                }
                case 0x16 -> {
                    int reg = (int) r.uleb();
                    s.set(reg, new Rule(Kind.VAL_EXPRESSION, 0, r.block((int) r.uleb())));
                }
                case 0x2e -> r.uleb(); // GNU_args_size: the CFA does not depend on it
                case 0x2f -> { // GNU_negative_offset_extended
                    int reg = (int) r.uleb();
                    s.set(reg, new Rule(Kind.OFFSET, -r.uleb() * da, null));
                }
                default -> throw new ElfException("unknown call frame instruction 0x" + Integer.toHexString(op));
            }
        }
    }
}
