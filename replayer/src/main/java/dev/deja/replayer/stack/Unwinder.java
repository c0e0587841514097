package dev.deja.replayer.stack;

import dev.deja.device.syscall.TraceeMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A stopped thread's call stack, unwound through the {@code .eh_frame} call frame information of
 * the objects its addresses lie in (as gdb and libunwind do), falling back to the frame-pointer
 * chain ({@code rbp}) where there is none (JIT code, a damaged or missing file): such frames, and
 * those found after them, are guesses and say so.
 */
public final class Unwinder {
    /** Frames shown at most: a corrupt stack cannot make the walk endless. */
    public static final int MAX_FRAMES = 256;

    /** How a frame's address was found. */
    public enum How {
        /** The thread's own program counter. */
        REGISTERS,
        /** Through the caller's call frame information. */
        CFI,
        /** From the frame-pointer chain: a guess. */
        FRAME_POINTER,
        /** Through call frame information, but from registers an earlier guess gave. */
        AFTER_GUESS;

        public boolean guessed() {
            return this == FRAME_POINTER || this == AFTER_GUESS;
        }
    }

    /**
     * A frame: its number (0 the innermost), address, where it lies (empty outside any mapping),
     * its symbol (empty when none is known) and how it was found.
     */
    public record Frame(int number, long pc, Optional<ProcessMaps.Placed> where, Optional<ElfFile.SymbolHit> symbol, How how) {
        /** {@code func+0xoff}, or {@code ??}. */
        public String function() {
            return symbol.map(ElfFile.SymbolHit::text).orElse("??");
        }

        /** The object's name (its recorded path in a replay), or {@code ?}. */
        public String object() {
            return where.map(ProcessMaps.Placed::name).orElse("?");
        }

        /**
         * strace -k's line: {@code  > /usr/lib/x86_64-linux-gnu/libc.so.6(read+0xd) [0xf82ad]}
         * (the bracket is the address's offset in the mapped file).
         */
        public String straceLine() {
            if (where.isEmpty()) return String.format(" > unexpected_backtracing_error [0x%x]", pc);
            ProcessMaps.Placed p = where.get();
            String fn = symbol.map(s -> "(" + s.text() + ")").orElse("()");
            return " > " + p.name() + fn + " [0x" + Long.toHexString(p.fileOffset(pc)) + "]";
        }
    }

    /** psABI DWARF register numbers (0..16) to the index in struct user_regs_struct. */
    private static final int[] USER_REGS_INDEX = {10, 12, 11, 5, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0, 16};

    private Unwinder() {
    }

    /**
     * Unwinds from the registers of PTRACE_GETREGS ({@code userRegs}, x86-64 order) through
     * {@code memory} and the objects of {@code space}, at most {@code limit} frames.
     */
    public static List<Frame> unwind(long[] userRegs, TraceeMemory memory, ProcessMaps space, int limit) {
        long[] regs = new long[CfaProgram.REGISTERS];
        boolean[] known = new boolean[CfaProgram.REGISTERS];
        for (int r = 0; r < regs.length; r++) {
            regs[r] = userRegs[USER_REGS_INDEX[r]];
            known[r] = true;
        }
        List<Frame> frames = new ArrayList<>();
        How how = How.REGISTERS;
        boolean guessedBefore = false;
        int max = Math.min(limit, MAX_FRAMES);
        while (frames.size() < max) {
            long pc = regs[CfaProgram.RA];
            int number = frames.size();
            // A caller's pc is a return address: the call lies before it (a call that ends a function
            // returns past its end), so its function and CFI row are looked up one byte earlier.
            long lookup = number == 0 ? pc : pc - 1;
            Optional<ProcessMaps.Placed> where = space.place(lookup);
            Optional<ElfFile.SymbolHit> symbol = where.filter(p -> p.elf() != null)
                    .flatMap(p -> p.elf().symbolAt(lookup - p.bias()))
                    .map(h -> new ElfFile.SymbolHit(h.symbol(), pc - where.get().bias() - h.symbol().address(), h.contained()));
            frames.add(new Frame(number, pc, where, symbol, how));
            if (frames.size() >= max) break;
            long sp = regs[CfaProgram.RSP];
            Step next = cfiStep(regs, known, memory, where, lookup);
            if (next == Step.END) break;
            if (next == null) {
                next = framePointerStep(regs, known, memory);
                if (next == null) break;
                how = How.FRAME_POINTER;
                guessedBefore = true;
            } else {
                how = guessedBefore ? How.AFTER_GUESS : How.CFI;
            }
            regs = next.regs;
            known = next.known;
            long newPc = regs[CfaProgram.RA];
            // The stack grows down: a caller's frame lies above; anything else is a broken chain.
            if (!known[CfaProgram.RA] || newPc == 0 || Long.compareUnsigned(regs[CfaProgram.RSP], sp) <= 0) break;
        }
        return frames;
    }

