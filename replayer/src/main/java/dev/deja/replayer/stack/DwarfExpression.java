package dev.deja.replayer.stack;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalLong;

/**
 * The DWARF expressions call frame information uses (DWARF 4, section 2.5): the stack operations,
 * constants, {@code DW_OP_bregN} and {@code DW_OP_deref}, as glibc's PLT entries
 * ({@code rsp+8 + ((rip&15)>=11)<<3}) and signal trampolines ({@code *(rsp+160)}) write them.
 * Anything else makes the value unknown, never a wrong one.
 */
final class DwarfExpression {
    /** What an expression may read: a register (empty when unknown) and 8 bytes of memory. */
    interface Context {
        OptionalLong register(int dwarfRegister);

        OptionalLong memory(long address);
    }

    private DwarfExpression() {
    }

    /** Evaluates {@code code} with {@code initial} pushed first (the CFA for a register rule), if not null. */
    static OptionalLong evaluate(byte[] code, Long initial, Context c) {
        ByteBuffer b = ByteBuffer.wrap(code).order(ByteOrder.LITTLE_ENDIAN);
        CallFrameInfo.Reader r = new CallFrameInfo.Reader(b, 0, 0);
        Stack st = new Stack();
        if (initial != null) st.push(initial);
        try {
            while (r.at < code.length) {
                int op = r.u8();
                if (op >= 0x30 && op <= 0x4f) { // lit0..lit31
                    st.push((long) (op - 0x30));
                    continue;
                }
                if (op >= 0x70 && op <= 0x8f) { // breg0..breg31
                    OptionalLong v = c.register(op - 0x70);
                    long off = r.sleb();
                    if (v.isEmpty()) return OptionalLong.empty();
                    st.push(v.getAsLong() + off);
                    continue;
                }
                switch (op) {
                    case 0x06 -> { // deref
                        OptionalLong v = c.memory(st.pop());
                        if (v.isEmpty()) return OptionalLong.empty();
                        st.push(v.getAsLong());
                    }
                    case 0x08 -> st.push((long) r.u8());
                    case 0x09 -> st.push((long) (byte) r.u8());
                    case 0x0a -> st.push((long) r.u16());
                    case 0x0b -> st.push((long) (short) r.u16());
                    case 0x0c -> st.push(r.u32());
                    case 0x0d -> st.push((long) (int) r.u32());
                    case 0x0e, 0x0f -> st.push(r.u64());
                    case 0x10 -> st.push(r.uleb());
                    case 0x11 -> st.push(r.sleb());
                    case 0x12 -> st.push(st.peek());
                    case 0x13 -> st.pop();
                    case 0x14 -> { // over
                        long a = st.pop();
                        long below = st.peek();
                        st.push(a);
                        st.push(below);
                    }
                    case 0x16 -> {
                        long a = st.pop();
                        long b2 = st.pop();
                        st.push(a);
                        st.push(b2);
                    }
                    case 0x1a -> st.push(st.pop() & st.pop());
                    case 0x1c -> {
                        long a = st.pop();
                        st.push(st.pop() - a);
                    }
                    case 0x1e -> st.push(st.pop() * st.pop());
                    case 0x21 -> st.push(st.pop() | st.pop());
                    case 0x22 -> st.push(st.pop() + st.pop());
                    case 0x23 -> st.push(st.pop() + r.uleb());
                    case 0x24 -> {
                        long a = st.pop();
                        st.push(st.pop() << a);
                    }
                    case 0x25 -> {
                        long a = st.pop();
                        st.push(st.pop() >>> a);
                    }
                    case 0x27 -> st.push(st.pop() ^ st.pop());
                    case 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e -> {
                        long a = st.pop();
                        long b2 = st.pop();
                        boolean v = switch (op) {
                            case 0x29 -> b2 == a;
                            case 0x2a -> b2 >= a;
                            case 0x2b -> b2 > a;
                            case 0x2c -> b2 <= a;
                            case 0x2d -> b2 < a;
                            default -> b2 != a;
                        };
                        st.push(v ? 1L : 0L);
                    }
                    case 0x96 -> { } // nop
                    default -> {
                        return OptionalLong.empty();
                    }
                }
            }
        } catch (Malformed | IndexOutOfBoundsException e) {
            return OptionalLong.empty(); // a stack underflow, a truncated operand: the value is unknown
        }
        return st.size == 0 ? OptionalLong.empty() : OptionalLong.of(st.peek());
    }

    /** An expression that pops more than it pushed. */
    private static final class Malformed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Malformed() {
            super("DWARF expression stack underflow", null, false, false);
        }
    }

    /** The expression stack (DWARF 4, 2.5.1): 64 entries are more than any CFI expression needs. */
    private static final class Stack {
        private final long[] values = new long[64];
        int size;

        void push(long v) {
            if (size == values.length) throw new Malformed();
            values[size++] = v;
        }

        long pop() {
            if (size == 0) throw new Malformed();
            return values[--size];
        }

        long peek() {
            if (size == 0) throw new Malformed();
            return values[size - 1];
        }
    }
}
