package dev.deja.device.x86;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers a replayed thread's next calls at one {@code syscall} instruction from a buffer, without
 * stopping it: the instruction (with a few plain instructions around it, to make room for a
 * {@code jmp rel32}) is replaced by a jump to this stub, which compares the call's number and scalar
 * arguments with the buffer's next entry, and the bytes its pointer arguments point to with the entry's
 * inputs (a path, with its NUL), and when they are the entry's, copies the entry's output
 * bytes to where the call's pointer arguments say, puts its result in rax and goes on as the kernel
 * would have: rcx holds the address after the syscall instruction, r11 the flags, which are as they
 * were. Any other call, or one past the buffer's end, is made by the stub's own {@code syscall}
 * instruction, which stops the thread as the program's would have (deja then takes the stub out).
 * The replay's analogue of rr's syscall buffer: a syscall answered here costs a few dozen
 * nanoseconds instead of a ptrace stop.
 *
 * <p>What it uses of the thread: rcx and r11 (which the call clobbers anyway). It reads and puts back
 * the flags with pushfq/popfq on a stack of its own (the top of the data page): the program's stack,
 * below its pointer too, stays as it was, since a recorded point's stack hash covers the red zone (a
 * JVM thread's point right after a stretch was never found when the flags went below its stack). The
 * stub saves the argument registers and rsi/rdi in the data page while it copies. Stubs of
 * several syscall instructions share one data page and buffer ({@link #data}): a thread's calls come
 * from the wrappers of each call, and the entries are in the order it makes them.
 *
 * <p>The buffer's entries are 8-byte words: number, result, length of the entry in bytes, count of
 * output blocks, a byte whose bit i says that argument i is compared (bit 6: the call is performed,
 * {@link Entry#performed}; bit 7: with arguments of its own, {@link Entry#call}), the six arguments, count of input
 * blocks, then each input block and each output block: (argument index * 8, offset from that argument's
 * value, length (above 0), bytes padded to 8), then the call's own six arguments when bit 7 is set.
 *
 * @param code           the stub's code, to be written at {@code codeAddress}
 * @param codeAddress    where it goes (within 2 GiB of the program's code and of the data page)
 * @param syscallAddress the program's {@code syscall} instruction it answers for
 * @param patchAddress   where the patch starts (at or before {@code syscallAddress})
 * @param patch          the bytes written there: {@code jmp rel32} and int3 padding
 * @param realSyscall    the stub's own {@code syscall} instruction, for calls it does not answer
 * @param afterAddress   where a thread returning from the program's call inside the patched bytes goes on
 */
public record AnswerStub(byte[] code, long codeAddress, long syscallAddress, long patchAddress, byte[] patch,
                         long realSyscall, long afterAddress) {
    public static final int PAGE = 4096;
    /** Entry header: number, result, length, output blocks, compare mask, six arguments, input blocks. */
    public static final int HEADER = 96;
    static final int E_NR = 0;
    static final int E_RESULT = 8;
    static final int E_LENGTH = 16;
    static final int E_BLOCKS = 24;
    static final int E_MASK = 32;
    static final int E_ARGS = 40;
    static final int E_INPUTS = 88;
    /** Words of the data page: the cursor (the next entry's address), the buffer's end, the six arguments (in order), the entry, blocks left. */
    private static final int CURSOR = 0;
    private static final int LIMIT = 1;
    private static final int ARG0 = 2;
    private static final int ENTRY = 8;
    private static final int LEFT = 9;
    /** The program's stack pointer while the stub uses its own stack, whose top is the data page's end. */
    private static final int SAVE_RSP = 10;
    /** A performed call's marker (r9 while the stub makes it), and rsi and r11 kept across it. */
    private static final int MARKER = 11;
    private static final int SAVE_RSI = 12;
    private static final int SAVE_R11 = 13;
    /** The marker's high half (its low half zero): OR-ed into the fifth argument of a call made with its own arguments. */
    private static final int MARKER_HIGH = 14;
    /** The compare mask's bit saying the entry's call is made for real, in the stub ({@link Entry#performed}). */
    static final int PERFORMED = 1 << 6;
    /** The compare mask's bit saying the performed call is made with the entry's own arguments ({@link Entry#call}). */
    static final int OWN_ARGS = 1 << 7;
    /**
     * The calls an entry may be {@link Entry#performed} for: each acts on the process alone (its memory map, its
     * signal actions) and has no sixth argument, where the marker goes; the replay's filter lets them through.
     */
    public static final List<String> PERFORMABLE = List.of("brk", "mprotect", "munmap", "rt_sigaction");
    /** The argument registers in syscall order (rdi rsi rdx r10 r8 r9), hardware numbers. */
    private static final int[] ARG_REGS = {7, 6, 2, 10, 8, 9};

    /**
     * One answer: a call's number, the arguments compared (bit i: argument i), the bytes its pointer
     * arguments must point to, its result and its outputs. A {@code performed} call (one that acts on the
     * process alone: its memory map, its signal actions) is made for real by the stub once it matched,
     * with the marker the replay's filter lets through; its result must then be the entry's, or the stub
     * makes it again at its own syscall instruction, where deja sees the live result at a stop (the calls
     * given so are the same when made twice); its outputs are then the entry's, as at a stop. A performed
     * call with a {@code call} of its own is made with those six arguments instead of the program's (the
     * marker's high half OR-ed into the fifth, which must fit in 32 bits): the replay's form of the call, a
     * private mmap at the recorded address (mmap has a sixth argument; the kernel reads its descriptor as 32
     * bits, and the replay's filter lets it through only when private, so it writes to no file).
     */
    public record Entry(int nr, long[] args, int compared, List<Block> inputs, long result, List<Block> outputs,
                        boolean performed, long[] call) {
        public Entry(int nr, long[] args, int compared, List<Block> inputs, long result, List<Block> outputs) {
            this(nr, args, compared, inputs, result, outputs, false, null);
        }

        public Entry(int nr, long[] args, int compared, List<Block> inputs, long result, List<Block> outputs,
                     boolean performed) {
            this(nr, args, compared, inputs, result, outputs, performed, null);
        }

        public Entry {
            if (args.length != 6) throw new IllegalArgumentException("six arguments, got " + args.length);
            if ((compared & ~0x3f) != 0) throw new IllegalArgumentException("compare mask 0x" + Integer.toHexString(compared));
            if (call != null && (!performed || call.length != 6 || (call[4] >>> 32) != 0)) {
                throw new IllegalArgumentException("a call of its own is six arguments of a performed call, the fifth of 32 bits");
            }
            args = args.clone();
            call = call == null ? null : call.clone();
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
            for (Block b : inputs) if (b.data().length == 0) throw new IllegalArgumentException("an empty input block");
        }

        /** Its size in the buffer. */
        public int size() {
            int n = HEADER;
            for (Block b : inputs) n += 24 + padded(b.data().length);
            for (Block b : outputs) n += 24 + padded(b.data().length);
            return call == null ? n : n + 48;
        }
    }

    /** Bytes at argument {@code arg}'s value plus {@code offset}: the call's input there, or what the kernel wrote. */
    public record Block(int arg, long offset, byte[] data) {
        public Block {
            if (arg < 0 || arg > 5) throw new IllegalArgumentException("argument " + arg);
        }
    }

    /** The size of the data page and the buffer of {@code entries}, in whole pages. */
    public static long dataSize(List<Entry> entries) {
        long bytes = 0;
        for (Entry e : entries) bytes += e.size();
        return PAGE + ((bytes + PAGE - 1) & -PAGE);
    }

    /** The data page and the buffer of {@code entries}, for {@code dataAddress}: the cursor at the first entry. */
    public static byte[] data(long dataAddress, List<Entry> entries) {
        return data(dataAddress, entries, 0);
    }

    /** As {@link #data(long, List)}, with the {@code marker} performed calls carry in r9. */
    public static byte[] data(long dataAddress, List<Entry> entries, long marker) {
        byte[] data = new byte[(int) dataSize(entries)];
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        long bytes = 0;
        for (Entry e : entries) bytes += e.size();
        b.putLong(8 * CURSOR, dataAddress + PAGE);
        b.putLong(8 * LIMIT, dataAddress + PAGE + bytes);
        b.putLong(8 * MARKER, marker);
        b.putLong(8 * MARKER_HIGH, marker & ~0xffff_ffffL);
        b.position(PAGE);
        for (Entry e : entries) put(b, e);
        return data;
    }

    /** The word holding the address of the next entry to answer. */
    public static long cursorAddress(long dataAddress) {
        return dataAddress + 8 * CURSOR;
    }

    /**
     * Where a thread that faulted in a stub while it copied an entry's outputs (memory the program cannot
     * write: where the kernel would have failed the call with EFAULT) kept the call: the words of the data
     * page from the start, {@link #callAfterFault} reads them.
     */
    public static final int WORDS_READ = 8 * (ENTRY + 1);

    /**
     * The call a thread was answering when it faulted in a stub, from the data page's first
     * {@link #WORDS_READ} bytes and the entry's number: its six arguments (as it made the call) and its
     * number, to make it again at the stub's own syscall instruction, where deja sees it as at a stop.
     * Null when the stub had not saved them (the fault was before the copy).
     */
    public static long[] callAfterFault(byte[] data, long entryNr) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getLong(8 * ENTRY) == 0) return null;
        long[] call = new long[7];
        for (int i = 0; i < 6; i++) call[i] = b.getLong(8 * (ARG0 + i));
        call[6] = entryNr;
        return call;
    }

    /** The data page's word holding the entry being answered (0 before the first). */
    public static long entryWordAddress(long dataAddress) {
        return dataAddress + 8 * ENTRY;
    }

    /** How many of {@code entries} a thread took, from the cursor's value; -1 when the cursor is on no entry's start. */
    public static int taken(long dataAddress, long cursor, List<Entry> entries) {
        long at = dataAddress + PAGE;
        for (int n = 0; n <= entries.size(); n++) {
            if (at == cursor) return n;
            if (n < entries.size()) at += entries.get(n).size();
        }
        return -1;
    }

    /**
     * Builds the stub for the {@code syscall} at {@code syscallAddress} in {@code function} (all of the
     * function's code, from {@code functionAddress}), to run at {@code codeAddress} with its data page
     * at {@code dataAddress}.
     *
     * @throws GuardStub.Refused when no patch fits: the syscall is not on an instruction boundary, a
     *                           branch lands inside the bytes to patch, or the function ends too soon
     */
    public static AnswerStub build(byte[] function, long functionAddress, long syscallAddress, long codeAddress,
                                   long dataAddress) throws GuardStub.Refused {
        SyscallPatch plan = SyscallPatch.plan(function, functionAddress, syscallAddress, false);
        long patchAt = plan.patchAt();
        long returnAddress = syscallAddress + 2;
        GuardStub.Asm a = new GuardStub.Asm(codeAddress);
        StubData d = new StubData(a, dataAddress, SAVE_RSP);
        plan.relocateBefore(a);
        List<Integer> toReal = new ArrayList<>();
        d.flagsToR11();
        d.op(0x48, 0x8B, 1, CURSOR);                         // mov rcx, [cursor]
        d.op(0x48, 0x3B, 1, LIMIT);                          // cmp rcx, [limit]
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
        // Save the arguments (the blocks' addresses come from them) and the entry; compare each input block.
        for (int arg = 0; arg < 6; arg++) {
            int reg = ARG_REGS[arg];
            d.op(reg >= 8 ? 0x4C : 0x48, 0x89, reg, ARG0 + arg); // mov [argN], reg
        }
        d.op(0x48, 0x89, 1, ENTRY);                          // mov [entry], rcx
        a.bytes(0x48, 0x8B, 0x41, E_INPUTS);                    // mov rax, [rcx+inputs]
        a.bytes(0x48, 0x8D, 0x71, HEADER);                      // lea rsi, [rcx+HEADER]
        a.bytes(0xFC);                                          // cld (the flags go back from r11 at the end)
        int inLoop = a.size();
        a.bytes(0x48, 0x85, 0xC0);                              // test rax, rax
        int toInDone = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // jz inputs done
        a.int32(0);
        blockAddress(a, d);
        a.bytes(0xF3, 0xA6);                                    // repe cmpsb (the length is above 0)
        int toInFail = a.size() + 2;
        a.bytes(0x0F, 0x85);                                    // jne: not the entry's call
        a.int32(0);
        nextBlock(a, d);
        a.bytes(0xE9);                                          // jmp inputs loop
        a.int32(inLoop - (a.size() + 4));
        a.patchRel32(toInFail, a.size());
        d.op(0x48, 0x8B, 7, ARG0);                           // mov rdi, [arg0]
        d.op(0x48, 0x8B, 6, ARG0 + 1);                       // mov rsi, [arg1]
        d.op(0x48, 0x8B, 0, ENTRY);                          // mov rax, [entry]
        a.bytes(0x48, 0x8B, 0x40, E_NR);                        // mov rax, [rax+nr]: the call's number, which was equal
        a.bytes(0xE9);                                          // jmp real
        toReal.add(a.size());
        a.int32(0);
        a.patchRel32(toInDone, a.size());
        // A performed call: made here, with the program's arguments and the marker in r9 (none of these calls
        // has a sixth argument); another result than the entry's goes to the stub's own syscall instruction.
        d.op(0x48, 0x8B, 1, ENTRY);                          // mov rcx, [entry]
        a.bytes(0xF6, 0x41, E_MASK, PERFORMED);                 // test byte [rcx+mask], PERFORMED
        int toCopy = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // jz outputs
        a.int32(0);
        d.op(0x48, 0x89, 6, SAVE_RSI);                       // mov [save_rsi], rsi (the first output block)
        d.op(0x4C, 0x89, 11, SAVE_R11);                      // mov [save_r11], r11 (the program's flags)
        a.bytes(0xF6, 0x41, E_MASK, OWN_ARGS);                  // test byte [rcx+mask], OWN_ARGS
        int toOwn = a.size() + 2;
        a.bytes(0x0F, 0x85);                                    // jnz own arguments
        a.int32(0);
        d.op(0x48, 0x8B, 7, ARG0);                           // mov rdi, [arg0]
        d.op(0x48, 0x8B, 6, ARG0 + 1);                       // mov rsi, [arg1]
        d.op(0x4C, 0x8B, 9, MARKER);                         // mov r9, [marker]
        int toCall = a.size() + 1;
        a.bytes(0xE9);                                          // jmp call
        a.int32(0);
        a.patchRel32(toOwn, a.size());
        // The entry's own six arguments, its last 48 bytes; the marker's high half in the fifth's
        a.bytes(0x48, 0x8B, 0x41, E_LENGTH);                    // mov rax, [rcx+length]
        a.bytes(0x48, 0x01, 0xC8);                              // add rax, rcx
        a.bytes(0x48, 0x8B, 0x78, -48 & 0xff);                  // mov rdi, [rax-48]
        a.bytes(0x48, 0x8B, 0x70, -40 & 0xff);                  // mov rsi, [rax-40]
        a.bytes(0x48, 0x8B, 0x50, -32 & 0xff);                  // mov rdx, [rax-32]
        a.bytes(0x4C, 0x8B, 0x50, -24 & 0xff);                  // mov r10, [rax-24]
        a.bytes(0x4C, 0x8B, 0x40, -16 & 0xff);                  // mov r8, [rax-16]
        a.bytes(0x4C, 0x8B, 0x48, -8 & 0xff);                   // mov r9, [rax-8]
        d.op(0x4C, 0x0B, 8, MARKER_HIGH);                    // or r8, [marker_high]
        a.patchRel32(toCall, a.size());
        a.bytes(0x48, 0x8B, 0x41, E_NR);                        // mov rax, [rcx+nr]
        a.bytes(0x0F, 0x05);                                    // syscall (the replay's filter lets it through)
        // The program's arguments back (the kernel keeps rdx, r10 and r8; the entry's own replaced them)
        d.op(0x48, 0x8B, 2, ARG0 + 2);                       // mov rdx, [arg2]
        d.op(0x4C, 0x8B, 10, ARG0 + 3);                      // mov r10, [arg3]
        d.op(0x4C, 0x8B, 8, ARG0 + 4);                       // mov r8, [arg4]
        d.op(0x4C, 0x8B, 9, ARG0 + 5);                       // mov r9, [arg5]: the program's
        d.op(0x4C, 0x8B, 11, SAVE_R11);                      // mov r11, [save_r11]
        d.op(0x48, 0x8B, 1, ENTRY);                          // mov rcx, [entry]
        a.bytes(0x48, 0x3B, 0x41, E_RESULT);                    // cmp rax, [rcx+result]
        int toSame = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // je same
        a.int32(0);
        a.bytes(0x48, 0x8B, 0x41, E_NR);                        // mov rax, [rcx+nr]: made again, seen at a stop
        a.bytes(0xE9);                                          // jmp real
        toReal.add(a.size());
        a.int32(0);
        a.patchRel32(toSame, a.size());
        d.op(0x48, 0x8B, 6, SAVE_RSI);                       // mov rsi, [save_rsi]
        a.patchRel32(toCopy, a.size());
        d.op(0x48, 0x8B, 1, ENTRY);                          // mov rcx, [entry]
        a.bytes(0x48, 0x8B, 0x41, E_BLOCKS);                    // mov rax, [rcx+outputs]; rsi is at the first
        int loop = a.size();
        a.bytes(0x48, 0x85, 0xC0);                              // test rax, rax
        int toDone = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // jz done
        a.int32(0);
        blockAddress(a, d);
        a.bytes(0xF3, 0xA4);                                    // rep movsb
        nextBlock(a, d);
        a.bytes(0xE9);                                          // jmp loop
        a.int32(loop - (a.size() + 4));
        a.patchRel32(toDone, a.size());
        d.op(0x48, 0x8B, 1, ENTRY);                          // mov rcx, [entry]
        a.bytes(0x48, 0x8B, 0x41, E_RESULT);                    // mov rax, [rcx+result]
        a.bytes(0x48, 0x03, 0x49, E_LENGTH);                    // add rcx, [rcx+length]
        d.op(0x48, 0x89, 1, CURSOR);                         // mov [cursor], rcx
        d.op(0x48, 0x8B, 7, ARG0);                           // mov rdi, [arg0]
        d.op(0x48, 0x8B, 6, ARG0 + 1);                       // mov rsi, [arg1]
        movRcx(a, returnAddress);
        d.flagsFromR11();
        int toAfter = a.size() + 1;
        a.bytes(0xE9);                                          // jmp after
        a.int32(0);
        int real = a.size();
        for (int j : toReal) a.patchRel32(j, real);
        d.flagsFromR11();
        long realSyscall = a.here();
        a.bytes(0x0F, 0x05);                                    // syscall: the program's call, made here
        movRcx(a, returnAddress);
        a.patchRel32(toAfter, a.size());
        long after = a.here();
        plan.relocateAfterAndReturn(a);
        if (a.size() > PAGE) throw new GuardStub.Refused("the stub's code is longer than a page");
        byte[] code = a.toArray();

        return new AnswerStub(code, codeAddress, syscallAddress, patchAt, plan.patch(codeAddress), realSyscall, after);
    }

    private static void put(ByteBuffer b, Entry e) {
        b.putLong(e.nr());
        b.putLong(e.result());
        b.putLong(e.size());
        b.putLong(e.outputs().size());
        b.putLong(e.compared() | (e.performed() ? PERFORMED : 0) | (e.call() != null ? OWN_ARGS : 0));
        for (long v : e.args()) b.putLong(v);
        b.putLong(e.inputs().size());
        for (Block o : e.inputs()) put(b, o);
        for (Block o : e.outputs()) put(b, o);
        if (e.call() != null) for (long v : e.call()) b.putLong(v);
    }

    private static void put(ByteBuffer b, Block o) {
        b.putLong(8L * o.arg());
        b.putLong(o.offset());
        b.putLong(o.data().length);
        b.put(o.data());
        b.position(b.position() + padded(o.data().length) - o.data().length);
    }

    private static int padded(int n) {
        return (n + 7) & -8;
    }

    /**
     * With rax the blocks left and rsi at a block: [left] = rax, rdi = the block's address in the program
     * (its argument's value plus its offset), rcx its length, rsi its bytes.
     */
    private static void blockAddress(GuardStub.Asm a, StubData d) throws GuardStub.Refused {
        d.op(0x48, 0x89, 0, LEFT);                           // mov [left], rax
        a.bytes(0x48, 0x8B, 0x06);                              // mov rax, [rsi]        (argument * 8)
        d.op(0x48, 0x8D, 7, ARG0);                           // lea rdi, [arg0]
        a.bytes(0x48, 0x8B, 0x3C, 0x07);                        // mov rdi, [rdi+rax]
        a.bytes(0x48, 0x03, 0x7E, 0x08);                        // add rdi, [rsi+8]      (offset)
        a.bytes(0x48, 0x8B, 0x4E, 0x10);                        // mov rcx, [rsi+16]     (length)
        a.bytes(0x48, 0x83, 0xC6, 0x18);                        // add rsi, 24
    }

    /** After a block's string instruction (rsi past its bytes): rsi to the next block, rax = blocks left. */
    private static void nextBlock(GuardStub.Asm a, StubData d) throws GuardStub.Refused {
        a.bytes(0x48, 0x83, 0xC6, 0x07);                        // add rsi, 7
        a.bytes(0x48, 0x83, 0xE6, 0xF8);                        // and rsi, -8
        d.op(0x48, 0x8B, 0, LEFT);                           // mov rax, [left]
        a.bytes(0x48, 0xFF, 0xC8);                              // dec rax
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


}