    private record Step(long[] regs, boolean[] known) {
        static final Step END = new Step(new long[0], new boolean[0]);
    }

    /** One step through CFI; null when there is none for {@code lookup}, END at the outermost frame. */
    private static Step cfiStep(long[] regs, boolean[] known, TraceeMemory memory, Optional<ProcessMaps.Placed> where, long lookup) {
        if (where.isEmpty() || where.get().elf() == null) return null;
        ProcessMaps.Placed p = where.get();
        CfaProgram.Row row;
        try {
            CallFrameInfo cfi = p.elf().callFrameInfo();
            Optional<CallFrameInfo.Fde> fde = cfi.find(lookup - p.bias());
            if (fde.isEmpty()) return null;
            row = CfaProgram.rowAt(cfi, fde.get(), lookup - p.bias());
        } catch (ElfException | IndexOutOfBoundsException e) {
            return null; // damaged CFI: the frame pointer may still lead on
        }
        DwarfExpression.Context ctx = context(regs, known, memory);
        long cfa;
        if (row.cfaExpression() != null) {
            OptionalLong v = DwarfExpression.evaluate(row.cfaExpression(), null, ctx);
            if (v.isEmpty()) return null;
            cfa = v.getAsLong();
        } else {
            if (row.cfaRegister() >= CfaProgram.REGISTERS || !known[row.cfaRegister()]) return null;
            cfa = regs[row.cfaRegister()] + row.cfaOffset();
        }
        if (row.rule(CfaProgram.RA).kind() == CfaProgram.Kind.UNDEFINED) return Step.END; // _start, clone's child
        long[] out = regs.clone();
        boolean[] ok = known.clone();
        for (int r = 0; r < CfaProgram.REGISTERS; r++) {
            CfaProgram.Rule rule = row.rule(r);
            OptionalLong v = switch (rule.kind()) {
                case SAME -> known[r] ? OptionalLong.of(regs[r]) : OptionalLong.empty();
                case UNDEFINED -> OptionalLong.empty();
                case OFFSET -> read64(memory, cfa + rule.value());
                case VAL_OFFSET -> OptionalLong.of(cfa + rule.value());
                case REGISTER -> rule.value() < CfaProgram.REGISTERS && known[(int) rule.value()]
                        ? OptionalLong.of(regs[(int) rule.value()]) : OptionalLong.empty();
                case EXPRESSION -> {
                    OptionalLong at = DwarfExpression.evaluate(rule.expression(), cfa, ctx);
                    yield at.isEmpty() ? at : read64(memory, at.getAsLong());
                }
                case VAL_EXPRESSION -> DwarfExpression.evaluate(rule.expression(), cfa, ctx);
            };
            ok[r] = v.isPresent();
            out[r] = v.orElse(0);
        }
        if (!ok[CfaProgram.RA]) return null;
        out[CfaProgram.RSP] = cfa;
        ok[CfaProgram.RSP] = true;
        return new Step(out, ok);
    }

    /** One step along the rbp chain: [rbp] is the caller's rbp, [rbp+8] the return address. */
    private static Step framePointerStep(long[] regs, boolean[] known, TraceeMemory memory) {
        long rbp = regs[CfaProgram.RBP];
        if (!known[CfaProgram.RBP] || rbp == 0 || (rbp & 7) != 0 || Long.compareUnsigned(rbp, regs[CfaProgram.RSP]) < 0) return null;
        OptionalLong callerRbp = read64(memory, rbp);
        OptionalLong ra = read64(memory, rbp + 8);
        if (callerRbp.isEmpty() || ra.isEmpty()) return null;
        long[] out = regs.clone();
        boolean[] ok = known.clone();
        out[CfaProgram.RBP] = callerRbp.getAsLong();
        out[CfaProgram.RA] = ra.getAsLong();
        out[CfaProgram.RSP] = rbp + 16;
        return new Step(out, ok);
    }

    private static DwarfExpression.Context context(long[] regs, boolean[] known, TraceeMemory memory) {
        return new DwarfExpression.Context() {
            @Override
            public OptionalLong register(int r) {
                return r < CfaProgram.REGISTERS && known[r] ? OptionalLong.of(regs[r]) : OptionalLong.empty();
            }

            @Override
            public OptionalLong memory(long address) {
                return read64(memory, address);
            }
        };
    }

    static OptionalLong read64(TraceeMemory memory, long address) {
        byte[] b = new byte[8];
        if (memory.read(address, b, 0, 8) != 8) return OptionalLong.empty();
        return OptionalLong.of(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }
}
