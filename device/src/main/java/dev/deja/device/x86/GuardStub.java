package dev.deja.device.x86;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A conditional breakpoint that runs in the traced thread: the instructions at an address
 * {@code A} are replaced by a {@code jmp rel32} to a stub that compares every general register
 * and the stack pointer with a recorded state (a register whose recorded value may be cpuid leaf 1's
 * EBX without its APIC ID bytes, {@link CpuidLeaf1}), traps ({@code int3}) only when all are equal, and
 * otherwise executes the displaced instructions, relocated, and jumps back. A loop that passes
 * {@code A} millions of times then costs a few nanoseconds a turn instead of a ptrace stop
 * (about 35 µs) each, and the thread stops once, at the state deja looks for.
 *
 * <p>The stub leaves the flags as they were and only reads the stack (the hash of the stack, red
 * zone included, is part of the state compared): it keeps rcx and rdx in its own data page while it
 * runs, and compares each register by adding the negated recorded value with {@code lea} (which
 * leaves the flags) and testing the sum with {@code jrcxz}. With a {@link StackCheck}, once the
 * registers match it hashes the stack window itself, the flags saved around the hash, and the
 * windows of a point's memory witness ({@link WordCheck}s: the first level before the stack, the
 * second after it). A fault in one of those reads leaves what the thread had in the stub's page
 * ({@link #faultRegisters}), for deja to send it on as if the hash had differed.
 *
 * <p>What it assumes: no branch lands inside the patched bytes after {@code A}. The whole function
 * around {@code A} (its bounds from the module's {@code .eh_frame_hdr}) is decoded from its start:
 * the decoding must reach {@code A} on an instruction boundary and no direct branch of the function
 * may target the patched bytes past {@code A}. A function that jumps through a register or memory
 * anywhere (a switch's table, a computed jump into unrolled code) gets a patch of the one instruction
 * at {@code A} only, which must be 5 bytes or longer; an indirect jump right after a pop, {@code leave}
 * or an add to rsp is taken for a tail call, which leaves the function, and does not count. The code
 * must not be read as data. A call moves only as the patch's last instruction, as a push of its own
 * return address and a jump, so that the callee returns to the program's code and leaves the
 * program's return address below the stack; other instructions that cannot move are refused (a call
 * elsewhere or through rsp; loop/jrcxz; syscall and other traps), and then deja falls back to a
 * plain breakpoint.
 *
 * @param code          the stub, to be written at {@code stubAddress}
 * @param stubAddress   where the stub goes (within 2 GiB of {@code address})
 * @param address       {@code A}, the point
 * @param patchAddress  where the patch goes: {@code A}, or a few plain instructions before it (the stub runs
 *                      them before it compares: a loop's back edge is often followed by a branch target)
 * @param patch         the bytes to write at {@code patchAddress}: {@code jmp rel32} and {@code int3} padding
 * @param checkAddress  where the stub's comparison begins: a thread stopped at {@code A} goes on from here
 * @param hitAddress    the stub's {@code int3}: a trap there reports the thread at {@code A}
 * @param resumeAddress where a thread that trapped but is not at the point goes on (the displaced code)
 */
public record GuardStub(byte[] code, long stubAddress, long address, long patchAddress, byte[] patch, long checkAddress,
                        long hitAddress, long resumeAddress) {
    /** Where the stub's data (saved registers, recorded values) starts, from its address: the next page. */
    public static final int DATA_OFFSET = 4096;
    /** What the stub needs mapped at its address: its code's page and its data's. */
    public static final int SIZE = 2 * DATA_OFFSET;
    /** The length of {@code jmp rel32}, the least the displaced instructions cover. */
    public static final int JMP_LENGTH = 5;
    /** The largest function deja decodes to check its branches (larger ones get no stub). */
    public static final int MAX_FUNCTION = 1 << 20;
    /** The registers compared, in hardware encoding order (rax 0 ... r15 15; rsp is 4). */
    public static final int REGISTERS = 16;
    /** Data slots of the stub's page: rcx and rdx while it runs, then each register's negated recorded value. */
    private static final int SAVE_RCX = 0;
    private static final int SAVE_RDX = 1;

    private static int negated(int reg) {
        return 2 + reg;
    }

    /** Slots for the stack check: rax, rsi, rdi and the flags (lahf, seto) while it hashes. */
    private static final int SAVE_RAX = 2 + REGISTERS;
    private static final int SAVE_RSI = SAVE_RAX + 1;
    private static final int SAVE_RDI = SAVE_RAX + 2;
    private static final int SAVE_FLAGS = SAVE_RAX + 3;
    /** While a {@link WordCheck} hashes: where the next window's entry of its table is. */
    private static final int NEXT_WINDOW = SAVE_FLAGS + 1;
    /** A register that may hold cpuid's EBX, there while its APIC ID bytes are cleared ({@link #compareWithoutApicIds}). */
    private static final int APIC_TMP = NEXT_WINDOW + 1;
    private static final int RSP = 4;
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    /**
     * The stack window the stub hashes itself once the registers are the point's, as the recorder hashed
     * it ({@code RunState.stackHash}): FNV-1a over {@code length} bytes from {@code start}, then xor
     * {@code length}; with {@code apicIdsLeftOut} (format version 6) over its 8-byte words without cpuid's
     * APIC IDs, then xor their count, as a {@link WordCheck}. A state whose registers recur with a different
     * stack (an interpreter's dispatch code, whose locals live in its frame) then costs no trap.
     */
    public record StackCheck(long start, int length, long hash, List<WordCheck> memory, boolean apicIdsLeftOut) {
        public StackCheck {
            if (length <= 0) throw new IllegalArgumentException("an empty stack window");
            if (apicIdsLeftOut && length % 8 != 0) throw new IllegalArgumentException("a stack window of whole words");
            memory = List.copyOf(memory);
        }

        public StackCheck(long start, int length, long hash, List<WordCheck> memory) {
            this(start, length, hash, memory, false);
        }

        public StackCheck(long start, int length, long hash) {
            this(start, length, hash, List.of());
        }
    }

    /**
     * Windows of memory the stub hashes after the stack, as the recorder hashed a point's memory
     * witness ({@code MemoryWitness}): FNV-1a over their 8-byte words in order, from the offset basis,
     * then xor the number of words, which must be {@code hash}. Checks run in order, each only when the
     * ones before it matched: the second level's windows are where pointers in the first level's point.
     *
     * @param starts where each window starts (8-byte aligned)
     * @param words  each window's length in words
     * @param apicIdsLeftOut each word hashed without cpuid's APIC IDs ({@link CpuidLeaf1#withoutApicIds})
     *               (a witness of format version 6 and later)
     */
    public record WordCheck(long[] starts, int[] words, long hash, boolean apicIdsLeftOut) {
        public WordCheck {
            starts = starts.clone();
            words = words.clone();
            if (starts.length != words.length || starts.length == 0) throw new IllegalArgumentException("windows and lengths differ or are none");
            for (int w : words) if (w <= 0) throw new IllegalArgumentException("an empty window");
        }

        long totalWords() {
            long n = 0;
            for (int w : words) n += w;
            return n;
        }
    }

    public GuardStub {
        code = code.clone();
        patch = patch.clone();
    }

    @Override
    public byte[] code() {
        return code.clone();
    }

    @Override
    public byte[] patch() {
        return patch.clone();
    }

    /** Why a stub cannot be built at an address; deja uses a plain breakpoint there. */
    public static final class Refused extends Exception {
        public Refused(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * Builds the stub for a thread to stop at {@code address} with registers {@code registers}
     * (hardware order, see {@link #REGISTERS}).
     *
     * @param function        the code of the function that holds {@code address}, all of it
     * @param functionAddress where {@code function} starts
     * @param stubAddress     where the stub will be mapped
     */
    public static GuardStub build(byte[] function, long functionAddress, long address, long stubAddress, long[] registers)
            throws Refused {
        return build(function, functionAddress, address, stubAddress, registers, 0);
    }

    /**
     * As {@link #build(byte[], long, long, long, long[])}, leaving out of the comparison the registers
     * whose bits (hardware order) are set in {@code uncompared}: at a rep string instruction, rcx, rsi
     * and rdi, which the recorded point has part of the way through its iterations.
     */
    public static GuardStub build(byte[] function, long functionAddress, long address, long stubAddress, long[] registers,
                                  int uncompared) throws Refused {
        return build(function, functionAddress, address, stubAddress, registers, uncompared, null);
    }

    /** As {@link #build(byte[], long, long, long, long[], int)}, the stack window {@code stack} checked too (null: not). */
    public static GuardStub build(byte[] function, long functionAddress, long address, long stubAddress, long[] registers,
                                  int uncompared, StackCheck stack) throws Refused {
        if (registers.length != REGISTERS) throw new IllegalArgumentException("16 registers, got " + registers.length);
        if (address < functionAddress || address - functionAddress >= function.length) {
            throw new IllegalArgumentException("0x" + Long.toHexString(address) + " is not in the function given");
        }
        FunctionScan scan = scan(function, functionAddress, address);
        if (scan.indirectJump()) {
            // A jump through a register may land on any instruction (a switch's table, an unrolled copy entered
            // in the middle, as HotSpot's G1 copies objects): only the one at the address is patched, if it is
            // long enough; the address itself may be a target, which is the point anyway.
            X86Insn insn = decode(function, (int) (address - functionAddress));
            if (insn.length() < JMP_LENGTH) {
                throw new Refused("the function at 0x" + Long.toHexString(functionAddress) + " jumps through a register,"
                        + " and the instruction at 0x" + Long.toHexString(address) + " is shorter than a jump");
            }
            return alone(function, functionAddress, address, insn, stubAddress, registers, uncompared, stack);
        }
        // Where the jump goes: at the address, or up to a few plain instructions before it (the stub runs
        // those first, then compares): a loop's back edge is often followed by a branch target.
        Refused why = null;
        for (int back = 0; back <= MAX_BEFORE && back < scan.before().size() + 1; back++) {
            long patchAt = back == 0 ? address : scan.before().get(scan.before().size() - back);
            try {
                return build(function, functionAddress, patchAt, address, stubAddress, registers, uncompared, scan.targets(), stack);
            } catch (Refused r) {
                if (why == null) why = r;
            }
        }
        throw why;
    }

    /**
     * A stub whose patch covers exactly the one instruction at {@code address}, for code with no
     * function bounds (JIT-compiled code has no {@code .eh_frame}): a branch can only land at the
     * instruction's start, which is the point itself, so no decoding of the code around is needed.
     * The instruction must be 5 bytes or longer, not a branch, and without immediates: a JIT
     * compiler patches those in place (embedded pointers, inline caches, call targets), and would
     * patch the jump instead.
     *
     * @param code the bytes at {@code address} (15 suffice)
     */
    public static GuardStub buildSingle(byte[] code, long address, long stubAddress, long[] registers, int uncompared,
                                        StackCheck stack) throws Refused {
        if (registers.length != REGISTERS) throw new IllegalArgumentException("16 registers, got " + registers.length);
        X86Insn insn = decode(code, 0);
        String why = notPatchableInJit(insn);
        if (why != null) throw new Refused("the instruction at 0x" + Long.toHexString(address) + " " + why);
        return alone(code, address, address, insn, stubAddress, registers, uncompared, stack);
    }

    /** Whether {@link #buildSingle} takes the instruction at the start of {@code code}. */
    public static boolean singleGuardable(byte[] code) {
        try {
            return notPatchableInJit(X86Decoder.decode(code, 0)) == null;
        } catch (X86DecodeException e) {
            return false;
        }
    }

    /** Why a JIT's instruction cannot take a patch of its own, or null when it can. */
    private static String notPatchableInJit(X86Insn insn) {
        if (insn.length() < JMP_LENGTH) return "is shorter than a jump (" + insn.length() + " bytes)";
        if (insn.branch() != Branch.NONE) return "branches";
        if (insn.immediate() > 0) return "has an immediate, which JIT compilers patch";
        return null;
    }

    /** The stub whose patch is {@code insn} alone, the instruction at {@code address} in {@code code} (from {@code codeAddress}). */
    private static GuardStub alone(byte[] code, long codeAddress, long address, X86Insn insn, long stubAddress, long[] registers,
                                   int uncompared, StackCheck stack) throws Refused {
        int off = (int) (address - codeAddress);
        byte[] only = java.util.Arrays.copyOfRange(code, off, off + insn.length());
        return build(only, address, address, address, stubAddress, registers, uncompared, java.util.Set.of(), stack);
    }

    /** How many instructions before the address the patch may start. */
    static final int MAX_BEFORE = 3;

    /**
     * A function decoded from its start: the instruction boundaries before the address, every direct
     * branch target, and whether it jumps through a register or memory anywhere (targets unknown).
     */
    record FunctionScan(java.util.List<Long> before, java.util.Set<Long> targets, boolean indirectJump) {
    }

    /**
     * Whether the instruction at {@code off} ends a frame: a pop of a register, {@code leave}, or an add
     * to rsp. An indirect jump right after one is a tail call (libjvm's Node::set_req_X pops its saved
     * registers and jumps through rax to a virtual method): it leaves the function, where a switch's
     * dispatch, which lands inside it, runs with the frame in place.
     */
    static boolean tearsDownFrame(byte[] code, int off) {
        int b0 = code[off] & 0xff;
        int b1 = off + 1 < code.length ? code[off + 1] & 0xff : -1;
        int b2 = off + 2 < code.length ? code[off + 2] & 0xff : -1;
        if (b0 >= 0x58 && b0 <= 0x5F || b0 == 0xC9) return true;                // pop r64, leave
        if (b0 == 0x41 && b1 >= 0x58 && b1 <= 0x5F) return true;                // pop r8-r15
        return b0 == 0x48 && (b1 == 0x83 || b1 == 0x81) && b2 == 0xC4;          // add rsp, imm
    }

    static FunctionScan scan(byte[] function, long functionAddress, long address) throws Refused {
        java.util.List<Long> before = new java.util.ArrayList<>();
        java.util.Set<Long> targets = new java.util.HashSet<>();
        boolean onBoundary = false;
        boolean indirectJump = false;
        int off = 0;
        int previous = -1;
        while (off < function.length) {
            long pc = functionAddress + off;
            X86Insn insn;
            try {
                insn = X86Decoder.decode(function, off);
            } catch (X86DecodeException e) {
                throw new Refused("the function at 0x" + Long.toHexString(functionAddress) + " does not decode: " + e.getMessage());
            }
            if (pc == address) onBoundary = true;
            if (pc < address) {
                // only plain instructions right before the address may be displaced with it
                if (insn.branch() == Branch.NONE && insn.ripDisp() < 0) before.add(pc);
                else before.clear();
            }
            if (insn.rel() >= 0) targets.add(pc + insn.length() + relValue(function, off, insn));
            if (insn.branch() == Branch.INDIRECT_JMP && !(previous >= 0 && tearsDownFrame(function, previous))) indirectJump = true;
            previous = off;
            off += insn.length();
        }
        if (!onBoundary) {
            throw new Refused("0x" + Long.toHexString(address) + " is not an instruction boundary of the function at 0x"
                    + Long.toHexString(functionAddress));
        }
        return new FunctionScan(before, targets, indirectJump);
    }

    private static GuardStub build(byte[] function, long functionAddress, long patchAt, long address, long stubAddress,
                                   long[] registers, int uncompared, java.util.Set<Long> targets, StackCheck stack)
            throws Refused {
        byte[] window = java.util.Arrays.copyOfRange(function, (int) (patchAt - functionAddress), function.length);
        // The instructions the 5-byte jump displaces.
        int covered = 0;
        java.util.List<X86Insn> displaced = new java.util.ArrayList<>();
        while (covered < JMP_LENGTH) {
            if (covered >= window.length) throw new Refused("the function ends within 5 bytes of 0x" + Long.toHexString(patchAt));
            X86Insn insn = decode(window, covered);
            switch (insn.branch()) {
                case CALL_REL32, INDIRECT_CALL -> {
                    // A call moves only as the patch's last instruction, run as a push of its own return address
                    // and a jump: the callee returns to the program's code after the patch, and the return address
                    // it leaves below the stack is the program's (a call run from the stub left the stub's there,
                    // and the stack hash of a point at the call, one turn of its loop later, never matched again).
                    if (covered + insn.length() < JMP_LENGTH) {
                        throw new Refused("a call at 0x" + Long.toHexString(patchAt + covered) + " is not the patch's last instruction");
                    }
                    if (insn.branch() == Branch.INDIRECT_CALL && !movableIndirectCall(window, covered)) {
                        throw new Refused("the call at 0x" + Long.toHexString(patchAt + covered) + " is far or reads through rsp");
                    }
                }
                case LOOP_REL8 -> throw new Refused("a loop/jrcxz at 0x" + Long.toHexString(patchAt + covered) + " cannot move");
                case SYSTEM -> throw new Refused("a trap or syscall at 0x" + Long.toHexString(patchAt + covered) + " cannot move");
                default -> {
                }
            }
            displaced.add(insn);
            covered += insn.length();
        }
        for (long t : targets) {
            if (t > patchAt && t < patchAt + covered) {
                throw new Refused("a branch to 0x" + Long.toHexString(t) + " lands inside the patch at 0x" + Long.toHexString(patchAt));
            }
        }
        if (address >= patchAt + covered) {
            // The jump would displace only instructions before the address: the stub could not check there.
            throw new Refused("0x" + Long.toHexString(address) + " lies past the " + covered + " bytes a patch at 0x"
                    + Long.toHexString(patchAt) + " displaces");
        }

        Asm a = new Asm(stubAddress);
        long from = patchAt;
        int first = 0;
        for (; from < address; first++) {
            // the instructions between the patch and the address run first, as they would have
            relocate(a, window, (int) (from - patchAt), displaced.get(first), from);
            from += displaced.get(first).length();
        }
        long check = a.here();
        // Neither the flags nor the stack are touched: rcx and rdx are kept in the stub's page while
        // it compares, each register against the negated recorded value with lea (no flags) and jrcxz.
        a.storeRip(0x89, 1, SAVE_RCX);                          // mov [save_rcx], rcx
        a.storeRip(0x89, 2, SAVE_RDX);                          // mov [save_rdx], rdx
        java.util.List<Integer> failJumps = new java.util.ArrayList<>();
        for (int reg = 0; reg < REGISTERS; reg++) {
            if ((uncompared & (1 << reg)) != 0) continue;
            if (reg != RSP && CpuidLeaf1.mayHoldApicId(registers[reg])) {
                compareWithoutApicIds(a, reg, registers[reg], failJumps);
                continue;
            }
            if (reg == 1) {
                a.storeRip(0x8B, 1, SAVE_RCX);                  // mov rcx, [save_rcx]
                a.storeRip(0x8B, 2, negated(1));                // mov rdx, -target
                leaSum(a, 1, 2);                                // lea rcx, [rcx+rdx]
            } else if (reg == 2) {
                a.storeRip(0x8B, 2, SAVE_RDX);                  // mov rdx, [save_rdx]
                a.storeRip(0x8B, 1, negated(2));                // mov rcx, -target
                leaSum(a, 2, 1);                                // lea rcx, [rdx+rcx]
            } else {
                a.storeRip(0x8B, 1, negated(reg));              // mov rcx, -target
                leaSum(a, reg, 1);                              // lea rcx, [reg+rcx]
            }
            a.bytes(0xE3, 0x05);                                // jrcxz: equal, next register
            a.bytes(0xE9);                                      // jmp no
            failJumps.add(a.size());
            a.int32(0);
        }
        if (stack != null) {
            // The memory witness's first level before the stack: a loop that counts in the heap passes with
            // the same stack every turn, and a word-wise hash of its windows costs a fraction of the stack's
            // byte-wise one (signal_in_heap_loop: 16 million passes in a replay's 10 s bound, or not).
            List<WordCheck> memory = stack.memory();
            if (!memory.isEmpty()) wordCheck(a, memory.getFirst(), failJumps);
            stackCheck(a, stack, failJumps);
            for (int m = 1; m < memory.size(); m++) wordCheck(a, memory.get(m), failJumps);
        }
        a.storeRip(0x8B, 1, SAVE_RCX);
        a.storeRip(0x8B, 2, SAVE_RDX);
        long hit = a.here();
        a.bytes(0xCC);                                          // int3: deja takes it from here
        int no = a.size();
        for (int f : failJumps) a.patchRel32(f, no);
        a.storeRip(0x8B, 1, SAVE_RCX);
        a.storeRip(0x8B, 2, SAVE_RDX);
        long resume = a.here();
        for (int i = first; i < displaced.size(); i++) {
            relocate(a, window, (int) (from - patchAt), displaced.get(i), from);
            from += displaced.get(i).length();
        }
        a.bytes(0xE9);                                          // jmp back after the patch
        a.int32(rel32(a.here() + 4, patchAt + covered));
        if (a.size() > DATA_OFFSET) throw new Refused("the stub's code is longer than a page");
        // The data on a page of its own: stores to the page the stub runs from are self-modifying code to
        // the CPU, which then clears its pipeline at each (a 1-cycle loop ran 200x slower than natively).
        a.align(DATA_OFFSET);
        a.place(SAVE_RCX, 0);
        a.place(SAVE_RDX, 0);
        for (int reg = 0; reg < REGISTERS; reg++) {
            a.place(negated(reg), reg != RSP ? -CpuidLeaf1.withoutApicIds(registers[reg]) : -registers[reg]);
        }
        for (int slot = SAVE_RAX; slot <= APIC_TMP; slot++) a.place(slot, 0);
        a.placeTables();
        if (a.size() > SIZE) throw new Refused("the stub's data is longer than a page");

        byte[] patch = new byte[covered];
        java.util.Arrays.fill(patch, (byte) 0xCC);
        patch[0] = (byte) 0xE9;
        ByteBuffer.wrap(patch, 1, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(rel32(patchAt + JMP_LENGTH, stubAddress));
        return new GuardStub(a.toArray(), stubAddress, address, patchAt, patch, check, hit, resume);
    }

    /**
     * Whether a fault at {@code rip} is one of the stub's reads of the memory it hashes (the stack, a
     * memory witness's window, unmapped or protected since the stub went in): no instruction of the
     * comparison before the hashes reads anything but the stub's own page.
     */
    public boolean faultsInCheck(long rip) {
        return rip >= checkAddress && rip < hitAddress;
    }

    /** The words of the stub's data page from its start: the slots {@link #faultRegisters} reads. */
    public static final int SLOTS_READ = (SAVE_FLAGS + 1) * 8;

    /**
     * The registers (hardware order, as {@link #build} takes them) and flags a thread had when it
     * entered the comparison, for a thread that faulted in a hash ({@link #faultsInCheck}): every
     * register a hash changes (rax, rcx, rdx, rsi, rdi) and the flags (lahf's and seto's bytes) are in
     * the data page then. {@code data} is the first {@link #SLOTS_READ} bytes of the page, {@code regs}
     * the registers at the fault; the flags word comes back as the last element.
     */
    public static long[] faultRegisters(byte[] data, long[] regs, long flags) {
        ByteBuffer d = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        long[] out = java.util.Arrays.copyOf(regs, REGISTERS + 1);
        out[0] = d.getLong(SAVE_RAX * 8);
        out[1] = d.getLong(SAVE_RCX * 8);
        out[2] = d.getLong(SAVE_RDX * 8);
        out[6] = d.getLong(SAVE_RSI * 8);
        out[7] = d.getLong(SAVE_RDI * 8);
        long saved = d.getLong(SAVE_FLAGS * 8);
        long ah = (saved >> 8) & 0xD5;
        long of = (saved & 0xFF) != 0 ? 0x800 : 0;
        out[REGISTERS] = (flags & ~0x8D5L) | ah | of;
        return out;
    }

    /** Where the stub's data page starts. */
    public long dataAddress() {
        return stubAddress + DATA_OFFSET;
    }

    /** Whether a stub at {@code stubAddress} can reach {@code address} and back with rel32 jumps. */
    public static boolean reachable(long address, long stubAddress) {
        long d = stubAddress - address;
        return d > Integer.MIN_VALUE / 2 && d < Integer.MAX_VALUE / 2;
    }

    static X86Insn decode(byte[] window, int offset) throws Refused {
        try {
            return X86Decoder.decode(window, offset);
        } catch (X86DecodeException e) {
            throw new Refused(e.getMessage());
        }
    }

    /** A relative branch's displacement: the instruction's last field (rel8, rel16 with 66, or rel32). */
    private static long relValue(byte[] code, int off, X86Insn insn) {
        int at = off + insn.rel();
        return switch (insn.length() - insn.rel()) {
            case 1 -> code[at];
            case 2 -> ByteBuffer.wrap(code, at, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
            default -> ByteBuffer.wrap(code, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        };
    }

    /**
     * With the registers found equal (rcx and rdx in their slots): hashes the stack window and jumps to
     * the mismatch path unless the hash is the recorded one. The flags are saved with lahf and seto and
     * put back with add al,0x7f (OF) and sahf (SF ZF AF PF CF); the stack is only read.
     */
    private static void stackCheck(Asm a, StackCheck stack, java.util.List<Integer> failJumps) {
        if (stack.apicIdsLeftOut()) {
            wordCheck(a, new WordCheck(new long[] {stack.start()}, new int[] {stack.length() / 8}, stack.hash(), true), failJumps);
            return;
        }
        saveScratch(a);
        a.bytes(0x48, 0xBE);                                    // mov rsi, start
        a.int64(stack.start());
        a.bytes(0xB9);                                          // mov ecx, length
        a.int32(stack.length());
        a.bytes(0x48, 0xB8);                                    // mov rax, FNV offset basis
        a.int64(FNV_OFFSET);
        a.bytes(0x48, 0xBA);                                    // mov rdx, FNV prime
        a.int64(FNV_PRIME);
        int loop = a.size();
        a.bytes(0x0F, 0xB6, 0x3E);                              // movzx edi, byte [rsi]
        a.bytes(0x48, 0x31, 0xF8);                              // xor rax, rdi
        a.bytes(0x48, 0x0F, 0xAF, 0xC2);                        // imul rax, rdx
        a.bytes(0x48, 0xFF, 0xC6);                              // inc rsi
        a.bytes(0xFF, 0xC9);                                    // dec ecx
        a.bytes(0x75, (loop - (a.size() + 2)) & 0xFF);          // jnz loop
        restoreAndCompare(a, stack.hash() ^ stack.length(), failJumps); // the recorded hash before its length
    }

    /**
     * Before a hash: rax, the flags (lahf, seto), rsi and rdi into the stub's page, all of them before any
     * read of the program's memory ({@link #faultRegisters} finds them there after a fault).
     */
    private static void saveScratch(Asm a) {
        a.storeRip(0x89, 0, SAVE_RAX);                          // mov [save_rax], rax
        a.bytes(0x9F);                                          // lahf
        a.bytes(0x0F, 0x90, 0xC0);                              // seto al
        a.storeRip(0x89, 0, SAVE_FLAGS);                        // mov [save_flags], rax
        a.storeRip(0x89, 6, SAVE_RSI);                          // mov [save_rsi], rsi
        a.storeRip(0x89, 7, SAVE_RDI);                          // mov [save_rdi], rdi
    }

    /**
     * After a hash in rax: compares it with {@code expected}, puts back what {@link #saveScratch} saved, and
     * jumps to the mismatch path unless they were equal (rcx and rdx stay for the caller to restore).
     */
    private static void restoreAndCompare(Asm a, long expected, java.util.List<Integer> failJumps) {
        a.bytes(0x48, 0xBA);                                    // mov rdx, expected
        a.int64(expected);
        a.bytes(0x48, 0x29, 0xD0);                              // sub rax, rdx: 0 when equal
        a.bytes(0x48, 0x89, 0xC1);                              // mov rcx, rax
        a.storeRip(0x8B, 0, SAVE_FLAGS);                        // mov rax, [save_flags]
        a.bytes(0x04, 0x7F);                                    // add al, 0x7f: OF as it was
        a.bytes(0x9E);                                          // sahf: SF ZF AF PF CF as they were
        a.storeRip(0x8B, 0, SAVE_RAX);                          // mov rax, [save_rax]
        a.storeRip(0x8B, 6, SAVE_RSI);                          // mov rsi, [save_rsi]
        a.storeRip(0x8B, 7, SAVE_RDI);                          // mov rdi, [save_rdi]
        a.bytes(0xE3, 0x05);                                    // jrcxz: equal
        a.bytes(0xE9);                                          // jmp no
        failJumps.add(a.size());
        a.int32(0);
    }

    /**
     * With the registers and the stack found equal (rcx and rdx in their slots): hashes the windows of
     * {@code check} a word at a time and jumps to the mismatch path unless the hash is the recorded
     * one. Flags and registers as in {@link #stackCheck}. The windows are a table in the data page (start,
     * words; a 0 ends it) that one loop walks: a witness has up to 79 windows, and a loop for each, with
     * the APIC IDs left out, made stubs longer than their page.
     */
    private static void wordCheck(Asm a, WordCheck check, java.util.List<Integer> failJumps) {
        long[] entries = new long[2 * check.starts().length + 2];
        for (int w = 0; w < check.starts().length; w++) {
            entries[2 * w] = check.starts()[w];
            entries[2 * w + 1] = check.words()[w];
        }
        int table = a.table(entries);
        saveScratch(a);
        a.bytes(0x48, 0xB8);                                    // mov rax, FNV offset basis
        a.int64(FNV_OFFSET);
        a.bytes(0x48, 0xBA);                                    // mov rdx, FNV prime
        a.int64(FNV_PRIME);
        a.storeRip(0x8D, 7, table);                             // lea rdi, [table]
        a.storeRip(0x89, 7, NEXT_WINDOW);                       // mov [next_window], rdi
        int outer = a.size();
        a.storeRip(0x8B, 7, NEXT_WINDOW);                       // mov rdi, [next_window]
        a.bytes(0x48, 0x8B, 0x37);                              // mov rsi, [rdi]: the window's start
        a.bytes(0x8B, 0x4F, 0x08);                              // mov ecx, [rdi+8]: its words
        a.bytes(0x48, 0x83, 0xC7, 0x10);                        // add rdi, 16
        a.storeRip(0x89, 7, NEXT_WINDOW);                       // mov [next_window], rdi
        a.bytes(0xE3, 0x00);                                    // jrcxz: the table's end
        int loop = a.size();
        if (check.apicIdsLeftOut()) {
            a.bytes(0x48, 0x8B, 0x3E);                          // mov rdi, [rsi]
            clearApicIdOfLowHalf(a);
            a.bytes(0x48, 0xC1, 0xCF, 0x20);                    // ror rdi, 32: the high half
            clearApicIdOfLowHalf(a);
            a.bytes(0x48, 0xC1, 0xC7, 0x20);                    // rol rdi, 32
            a.bytes(0x48, 0x31, 0xF8);                          // xor rax, rdi
        } else {
            a.bytes(0x48, 0x33, 0x06);                          // xor rax, [rsi]
        }
        a.bytes(0x48, 0x0F, 0xAF, 0xC2);                        // imul rax, rdx
        a.bytes(0x48, 0x83, 0xC6, 0x08);                        // add rsi, 8
        a.bytes(0xFF, 0xC9);                                    // dec ecx
        a.bytes(0x75, rel8(a.size() + 2, loop));                // jnz loop
        a.bytes(0xEB, rel8(a.size() + 2, outer));               // jmp: the next window
        a.patchRel8(loop - 1, a.size());                        // the jrcxz's target: past the walk
        restoreAndCompare(a, check.hash() ^ check.totalWords(), failJumps); // the recorded hash before its word count
    }

    /**
     * Clears the top byte of edi when its low 16 bits are 0x0800 (cpuid leaf 1's EBX, whose top byte is an
     * APIC ID), leaving the rest of rdi; the flags are the stub's own (saved).
     */
    private static void clearApicIdOfLowHalf(Asm a) {
        a.bytes(0x66, 0x81, 0xFF, 0x00, 0x08);                  // cmp di, 0x0800
        a.bytes(0x75, 0x0B);                                    // jne past the clearing (11 bytes)
        a.bytes(0x48, 0xC1, 0xCF, 0x18);                        // ror rdi, 24: the top byte at the bottom
        a.bytes(0x40, 0xB7, 0x00);                              // mov dil, 0
        a.bytes(0x48, 0xC1, 0xC7, 0x18);                        // rol rdi, 24
    }

    /**
     * Compares register {@code reg}, whose recorded value has the shape of cpuid leaf 1's EBX, without the
     * APIC ID bytes ({@link CpuidLeaf1}; deja's own comparison does the same): its value goes through a slot
     * whose bytes are cleared by plain stores, which leave the flags. rcx and rdx are scratch (saved).
     */
    private static void compareWithoutApicIds(Asm a, int reg, long recorded, java.util.List<Integer> failJumps) {
        if (reg == 1) {
            a.storeRip(0x8B, 1, SAVE_RCX);                      // mov rcx, [save_rcx]
        } else if (reg == 2) {
            a.storeRip(0x8B, 1, SAVE_RDX);                      // mov rcx, [save_rdx]
        } else {
            a.bytes(0x48 | (reg >= 8 ? 0x04 : 0), 0x89, 0xC1 | ((reg & 7) << 3)); // mov rcx, reg
        }
        a.storeRip(0x89, 1, APIC_TMP);                          // mov [apic_tmp], rcx
        if (CpuidLeaf1.lowHalfMayHoldApicId(recorded)) a.clearByteRip(APIC_TMP, 3);   // mov byte [apic_tmp+3], 0
        if (CpuidLeaf1.highHalfMayHoldApicId(recorded)) a.clearByteRip(APIC_TMP, 7);  // mov byte [apic_tmp+7], 0
        a.storeRip(0x8B, 1, APIC_TMP);                          // mov rcx, [apic_tmp]
        a.storeRip(0x8B, 2, negated(reg));                      // mov rdx, -target (its APIC IDs cleared)
        leaSum(a, 1, 2);                                        // lea rcx, [rcx+rdx]
        a.bytes(0xE3, 0x05);                                    // jrcxz: equal, next register
        a.bytes(0xE9);                                          // jmp no
        failJumps.add(a.size());
        a.int32(0);
    }

    /** lea rcx, [base + index*1] (64-bit), for base any register and index rcx or rdx. */
    private static void leaSum(Asm a, int base, int index) {
        int rex = 0x48 | (base >= 8 ? 0x01 : 0);
        int sib = (index << 3) | (base & 7);
        if ((base & 7) == 5) {
            a.bytes(rex, 0x8D, 0x4C, sib, 0x00);                // rbp/r13 as a base need a displacement
        } else {
            a.bytes(rex, 0x8D, 0x0C, sib);
        }
    }

    /** Emits one displaced instruction, originally at {@code from}, at the assembler's position. */
    static void relocate(Asm a, byte[] window, int off, X86Insn insn, long from) throws Refused {
        long next = from + insn.length();
        switch (insn.branch()) {
            case CALL_REL32 -> {
                long target = next + relValue(window, off, insn);
                pushReturnAddress(a, next);
                a.bytes(0xE9);                                  // jmp rel32 to the callee
                a.int32(rel32(a.here() + 4, target));
                return;
            }
            case INDIRECT_CALL -> {
                pushReturnAddress(a, next);
                byte[] copy = java.util.Arrays.copyOfRange(window, off, off + insn.length());
                int modrm = modrmOffset(copy);
                copy[modrm] = (byte) ((copy[modrm] & 0xC7) | (4 << 3)); // FF /2 (call) becomes FF /4 (jmp), same operand
                reaimRipOperand(a, copy, insn, next);
                a.bytes(copy);
                return;
            }
            case JCC_REL8, JCC_REL32 -> {
                long target = next + relValue(window, off, insn);
                int cc = window[off + insn.rel() - 1] & 0x0F; // 7x rel8, or 0F 8x rel32
                a.bytes(0x0F, 0x80 | cc);
                a.int32(rel32(a.here() + 4, target));
            }
            case JMP_REL8, JMP_REL32 -> {
                long target = next + relValue(window, off, insn);
                a.bytes(0xE9);
                a.int32(rel32(a.here() + 4, target));
            }
            default -> {
                byte[] copy = java.util.Arrays.copyOfRange(window, off, off + insn.length());
                reaimRipOperand(a, copy, insn, next);
                a.bytes(copy);
            }
        }
    }

    /**
     * Re-aims {@code copy}'s RIP-relative operand, if it has one, at the same address from where the copy
     * goes (the assembler's position); {@code next} is where the instruction ended in the program.
     */
    private static void reaimRipOperand(Asm a, byte[] copy, X86Insn insn, long next) throws Refused {
        if (insn.ripDisp() < 0) return;
        // With 67 the operand is EIP-relative: it wraps at 4 GiB, which moving it would change.
        for (int i = 0; i < insn.ripDisp() && isLegacyPrefix(copy[i]); i++) {
            if (copy[i] == 0x67) throw new Refused("an EIP-relative operand (67 prefix) cannot move");
        }
        ByteBuffer b = ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN);
        long target = next + b.getInt(insn.ripDisp());
        long moved = target - (a.here() + insn.length());
        if (moved != (int) moved) throw new Refused("a RIP-relative operand out of reach from the stub");
        b.putInt(insn.ripDisp(), (int) moved);
    }

    /**
     * Pushes {@code address} without a register or the flags: push imm32 (sign-extended), then the upper
     * half written over with mov dword [rsp+4], imm32.
     */
    private static void pushReturnAddress(Asm a, long address) {
        a.bytes(0x68);                                          // push imm32
        a.int32((int) address);
        a.bytes(0xC7, 0x44, 0x24, 0x04);                        // mov dword [rsp+4], imm32
        a.int32((int) (address >>> 32));
    }

    /** The offset of the ModRM byte of an FF-opcode instruction: after its legacy and REX prefixes and the FF. */
    private static int modrmOffset(byte[] insn) {
        int i = 0;
        while (isLegacyPrefix(insn[i])) i++;
        if ((insn[i] & 0xF0) == 0x40) i++;
        return i + 1;
    }

    /**
     * Whether the indirect call at {@code off} can run as a jump after a push: a near call (FF /2) whose
     * operand does not use rsp (the push moves it).
     */
    private static boolean movableIndirectCall(byte[] code, int off) {
        byte[] insn = java.util.Arrays.copyOfRange(code, off, Math.min(code.length, off + 15));
        int i = 0;
        while (isLegacyPrefix(insn[i])) i++;
        int rex = (insn[i] & 0xF0) == 0x40 ? insn[i++] & 0x0F : 0;
        int modrm = insn[i + 1] & 0xFF;
        int mod = modrm >> 6;
        int reg = (modrm >> 3) & 7;
        int rm = modrm & 7;
        if (reg != 2) return false;
        if (mod == 3) return !(rm == 4 && (rex & 1) == 0);      // call rsp
        if (rm != 4) return true;                               // no SIB: the base is not rsp (rm 4 means SIB)
        int base = insn[i + 2] & 7;                             // the SIB's base (rsp cannot be an index)
        return !(base == 4 && (rex & 1) == 0);
    }

    private static boolean isLegacyPrefix(byte b) {
        return switch (b & 0xff) {
            case 0x66, 0x67, 0xF2, 0xF3, 0xF0, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 -> true;
            default -> false;
        };
    }

    /** A short jump's displacement from the next instruction's offset to {@code target}'s (both in the stub). */
    private static int rel8(int next, int target) {
        int rel = target - next;
        if (rel < -128 || rel > 127) throw new IllegalStateException("a short jump of " + rel + " bytes in the stub");
        return rel & 0xFF;
    }

    static int rel32(long nextIp, long target) throws Refused {
        long d = target - nextIp;
        if (d != (int) d) throw new Refused("the stub is out of rel32 reach");
        return (int) d;
    }

    /** A tiny assembler buffer that knows its address. */
    static final class Asm {
        private final long base;
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        private byte[] fixed;

        Asm(long base) {
            this.base = base;
        }

        void bytes(int... bs) {
            for (int b : bs) out.write(b);
        }

        void bytes(byte[] bs) {
            out.writeBytes(bs);
        }

        void int32(int v) {
            for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
        }

        void int64(long v) {
            for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
        }

        void align(int n) {
            while (out.size() % n != 0) out.write(0xCC);
        }

        int size() {
            return out.size();
        }

        long here() {
            return base + out.size();
        }

        /**
         * A REX.W instruction {@code opcode} between register {@code reg} (0-7) and data slot {@code slot}, rip-relative:
         * 89 stores, 8B loads, 8D takes the slot's address.
         */
        void storeRip(int opcode, int reg, int slot) {
            bytes(0x48, opcode, (reg << 3) | 0x05);
            slotRefs.add(new int[] {out.size(), slot});
            int32(0);
        }

        /**
         * A rip-relative instruction with prefix {@code rex} (0 for none), {@code opcode} and ModRM reg field
         * {@code reg} (0-7) on the absolute address {@code target} (the instruction ends with its displacement).
         */
        void ripAbs(int rex, int opcode, int reg, long target) throws Refused {
            if (rex != 0) bytes(rex);
            bytes(opcode, ((reg & 7) << 3) | 0x05);
            int32(rel32(here() + 4, target));
        }

        /** {@code mov byte [slot + offset], 0}: a store that leaves the flags. */
        void clearByteRip(int slot, int offset) {
            bytes(0xC6, 0x05);
            slotRefs.add(new int[] {out.size(), slot, offset - 1}); // the immediate after the displacement
            int32(0);
            bytes(0x00);
        }

        /** Slots for {@link #table}s: after every named one. */
        private int nextTableSlot = 1000;
        private final java.util.List<long[]> tables = new java.util.ArrayList<>();

        /** A table of words in the data page, placed by {@link #placeTables}: its first word's slot. */
        int table(long[] words) {
            int first = nextTableSlot;
            nextTableSlot += words.length;
            long[] entry = new long[words.length + 1];
            entry[0] = first;
            System.arraycopy(words, 0, entry, 1, words.length);
            tables.add(entry);
            return first;
        }

        /** Emits the {@link #table}s here, each word a slot. */
        void placeTables() {
            for (long[] t : tables) {
                for (int i = 1; i < t.length; i++) place((int) t[0] + i - 1, t[i]);
            }
        }

        /** Points the rel8 at {@code at} (its end is the next instruction) to offset {@code target}. */
        void patchRel8(int at, int target) {
            pendingRel8.add(new int[] {at, rel8(at + 1, target)});
        }

        private final java.util.List<int[]> pendingRel8 = new java.util.ArrayList<>();

        /** Emits the 8-byte data slot {@code slot} here. */
        void place(int slot, long value) {
            slotAt.put(slot, out.size());
            int64(value);
        }

        private final java.util.List<int[]> slotRefs = new java.util.ArrayList<>();
        private final java.util.Map<Integer, Integer> slotAt = new java.util.HashMap<>();

        /** Points the rel32 at {@code at} (its end is the next instruction) to offset {@code target}. */
        void patchRel32(int at, int target) {
            pending.add(new int[] {at, target});
        }

        private final java.util.List<int[]> pending = new java.util.ArrayList<>();

        byte[] toArray() {
            if (fixed != null) return fixed;
            byte[] b = out.toByteArray();
            ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            for (int[] p : pending) buf.putInt(p[0], p[1] - (p[0] + 4));
            for (int[] p : pendingRel8) b[p[0]] = (byte) p[1];
            for (int[] r : slotRefs) buf.putInt(r[0], slotAt.get(r[1]) - (r[0] + 4) + (r.length > 2 ? r[2] : 0));
            fixed = b;
            return b;
        }
    }
}
