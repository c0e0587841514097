package dev.deja.device.x86;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Answers a replayed thread's next calls at one {@code syscall} instruction from a buffer, without
 * stopping it: the instruction (with a few plain instructions around it, to make room for a
 * {@code jmp rel32}) is replaced by a jump to this stub, which compares the call's number and scalar
 * arguments with the buffer's next entry and, when they are the entry's, copies the entry's output
 * bytes to where the call's pointer arguments say, puts its result in rax and goes on as the kernel
 * would have: rcx holds the address after the syscall instruction, r11 the flags, which are as they
 * were. Any other call, or one past the buffer's end, is made by the stub's own {@code syscall}
 * instruction, which stops the thread as the program's would have (deja then takes the stub out).
 * The replay's analogue of rr's syscall buffer: a syscall answered here costs a few dozen
 * nanoseconds instead of a ptrace stop.
 *
 * <p>What it uses of the thread: rcx and r11 (which the call clobbers anyway) and, for the flags, 8
 * bytes 136 below the stack pointer (past the red zone, which a signal handler's frame would overwrite
 * too). The stub saves the argument registers and rsi/rdi in its data page while it copies.
 *
 * <p>The buffer's entries are 8-byte words: number, result, length of the entry in bytes, count of
 * output blocks, a byte whose bit i says that argument i is compared, the six arguments, then each
 * block: (argument index * 8, offset from that argument's value, length, bytes padded to 8).
 *
 * @param code           code page, data page, then the buffer: what is written at {@code stubAddress}
 * @param stubAddress    where it goes (within 2 GiB of the program's code)
 * @param syscallAddress the program's {@code syscall} instruction it answers for
 * @param patchAddress   where the patch starts (at or before {@code syscallAddress})
 * @param patch          the bytes written there: {@code jmp rel32} and int3 padding
 * @param realSyscall    the stub's own {@code syscall} instruction, for calls it does not answer
 * @param afterAddress   where a thread returning from the program's call inside the patched bytes goes on
 * @param cursorAddress  the word holding the address of the next entry to answer
 * @param bufferAddress  the first entry
 */
public record AnswerStub(byte[] code, long stubAddress, long syscallAddress, long patchAddress, byte[] patch,
                         long realSyscall, long afterAddress, long cursorAddress, long bufferAddress) {
    public static final int PAGE = 4096;
    /** Entry header: number, result, length, blocks, compare mask, six arguments. */
    public static final int HEADER = 88;
    static final int E_NR = 0;
    static final int E_RESULT = 8;
    static final int E_LENGTH = 16;
    static final int E_BLOCKS = 24;
    static final int E_MASK = 32;
    static final int E_ARGS = 40;
    /** Data slots: the cursor, the buffer's end, the six arguments (in order), the entry, blocks left. */
    private static final int CURSOR = 0;
    private static final int LIMIT = 1;
    private static final int ARG0 = 2;
    private static final int ENTRY = 8;
    private static final int LEFT = 9;
    /** The argument registers in syscall order (rdi rsi rdx r10 r8 r9), hardware numbers. */
    private static final int[] ARG_REGS = {7, 6, 2, 10, 8, 9};

    /** One answer: a call's number, the arguments compared (bit i: argument i), its result and its outputs. */
    public record Entry(int nr, long[] args, int compared, long result, List<Output> outputs) {
        public Entry {
            if (args.length != 6) throw new IllegalArgumentException("six arguments, got " + args.length);
            args = args.clone();
            outputs = List.copyOf(outputs);
        }

        /** Its size in the buffer. */
        public int size() {
            int n = HEADER;
            for (Output o : outputs) n += 24 + padded(o.data().length);
            return n;
        }
    }

    /** Bytes the kernel wrote: at argument {@code arg}'s value plus {@code offset}. */
    public record Output(int arg, long offset, byte[] data) {
        public Output {
            if (arg < 0 || arg > 5) throw new IllegalArgumentException("argument " + arg);
        }
    }

    /** The stub's size for {@code bufferBytes} of entries: code page, data page, the buffer in whole pages. */
    public static long size(int bufferBytes) {
        return 2L * PAGE + ((bufferBytes + PAGE - 1L) & -PAGE);
    }

    /** Where the data page starts. */
    public long dataAddress() {
        return stubAddress + PAGE;
    }

    /**
     * Builds the stub for the {@code syscall} at {@code syscallAddress} in {@code function} (all of the
     * function's code, from {@code functionAddress}) with {@code entries}.
     *
     * @throws GuardStub.Refused when no patch fits: the syscall is not on an instruction boundary, a
     *                           branch lands inside the bytes to patch, or the function ends too soon
     */
    public static AnswerStub build(byte[] function, long functionAddress, long syscallAddress, long stubAddress,
                                   List<Entry> entries) throws GuardStub.Refused {
        int off = (int) (syscallAddress - functionAddress);
        if (off < 0 || off + 2 > function.length || function[off] != 0x0f || function[off + 1] != 0x05) {
            throw new IllegalArgumentException("no syscall instruction at 0x" + Long.toHexString(syscallAddress));
        }
        GuardStub.FunctionScan scan = GuardStub.scan(function, functionAddress, syscallAddress);
        if (scan.indirectJump()) {
            throw new GuardStub.Refused("the function at 0x" + Long.toHexString(functionAddress) + " jumps through a register");
        }
        GuardStub.Refused why = null;
        for (int back = 0; back <= GuardStub.MAX_BEFORE && back < scan.before().size() + 1; back++) {
            long patchAt = back == 0 ? syscallAddress : scan.before().get(scan.before().size() - back);
            try {
                return build(function, functionAddress, patchAt, syscallAddress, stubAddress, scan.targets(), entries);
            } catch (GuardStub.Refused r) {
                if (why == null) why = r;
            }
        }
        throw why;
    }

    private static AnswerStub build(byte[] function, long functionAddress, long patchAt, long syscallAddress, long stubAddress,
                                    java.util.Set<Long> targets, List<Entry> entries) throws GuardStub.Refused {
        byte[] window = Arrays.copyOfRange(function, (int) (patchAt - functionAddress), function.length);
        int covered = 0;
        List<X86Insn> displaced = new ArrayList<>();
        while (covered < GuardStub.JMP_LENGTH || patchAt + covered <= syscallAddress) {
            if (covered >= window.length) {
                throw new GuardStub.Refused("the function ends within 5 bytes of 0x" + Long.toHexString(patchAt));
            }
            X86Insn insn = GuardStub.decode(window, covered);
            boolean theCall = patchAt + covered == syscallAddress;
            switch (insn.branch()) {
                case SYSTEM -> {
                    if (!theCall) throw new GuardStub.Refused("a trap at 0x" + Long.toHexString(patchAt + covered) + " cannot move");
                }
                case CALL_REL32, INDIRECT_CALL -> throw new GuardStub.Refused("a call at 0x"
                        + Long.toHexString(patchAt + covered) + " next to the syscall");
                case LOOP_REL8 -> throw new GuardStub.Refused("a loop/jrcxz at 0x" + Long.toHexString(patchAt + covered) + " cannot move");
                default -> {
                }
            }
            displaced.add(insn);
            covered += insn.length();
        }
        for (long t : targets) {
            if (t > patchAt && t < patchAt + covered) {
                throw new GuardStub.Refused("a branch to 0x" + Long.toHexString(t) + " lands inside the patch at 0x" + Long.toHexString(patchAt));
            }
        }
        long returnAddress = syscallAddress + 2;
        GuardStub.Asm a = new GuardStub.Asm(stubAddress);
        long from = patchAt;
        int i = 0;
        for (; from < syscallAddress; i++) {
            GuardStub.relocate(a, window, (int) (from - patchAt), displaced.get(i), from);
            from += displaced.get(i).length();
        }
        i++; // the syscall itself
        from += 2;
        List<Integer> toReal = new ArrayList<>();
        flagsToR11(a);
        a.ripOp(0x48, 0x8B, 1, CURSOR);                         // mov rcx, [cursor]
        a.ripOp(0x48, 0x3B, 1, LIMIT);                          // cmp rcx, [limit]
        a.bytes(0x0F, 0x83);                                    // jae real
        toReal.add(a.size());
        a.int32(0);
        a.bytes(0x48, 0x3B, 0x41, E_NR);                        // cmp rax, [rcx+nr]
        jne(a, toReal);
        for (int arg = 0; arg < 6; arg++) {
            int reg = ARG_REGS[arg];
            a.bytes(0xF6, 0x41, E_MASK, 1 << arg);              // test byte [rcx+mask], 1<<arg
            int skip = a.size() + 1;
            a.bytes(0x74, 0x00);                                // jz next argument
            a.bytes(reg >= 8 ? 0x4C : 0x48, 0x3B, 0x41 | ((reg & 7) << 3), E_ARGS + 8 * arg); // cmp reg, [rcx+arg]
            jne(a, toReal);
            a.patchRel8(skip, a.size());
        }
        // The entry's: save the arguments (the blocks' addresses come from them) and copy each block.
        for (int arg = 0; arg < 6; arg++) {
            int reg = ARG_REGS[arg];
            a.ripOp(reg >= 8 ? 0x4C : 0x48, 0x89, reg, ARG0 + arg); // mov [argN], reg
        }
        a.ripOp(0x48, 0x89, 1, ENTRY);                          // mov [entry], rcx
        a.bytes(0x48, 0x8B, 0x41, E_BLOCKS);                    // mov rax, [rcx+blocks]
        a.bytes(0x48, 0x8D, 0x71, HEADER);                      // lea rsi, [rcx+HEADER]
        a.bytes(0xFC);                                          // cld (the flags go back from r11 at the end)
        int loop = a.size();
        a.bytes(0x48, 0x85, 0xC0);                              // test rax, rax
        int toDone = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // jz done
        a.int32(0);
        a.ripOp(0x48, 0x89, 0, LEFT);                           // mov [left], rax
        a.bytes(0x48, 0x8B, 0x06);                              // mov rax, [rsi]        (argument * 8)
        a.ripOp(0x48, 0x8D, 7, ARG0);                           // lea rdi, [arg0]
        a.bytes(0x48, 0x8B, 0x3C, 0x07);                        // mov rdi, [rdi+rax]
        a.bytes(0x48, 0x03, 0x7E, 0x08);                        // add rdi, [rsi+8]      (offset)
        a.bytes(0x48, 0x8B, 0x4E, 0x10);                        // mov rcx, [rsi+16]     (length)
        a.bytes(0x48, 0x83, 0xC6, 0x18);                        // add rsi, 24
        a.bytes(0xF3, 0xA4);                                    // rep movsb
        a.bytes(0x48, 0x83, 0xC6, 0x07);                        // add rsi, 7
        a.bytes(0x48, 0x83, 0xE6, 0xF8);                        // and rsi, -8
        a.ripOp(0x48, 0x8B, 0, LEFT);                           // mov rax, [left]
        a.bytes(0x48, 0xFF, 0xC8);                              // dec rax
        a.bytes(0xE9);                                          // jmp loop
        a.int32(loop - (a.size() + 4));
        a.patchRel32(toDone, a.size());
        a.ripOp(0x48, 0x8B, 1, ENTRY);                          // mov rcx, [entry]
        a.bytes(0x48, 0x8B, 0x41, E_RESULT);                    // mov rax, [rcx+result]
        a.bytes(0x48, 0x03, 0x49, E_LENGTH);                    // add rcx, [rcx+length]
        a.ripOp(0x48, 0x89, 1, CURSOR);                         // mov [cursor], rcx
        a.ripOp(0x48, 0x8B, 7, ARG0);                           // mov rdi, [arg0]
        a.ripOp(0x48, 0x8B, 6, ARG0 + 1);                       // mov rsi, [arg1]
        movRcx(a, returnAddress);
        flagsFromR11(a);
        int toAfter = a.size() + 1;
        a.bytes(0xE9);                                          // jmp after
        a.int32(0);
        int real = a.size();
        for (int j : toReal) a.patchRel32(j, real);
        flagsFromR11(a);
        long realSyscall = a.here();
        a.bytes(0x0F, 0x05);                                    // syscall: the program's call, made here
        movRcx(a, returnAddress);
        a.patchRel32(toAfter, a.size());
        long after = a.here();
        for (; i < displaced.size(); i++) {
            GuardStub.relocate(a, window, (int) (from - patchAt), displaced.get(i), from);
            from += displaced.get(i).length();
        }
        a.bytes(0xE9);                                          // jmp back after the patch
        a.int32(GuardStub.rel32(a.here() + 4, patchAt + covered));
        if (a.size() > PAGE) throw new GuardStub.Refused("the stub's code is longer than a page");
        a.align(PAGE);
        int bytes = 0;
        for (Entry e : entries) bytes += e.size();
        long buffer = stubAddress + 2L * PAGE;
        a.place(CURSOR, buffer);
        a.place(LIMIT, buffer + bytes);
        for (int slot = ARG0; slot <= LEFT; slot++) a.place(slot, 0);
        a.align(PAGE);
        byte[] head = a.toArray();
        byte[] code = Arrays.copyOf(head, (int) size(bytes));
        ByteBuffer b = ByteBuffer.wrap(code).order(ByteOrder.LITTLE_ENDIAN);
        b.position(2 * PAGE);
        for (Entry e : entries) put(b, e);

        byte[] patch = new byte[covered];
        Arrays.fill(patch, (byte) 0xCC);
        patch[0] = (byte) 0xE9;
        ByteBuffer.wrap(patch, 1, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(GuardStub.rel32(patchAt + GuardStub.JMP_LENGTH, stubAddress));
        return new AnswerStub(code, stubAddress, syscallAddress, patchAt, patch, realSyscall, after,
                stubAddress + PAGE + 8L * CURSOR, buffer);
    }

    /** How many entries a thread took, from the cursor's value and the entries' sizes; -1 when the cursor is on none's start. */
    public int taken(long cursor, List<Entry> entries) {
        long at = bufferAddress;
        for (int n = 0; n <= entries.size(); n++) {
            if (at == cursor) return n;
            if (n < entries.size()) at += entries.get(n).size();
        }
        return -1;
    }

    /** Whether {@code rip} is in the stub's code. */
    public boolean holds(long rip) {
        return rip >= stubAddress && rip < stubAddress + PAGE;
    }

    private static void put(ByteBuffer b, Entry e) {
        b.putLong(e.nr());
        b.putLong(e.result());
        b.putLong(e.size());
        b.putLong(e.outputs().size());
        b.putLong(e.compared());
        for (long v : e.args()) b.putLong(v);
        for (Output o : e.outputs()) {
            b.putLong(8L * o.arg());
            b.putLong(o.offset());
            b.putLong(o.data().length);
            b.put(o.data());
            b.position(b.position() + padded(o.data().length) - o.data().length);
        }
    }

    private static int padded(int n) {
        return (n + 7) & -8;
    }

    private static void jne(GuardStub.Asm a, List<Integer> toReal) {
        a.bytes(0x0F, 0x85);
        toReal.add(a.size());
        a.int32(0);
    }

    /** movabs rcx, imm64: rcx as the kernel leaves it, the address after the program's syscall; no flags touched. */
    private static void movRcx(GuardStub.Asm a, long value) {
        a.bytes(0x48, 0xB9);
        a.int64(value);
    }

    /** r11 = the flags, as the syscall instruction leaves it: pushfq/pop below the red zone. */
    private static void flagsToR11(GuardStub.Asm a) {
        a.bytes(0x48, 0x8D, 0x64, 0x24, 0x80);                  // lea rsp, [rsp-128]
        a.bytes(0x9C);                                          // pushfq
        a.bytes(0x41, 0x5B);                                    // pop r11
        a.bytes(0x48, 0x8D, 0xA4, 0x24, 0x80, 0x00, 0x00, 0x00); // lea rsp, [rsp+128]
    }

    /** The flags back from r11 (r11 keeps them, as after a syscall). */
    private static void flagsFromR11(GuardStub.Asm a) {
        a.bytes(0x48, 0x8D, 0x64, 0x24, 0x80);                  // lea rsp, [rsp-128]
        a.bytes(0x41, 0x53);                                    // push r11
        a.bytes(0x9D);                                          // popfq
        a.bytes(0x48, 0x8D, 0xA4, 0x24, 0x80, 0x00, 0x00, 0x00); // lea rsp, [rsp+128]
    }
}
