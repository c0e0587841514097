package dev.deja.device.x86;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Records a thread's calls at one {@code syscall} instruction without stopping it: the recording's
 * half of rr's syscall buffer, as machine code deja writes into the program. The instruction (with a
 * few plain instructions before it, for room) becomes a {@code jmp} to this stub, which, for the calls
 * it has a {@link Plan} for, makes the call itself with a marker in r9 that deja's seccomp filter lets
 * through without a stop (none of these calls has a sixth argument), and appends the call to a buffer
 * in the process: its number, arguments and result, the path it was given (read after the call, unless
 * the kernel could not read it either: EFAULT) and the bytes the kernel wrote (the result's length of a
 * read's buffer, a stat's whole struct). deja reads the buffer at the thread's next stop and records
 * each call as if it had stopped there. Any other call, a call while the buffer is off or full, or a
 * read of a descriptor deja has not marked as a file (which could block), goes through the stub's
 * other {@code syscall} instruction, which stops the thread as the program's would have.
 *
 * <p>What it uses of the thread: the argument registers, rax, rcx and r11 in its own code, all put back
 * as the kernel leaves them (the arguments as they were, rax the result, rcx the address after the
 * program's syscall, r11 the flags); the flags go through pushfq/popfq on a stack of its own at the top
 * of the data page. One data page serves every stub of a process: the buffer is on only while the
 * process has one thread. The stub ends through an {@code int3} when deja asked it to (the data
 * page's trap word): a signal that came while the thread was in the stub is held until it is out.
 *
 * @param code           the stub's code, to be written at {@code codeAddress}
 * @param codeAddress    where it goes (within 2 GiB of the program's code and of the data page)
 * @param syscallAddress the program's {@code syscall} instruction it stands for
 * @param patchAddress   where the patch starts (at or before {@code syscallAddress})
 * @param patch          the bytes written there: {@code jmp rel32} and int3 padding
 * @param tracedSyscall  the stub's own {@code syscall} instruction for calls it does not buffer
 * @param tailAddress    where the stub's relocated instructions after the call start (its last part, which
 *                       deja steps through to bring a thread back to the program's code)
 * @param trapCheck      where it reads the trap word: a thread before it leaves through the int3 (or the traced
 *                       call) once the word is set; one past it is stepped out
 * @param tracedPath     where the way to the traced call starts
 * @param cursorLoad     where it reads the cursor: from there to {@link #trapCheck} an entry is being written at it
 * @param numbers        the calls it buffers
 * @param mappingTrap    its int3 after a private mapping of a file it made (0: none), where deja copies the file
 *                       while its descriptor is still the one mapped
 */
public record BufferStub(byte[] code, long codeAddress, long syscallAddress, long patchAddress, byte[] patch,
                         long tracedSyscall, long tailAddress, long trapCheck, long tracedPath, long cursorLoad,
                         List<Integer> numbers, long mappingTrap) {

    /** Whether a thread stopped by a trap at {@code rip} stands after the stub's int3 that follows a file's mapping. */
    public boolean afterMappingTrap(long rip) {
        return mappingTrap != 0 && rip == mappingTrap + 1;
    }

    /** Whether a thread at {@code rip} is writing an entry where the cursor stands (the buffer may not be emptied). */
    public boolean inEntry(long rip) {
        return rip >= cursorLoad && rip < trapCheck;
    }

    /** Whether the patch ends with the syscall: the program's code goes on right after it. */
    public boolean tailless() {
        return patchAddress + patch.length == syscallAddress + 2;
    }

    /**
     * How a thread stopped at {@code rip} in this stub with a signal to deliver gets out of it: at the traced
     * call (about to be made or just returned: as at the program's own call), through the trap word, or by
     * single steps.
     */
    public Exit exitFrom(long rip) {
        if (rip == tracedSyscall || rip == tracedSyscall + 2) return Exit.AT_CALL;
        if (rip >= trapCheck && rip < tracedPath || rip > tracedSyscall + 2) return Exit.STEPS;
        return Exit.TRAP;
    }

    /** See {@link #exitFrom}. */
    public enum Exit { AT_CALL, TRAP, STEPS }
    public static final int PAGE = 4096;
    /** Entry header: number, result, length, blocks, six arguments. */
    public static final int HEADER = 80;
    static final int E_NR = 0;
    static final int E_RESULT = 8;
    static final int E_LENGTH = 16;
    static final int E_BLOCKS = 24;
    static final int E_ARGS = 32;
    /** Words of the data page. */
    static final int ENABLED = 0;
    static final int CURSOR = 1;
    static final int LIMIT = 2;
    static final int TRAP = 3;
    static final int SAVE_FLAGS = 4;
    static final int SAVE_RSP = 5;
    /** Non-zero while no file system is served by a process: an open's descriptor may be marked in the stub. */
    static final int NONE_SERVED = 6;
    /** Set by a stub that mapped a file privately: the stub leaves through {@link #mappingTrap}'s int3, and clears it. */
    static final int MAPPED_FILE = 7;
    /** A struct stat for the stub's own fstat of a descriptor it opened, from word 32. */
    static final int STAT_BUF = 32;
    private static final int ST_MODE = 24;
    /** The descriptors a read may be buffered on, one bit each, from word 8. */
    static final int FD_BITS = 8;
    public static final int MAX_FD = 1024;
    /** The largest output one buffered call may write: larger reads stop. */
    public static final int MAX_OUT = 256 << 10;
    /** The largest input struct a buffered call may keep (a sigaction, an rlimit). */
    public static final int MAX_IN = 256;
    /** The most one entry takes: header, a path of PATH_MAX, an input struct and an output, each with its block header. */
    public static final int MAX_ENTRY = HEADER + 24 + 4096 + 8 + 24 + MAX_IN + 24 + MAX_OUT + 8;
    static final int PATH_MAX = 4096;
    private static final long EFAULT = -14;
    private static final int NR_NEWFSTATAT = 262;
    private static final int AT_FDCWD = -100;
    private static final int O_NOFOLLOW = 0400000;
    private static final int O_CREAT = 0100;
    private static final long ENOENT = -2;
    /** O_NOFOLLOW shifted right this far is AT_SYMLINK_NOFOLLOW. */
    private static final int NOFOLLOW_SHIFT = 9;
    /** mmap's flags: the mapping's type, a private one, an anonymous one. */
    private static final int MAP_TYPE = 0x0f;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;

    /**
     * What the stub keeps of call {@code nr}: the argument holding a path ({@code -1}: none), the argument
     * the kernel writes to ({@code -1}: none) and how much (a fixed size, or when {@code outFixed} is 0 the
     * result's, bounded by argument {@code countArg}); {@code fdChecked}: buffered only when argument 0 is
     * a descriptor marked in the data page (a read, which on a pipe or terminal would block; a close);
     * {@code clearsFd}: the mark goes with the call (a close); {@code valueArg}: buffered only when that
     * argument is one of {@code values} (fcntl's commands that neither wait nor touch memory);
     * {@code flagArg}: only when that argument has one of the bits of {@code anyFlags} (an open that cannot
     * wait: O_NONBLOCK or O_DIRECTORY), or, with {@code marksFd}, when a stat of the path first (the stub's
     * own, following a symlink unless O_NOFOLLOW is among the flags) finds a regular file or a directory, or
     * nothing (ENOENT) for an open without O_CREAT, while the data page says no file system is served by a
     * process; {@code marksFd}: the descriptor it
     * returns is marked when it is a regular file or a directory and no file system is served (an open);
     * {@code outIsInput}: the bytes at the output argument are the call's input, as the kernel read them (a
     * write's data: the result's length of them); {@code inArg}: a struct of {@code inFixed} bytes the call
     * reads (a sigaction, an rlimit), kept unless the call failed with EFAULT (the kernel reads it before it
     * writes the output, which must then be elsewhere: a call whose two pointers are equal stops).
     */
    public record Plan(int nr, int pathArg, int outArg, int outFixed, int countArg, boolean fdChecked, boolean clearsFd,
                       int valueArg, List<Long> values, int flagArg, long anyFlags, boolean marksFd, boolean outIsInput,
                       int inArg, int inFixed, boolean mapsPrivately) {
        public Plan {
            if (mapsPrivately && (pathArg >= 0 || outArg >= 0 || inArg >= 0 || fdChecked || valueArg >= 0 || flagArg >= 0)) {
                throw new IllegalArgumentException("a private mapping's plan keeps nothing but its arguments and result");
            }
            if (pathArg > 4 || outArg > 4 || countArg > 4 || valueArg > 4 || flagArg > 4 || inArg > 4) {
                throw new IllegalArgumentException("the sixth argument carries the marker");
            }
            if (inArg >= 0 && (inFixed <= 0 || inFixed > MAX_IN || pathArg >= 0 || outIsInput)) {
                throw new IllegalArgumentException("an input struct of " + inFixed + " bytes, or beside another input");
            }
            if (marksFd && (flagArg < 0 || pathArg < 0 || pathArg > 1 || flagArg != pathArg + 1)) {
                throw new IllegalArgumentException("an open's path and flags are arguments 0 and 1, or 1 and 2");
            }
            if (outArg >= 0 && outFixed <= 0 && countArg < 0) throw new IllegalArgumentException("an output with no size");
            if (outFixed > MAX_OUT) throw new IllegalArgumentException("an output larger than " + MAX_OUT);
            if (clearsFd && !fdChecked) throw new IllegalArgumentException("a mark cleared on an unchecked descriptor");
            if (anyFlags != (int) anyFlags || anyFlags < 0) throw new IllegalArgumentException("flags beyond 31 bits");
            values = List.copyOf(values);
            for (long v : values) if (v != (int) v) throw new IllegalArgumentException("a value beyond 32 bits: " + v);
        }

        /** A plan of no mapping. */
        public Plan(int nr, int pathArg, int outArg, int outFixed, int countArg, boolean fdChecked, boolean clearsFd,
                    int valueArg, List<Long> values, int flagArg, long anyFlags, boolean marksFd, boolean outIsInput,
                    int inArg, int inFixed) {
            this(nr, pathArg, outArg, outFixed, countArg, fdChecked, clearsFd, valueArg, values, flagArg, anyFlags,
                    marksFd, outIsInput, inArg, inFixed, false);
        }

        /**
         * mmap's plan ({@code nr}): buffered only when it maps privately (no file is written through it); its
         * sixth argument is the offset, so its marker is the high half of the fifth, the descriptor, which the
         * kernel reads as 32 bits. After a file's mapping the stub traps (its int3) so that deja copies the file
         * through the descriptor before the program can close it.
         */
        public static Plan privateMapping(int nr) {
            return new Plan(nr, -1, -1, 0, -1, false, false, -1, List.of(), -1, 0, false, false, -1, 0, true);
        }

        /** A plan with no input struct. */
        public Plan(int nr, int pathArg, int outArg, int outFixed, int countArg, boolean fdChecked, boolean clearsFd,
                    int valueArg, List<Long> values, int flagArg, long anyFlags, boolean marksFd, boolean outIsInput) {
            this(nr, pathArg, outArg, outFixed, countArg, fdChecked, clearsFd, valueArg, values, flagArg, anyFlags,
                    marksFd, outIsInput, -1, 0);
        }

        /** A plan with no condition on values or flags. */
        public Plan(int nr, int pathArg, int outArg, int outFixed, int countArg, boolean fdChecked) {
            this(nr, pathArg, outArg, outFixed, countArg, fdChecked, false, -1, List.of(), -1, 0, false, false);
        }
    }

    /** The argument registers in syscall order (rdi rsi rdx r10 r8 r9), hardware numbers. */
    private static final int[] ARG_REGS = {7, 6, 2, 10, 8, 9};
    private static final int RAX = 0;
    private static final int RCX = 1;
    private static final int RDX = 2;
    private static final int RSI = 6;
    private static final int RDI = 7;
    private static final int R8 = 8;
    private static final int R9 = 9;

    /**
     * Builds the stub for the {@code syscall} at {@code syscallAddress} in {@code function} (all of the
     * function's code, from {@code functionAddress}), to run at {@code codeAddress} with its data page at
     * {@code dataAddress}, buffering the calls of {@code plans}; {@code marker} is the value in r9 deja's
     * filter lets through.
     *
     * @throws GuardStub.Refused when no patch fits there
     */
    public static BufferStub build(byte[] function, long functionAddress, long syscallAddress, long codeAddress,
                                   long dataAddress, List<Plan> plans, long marker) throws GuardStub.Refused {
        if (plans.isEmpty()) throw new IllegalArgumentException("no call to buffer");
        SyscallPatch plan = SyscallPatch.plan(function, functionAddress, syscallAddress, true);
        GuardStub.Asm a = new GuardStub.Asm(codeAddress);
        StubData d = new StubData(a, dataAddress, SAVE_RSP);
        plan.relocateBefore(a);
        List<Integer> toTraced = new ArrayList<>();
        // The flags into r11 (as the syscall instruction leaves them), kept for after the call.
        d.flagsToR11();
        // Without the trap flag: a single step of deja's that went into the stub set it, and the program's
        // code would trap at every instruction after the popfq that puts these flags back.
        a.bytes(0x49, 0x0F, 0xBA, 0xF3, 0x08);                  // btr r11, 8
        d.op(0x4C, 0x89, 3, SAVE_FLAGS);                        // mov [save_flags], r11
        d.op(0x48, 0x8B, RCX, ENABLED);                         // mov rcx, [enabled]
        a.bytes(0x48, 0x85, 0xC9);                              // test rcx, rcx
        jcc(a, 0x84, toTraced);                                 // jz traced
        long cursorLoad = a.here();
        d.op(0x48, 0x8B, RCX, CURSOR);                          // mov rcx, [cursor]
        d.op(0x48, 0x3B, RCX, LIMIT);                           // cmp rcx, [limit]
        jcc(a, 0x83, toTraced);                                 // jae traced: full
        List<Integer> numbers = new ArrayList<>();
        List<int[]> goes = new ArrayList<>();
        for (Plan p : plans) {
            numbers.add(p.nr());
            a.bytes(0x48, 0x3D);                                // cmp rax, imm32
            a.int32(p.nr());
            int next = a.size() + 2;
            a.bytes(0x0F, 0x85);                                // jne next plan
            a.int32(0);
            if (p.fdChecked()) {
                a.bytes(0x48, 0x81, 0xFF);                      // cmp rdi, MAX_FD
                a.int32(MAX_FD);
                jcc(a, 0x83, toTraced);                         // jae traced
                        d.op0F(0x48, 0xA3, RDI, FD_BITS);               // bt [fd_bits], rdi
                jcc(a, 0x83, toTraced);                         // jnc traced
            }
            if (p.valueArg() >= 0) {
                int reg = ARG_REGS[p.valueArg()];
                List<Integer> toOk = new ArrayList<>();
                for (long v : p.values()) {
                    a.bytes(reg >= 8 ? 0x49 : 0x48, 0x81, 0xC0 | (7 << 3) | (reg & 7)); // cmp reg, v
                    a.int32((int) v);
                    a.bytes(0x0F, 0x84);                        // je ok
                    toOk.add(a.size());
                    a.int32(0);
                }
                a.bytes(0xE9);                                  // none: traced
                toTraced.add(a.size());
                a.int32(0);
                for (int j : toOk) a.patchRel32(j, a.size());
            }
            if (p.flagArg() >= 0) {
                int reg = ARG_REGS[p.flagArg()];
                a.bytes(reg >= 8 ? 0x49 : 0x48, 0xF7, 0xC0 | (reg & 7)); // test reg, flags
                a.int32((int) p.anyFlags());
                if (!p.marksFd()) {
                    jcc(a, 0x84, toTraced);                     // jz traced
                } else {
                    int toOpen = a.size() + 2;
                    a.bytes(0x0F, 0x85);                        // jnz open: it cannot wait
                    a.int32(0);
                    statBeforeOpen(a, d, p, marker, toTraced);
                    a.patchRel32(toOpen, a.size());
                }
            }
            if (p.mapsPrivately()) {
                a.bytes(0x4D, 0x89, 0xD3);                      // mov r11, r10 (the flags were saved)
                a.bytes(0x49, 0x83, 0xE3, MAP_TYPE);            // and r11, MAP_TYPE
                a.bytes(0x49, 0x83, 0xFB, MAP_PRIVATE);         // cmp r11, MAP_PRIVATE
                jcc(a, 0x85, toTraced);                         // jne traced: shared, or a type beyond
            }
            if (p.inArg() >= 0 && p.outArg() >= 0) {
                int in = ARG_REGS[p.inArg()];
                int out = ARG_REGS[p.outArg()];
                a.bytes(in >= 8 ? 0x4D : 0x49, 0x89, 0xC0 | ((in & 7) << 3) | 3); // mov r11, in
                a.bytes(0x4D, 0x85, 0xDB);                      // test r11, r11
                a.bytes(0x74, 0x09);                            // jz past the cmp and the je
                a.bytes(out >= 8 ? 0x4D : 0x49, 0x39, 0xC0 | ((out & 7) << 3) | 3); // cmp r11, out
                jcc(a, 0x84, toTraced);                         // je traced: the output would overwrite the input
            }
            if (p.outArg() >= 0 && p.outFixed() == 0) {
                int count = ARG_REGS[p.countArg()];
                a.bytes(count >= 8 ? 0x49 : 0x48, 0x81, 0xC0 | (7 << 3) | (count & 7)); // cmp count, MAX_OUT
                a.int32(MAX_OUT);
                jcc(a, 0x87, toTraced);                         // ja traced (unsigned: a negative count too)
            }
            a.bytes(0xE9);                                      // jmp to this plan's buffered call
            goes.add(new int[] {a.size(), plans.indexOf(p)});
            a.int32(0);
            a.patchRel32(next, a.size());
        }
        a.bytes(0xE9);                                          // no plan: traced
        toTraced.add(a.size());
        a.int32(0);

        // Each plan: the header, the call made with the marker, the path and the output copied.
        int[] planStart = new int[plans.size()];
        List<Integer> toCommit = new ArrayList<>();
        for (int k = 0; k < plans.size(); k++) {
            Plan p = plans.get(k);
            planStart[k] = a.size();
            store(a, RCX, E_NR, RAX);
            for (int i = 0; i < 6; i++) store(a, RCX, E_ARGS + 8 * i, ARG_REGS[i]);
            if (p.clearsFd()) d.op0F(0x48, 0xB3, RDI, FD_BITS);  // btr [fd_bits], rdi: the descriptor is gone after it
            if (p.mapsPrivately()) {
                // The offset stays in r9; the marker's high half goes over the descriptor's (the entry keeps r8 as given)
                a.bytes(0x44, 0x89, 0xC1);                      // mov ecx, r8d
                a.bytes(0x49, 0xB8);                            // movabs r8, the marker's high half
                a.int64(marker & ~0xffff_ffffL);
                a.bytes(0x49, 0x09, 0xC8);                      // or r8, rcx
            } else {
                a.bytes(0x49, 0xB9);                            // movabs r9, marker
                a.int64(marker);
            }
            a.bytes(0x0F, 0x05);                                // syscall: let through by the filter
            d.op(0x4C, 0x8B, R8 & 7, CURSOR);                   // mov r8, [cursor]
            store(a, R8, E_RESULT, RAX);
            a.bytes(0x49, 0xC7, 0x40, E_BLOCKS, 0, 0, 0, 0);    // mov qword [r8+blocks], 0
            a.bytes(0x49, 0x8D, 0x78, HEADER);                  // lea rdi, [r8+HEADER]
            if (p.mapsPrivately()) {
                // A file mapped (no error, not anonymous): the stub leaves through its mapping trap
                a.bytes(0x48, 0x3D);                            // cmp rax, -4095
                a.int32(-4095);
                int toNoFile = a.size() + 2;
                a.bytes(0x0F, 0x83);                            // jae: an error
                a.int32(0);
                a.bytes(0x49, 0xF7, 0x40, E_ARGS + 24);         // test qword [r8+flags], MAP_ANONYMOUS
                a.int32(MAP_ANONYMOUS);
                int toAnon = a.size() + 2;
                a.bytes(0x0F, 0x85);                            // jnz: anonymous
                a.int32(0);
                d.storeImm(MAPPED_FILE, 1);                     // mov qword [mapped_file], 1
                a.patchRel32(toNoFile, a.size());
                a.patchRel32(toAnon, a.size());
            }
            if (p.pathArg() >= 0) path(a, p.pathArg());
            if (p.inArg() >= 0) input(a, p);
            if (p.outArg() >= 0) output(a, p);
            if (p.marksFd()) markOpened(a, d, marker);
            a.bytes(0xE9);                                      // jmp commit
            toCommit.add(a.size());
            a.int32(0);
        }
        for (int[] g : goes) a.patchRel32(g[0], planStart[g[1]]);
        int commit = a.size();
        for (int j : toCommit) a.patchRel32(j, commit);
        a.bytes(0x48, 0x89, 0xF8);                              // mov rax, rdi
        a.bytes(0x4C, 0x29, 0xC0);                              // sub rax, r8
        store(a, R8, E_LENGTH, RAX);
        d.op(0x48, 0x89, RDI, CURSOR);                          // mov [cursor], rdi: the entry is in
        load(a, RAX, R8, E_RESULT);
        for (int i : new int[] {0, 1, 2, 3, 5, 4}) load(a, ARG_REGS[i], R8, E_ARGS + 8 * i); // r8 last: the base
        d.op(0x4C, 0x8B, 3, SAVE_FLAGS);                        // mov r11, [save_flags]
        a.bytes(0x48, 0xB9);                                    // movabs rcx, the address after the program's syscall
        a.int64(syscallAddress + 2);
        long trapCheck = a.here();
        d.cmpZero(TRAP);                                        // cmp qword [trap], 0
        int toTrap = a.size() + 2;
        a.bytes(0x0F, 0x85);                                    // jne trap exit
        a.int32(0);
        boolean maps = plans.stream().anyMatch(Plan::mapsPrivately);
        int toMappingTrap = -1;
        if (maps) {
            d.cmpZero(MAPPED_FILE);                             // cmp qword [mapped_file], 0
            toMappingTrap = a.size() + 2;
            a.bytes(0x0F, 0x85);                                // jne mapping trap
            a.int32(0);
        }
        d.flagsFromR11();
        int toTail = a.size() + 1;
        a.bytes(0xE9);                                          // jmp tail
        a.int32(0);
        a.patchRel32(toTrap, a.size());
        d.flagsFromR11();
        a.bytes(0xCC);                                          // int3: deja takes the thread out from here
        int toTail2 = a.size() + 1;
        a.bytes(0xE9);                                          // jmp tail
        a.int32(0);
        long mappingTrap = 0;
        int toTail3 = -1;
        if (maps) {
            a.patchRel32(toMappingTrap, a.size());
            d.storeImm(MAPPED_FILE, 0);                         // mov qword [mapped_file], 0 (no flags touched)
            d.flagsFromR11();
            mappingTrap = a.here();
            a.bytes(0xCC);                                      // int3: deja copies the file mapped, its descriptor as mapped
            toTail3 = a.size() + 1;
            a.bytes(0xE9);                                      // jmp tail
            a.int32(0);
        }
        int traced = a.size();
        long tracedPath = a.here();
        for (int j : toTraced) a.patchRel32(j, traced);
        d.op(0x4C, 0x8B, 3, SAVE_FLAGS);                        // mov r11, [save_flags]
        d.flagsFromR11();
        long tracedSyscall = a.here();
        a.bytes(0x0F, 0x05);                                    // syscall: the program's call, stopped as ever
        a.bytes(0x48, 0xB9);                                    // movabs rcx, the address after the program's syscall
        a.int64(syscallAddress + 2);
        a.patchRel32(toTail, a.size());
        a.patchRel32(toTail2, a.size());
        if (toTail3 >= 0) a.patchRel32(toTail3, a.size());
        long tail = a.here();
        plan.relocateAfterAndReturn(a);
        if (a.size() > PAGE) throw new GuardStub.Refused("the stub's code is longer than a page");
        return new BufferStub(a.toArray(), codeAddress, syscallAddress, plan.patchAt(), plan.patch(codeAddress),
                tracedSyscall, tail, trapCheck, tracedPath, cursorLoad, List.copyOf(numbers), mappingTrap);
    }

    /**
     * The path at argument {@code arg} as a block (rdi at the next block, r8 the entry): read up to its NUL
     * or PATH_MAX bytes (a path the kernel took is readable so far), unless the call failed with EFAULT.
     */
    private static void path(GuardStub.Asm a, int arg) {
        a.bytes(0x48, 0x83, 0xF8, (int) EFAULT & 0xFF);         // cmp rax, -EFAULT
        int toSkip = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // je skip
        a.int32(0);
        load(a, RSI, R8, E_ARGS + 8 * arg);                     // mov rsi, [r8+arg]
        a.bytes(0x48, 0x8D, 0x57, 24);                          // lea rdx, [rdi+24]
        a.bytes(0xB9);                                          // mov ecx, PATH_MAX
        a.int32(PATH_MAX);
        int loop = a.size();
        a.bytes(0x8A, 0x06);                                    // mov al, [rsi]
        a.bytes(0x88, 0x02);                                    // mov [rdx], al
        a.bytes(0x48, 0xFF, 0xC6);                              // inc rsi
        a.bytes(0x48, 0xFF, 0xC2);                              // inc rdx
        a.bytes(0x84, 0xC0);                                    // test al, al
        a.bytes(0x74, 0x05);                                    // jz done (past dec and jnz)
        a.bytes(0x48, 0xFF, 0xC9);                              // dec rcx
        a.bytes(0x75, (loop - (a.size() + 2)) & 0xFF);          // jnz loop
        a.bytes(0x48, 0x89, 0xD0);                              // done: mov rax, rdx
        a.bytes(0x48, 0x29, 0xF8);                              // sub rax, rdi
        a.bytes(0x48, 0x83, 0xE8, 24);                          // sub rax, 24: the length
        block(a, arg, RAX);
        a.bytes(0x48, 0x8D, 0x7A, 0x07);                        // lea rdi, [rdx+7]
        alignRdi(a);
        a.bytes(0x49, 0xFF, 0x40, E_BLOCKS);                    // inc qword [r8+blocks]
        load(a, RAX, R8, E_RESULT);
        a.patchRel32(toSkip, a.size());
    }

    /**
     * After an open (rax its result, r8 the entry): while no file system is served, the descriptor is marked
     * when the stub's own fstat of it (let through by the marker) says a regular file or a directory.
     */
    private static void markOpened(GuardStub.Asm a, StubData d, long marker) throws GuardStub.Refused {
        List<Integer> skips = new ArrayList<>();
        a.bytes(0x49, 0x89, 0xFA);                              // mov r10, rdi: the entry's end, kept over the fstat
        a.bytes(0x48, 0x3D);                                    // cmp rax, MAX_FD
        a.int32(MAX_FD);
        jcc(a, 0x83, skips);                                    // jae skip: an error, or too high
        d.cmpZero(NONE_SERVED);                                 // cmp qword [none_served], 0
        jcc(a, 0x84, skips);                                    // je skip
        a.bytes(0x48, 0x89, 0xC7);                              // mov rdi, rax
        d.op(0x48, 0x8D, RSI, STAT_BUF);                        // lea rsi, [stat_buf]
        a.bytes(0xB8, 5, 0, 0, 0);                              // mov eax, 5: fstat
        a.bytes(0x49, 0xB9);                                    // movabs r9, marker
        a.int64(marker);
        a.bytes(0x0F, 0x05);                                    // syscall
        a.bytes(0x48, 0x85, 0xC0);                              // test rax, rax
        jcc(a, 0x85, skips);                                    // jnz skip
        d.op(0x00, 0x8B, RAX, STAT_BUF, ST_MODE);               // mov eax, [stat_buf + st_mode]
        a.bytes(0x25);                                          // and eax, S_IFMT
        a.int32(0xF000);
        a.bytes(0x3D);                                          // cmp eax, S_IFREG
        a.int32(0x8000);
        int toMark = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // je mark
        a.int32(0);
        a.bytes(0x3D);                                          // cmp eax, S_IFDIR
        a.int32(0x4000);
        jcc(a, 0x85, skips);                                    // jne skip
        a.patchRel32(toMark, a.size());
        load(a, RDI, R8, E_RESULT);                             // mov rdi, [r8+result]
        d.op0F(0x48, 0xAB, RDI, FD_BITS);                       // bts [fd_bits], rdi
        for (int j : skips) a.patchRel32(j, a.size());
        load(a, RAX, R8, E_RESULT);
        a.bytes(0x4C, 0x89, 0xD7);                              // mov rdi, r10
    }

    /**
     * An open whose flags say it may wait (rcx the cursor, rax the call, the arguments as the program gave
     * them): the stub's own stat of its path, let through by the marker, must find a regular file or a
     * directory, or nothing at all when the open creates nothing (a header searched along an include path),
     * while no file system is served by a process (such an open never waits: only a FIFO, a device or a
     * served file does), else the traced call. The registers are as they came either way.
     */
    private static void statBeforeOpen(GuardStub.Asm a, StubData d, Plan p, long marker, List<Integer> toTraced)
            throws GuardStub.Refused {
        d.cmpZero(NONE_SERVED);                                 // cmp qword [none_served], 0
        jcc(a, 0x84, toTraced);                                 // je traced
        for (int i = 0; i < 6; i++) store(a, RCX, E_ARGS + 8 * i, ARG_REGS[i]); // kept in the entry meanwhile
        int flags = ARG_REGS[p.flagArg()];
        a.bytes(flags >= 8 ? 0x4D : 0x49, 0x89, 0xC0 | ((flags & 7) << 3) | 2); // mov r10, flags
        a.bytes(0x49, 0x81, 0xE2);                              // and r10, O_NOFOLLOW
        a.int32(O_NOFOLLOW);
        a.bytes(0x49, 0xC1, 0xEA, NOFOLLOW_SHIFT);              // shr r10, 9: AT_SYMLINK_NOFOLLOW or 0
        if (p.pathArg() == 0) {
            a.bytes(0x48, 0x89, 0xFE);                          // mov rsi, rdi: open's path
            a.bytes(0x48, 0xC7, 0xC7);                          // mov rdi, AT_FDCWD
            a.int32(AT_FDCWD);
        }
        d.op(0x48, 0x8D, RDX, STAT_BUF);                        // lea rdx, [stat_buf]
        a.bytes(0xB8);                                          // mov eax, newfstatat
        a.int32(NR_NEWFSTATAT);
        a.bytes(0x49, 0xB9);                                    // movabs r9, marker
        a.int64(marker);
        a.bytes(0x0F, 0x05);                                    // syscall
        a.bytes(0x49, 0x89, 0xC3);                              // mov r11, rax: the stat's result
        d.op(0x48, 0x8B, RCX, CURSOR);                          // mov rcx, [cursor]
        for (int i = 0; i < 6; i++) load(a, ARG_REGS[i], RCX, E_ARGS + 8 * i);
        a.bytes(0xB8);                                          // mov eax, the open
        a.int32(p.nr());
        List<Integer> toOpen = new ArrayList<>();
        a.bytes(0x4D, 0x85, 0xDB);                              // test r11, r11
        int toFound = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // je found
        a.int32(0);
        a.bytes(0x49, 0x83, 0xFB, (int) ENOENT & 0xFF);         // cmp r11, -ENOENT
        jcc(a, 0x85, toTraced);                                 // jne traced: another error
        int flags2 = ARG_REGS[p.flagArg()];
        a.bytes(flags2 >= 8 ? 0x49 : 0x48, 0xF7, 0xC0 | (flags2 & 7)); // test flags, O_CREAT
        a.int32(O_CREAT);
        jcc(a, 0x85, toTraced);                                 // jnz traced: it would make the file
        a.bytes(0xE9);                                          // jmp open: nothing there, the open fails the same
        toOpen.add(a.size());
        a.int32(0);
        a.patchRel32(toFound, a.size());
        d.op(0x44, 0x8B, 3, STAT_BUF, ST_MODE);                 // found: mov r11d, [stat_buf + st_mode]
        a.bytes(0x41, 0x81, 0xE3);                              // and r11d, S_IFMT
        a.int32(0xF000);
        a.bytes(0x41, 0x81, 0xFB);                              // cmp r11d, S_IFREG
        a.int32(0x8000);
        jcc(a, 0x84, toOpen);                                   // je open
        a.bytes(0x41, 0x81, 0xFB);                              // cmp r11d, S_IFDIR
        a.int32(0x4000);
        jcc(a, 0x85, toTraced);                                 // jne traced
        for (int j : toOpen) a.patchRel32(j, a.size());
    }

    /** The struct the call read at the plan's input argument, unless it failed with EFAULT or the pointer is null. */
    private static void input(GuardStub.Asm a, Plan p) {
        a.bytes(0x48, 0x83, 0xF8, (int) EFAULT & 0xFF);         // cmp rax, -EFAULT
        int toSkip = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // je skip
        a.int32(0);
        load(a, RSI, R8, E_ARGS + 8 * p.inArg());               // mov rsi, [r8+arg]
        a.bytes(0x48, 0x85, 0xF6);                              // test rsi, rsi
        int toSkip2 = a.size() + 2;
        a.bytes(0x0F, 0x84);                                    // jz skip
        a.int32(0);
        a.bytes(0xB9);                                          // mov ecx, size
        a.int32(p.inFixed());
        copyBlock(a, p.inArg());
        a.patchRel32(toSkip, a.size());
        a.patchRel32(toSkip2, a.size());
    }

    /** What the kernel wrote at the plan's output argument, when the call succeeded. */
    private static void output(GuardStub.Asm a, Plan p) {
        a.bytes(0x48, 0x3D);                                    // cmp rax, -4095
        a.int32(-4095);
        int toSkip = a.size() + 2;
        a.bytes(0x0F, 0x83);                                    // jae skip: an error
        a.int32(0);
        List<Integer> skips = new ArrayList<>();
        if (p.outFixed() > 0) {
            a.bytes(0xB9);                                      // mov ecx, size
            a.int32(p.outFixed());
        } else {
            a.bytes(0x48, 0x85, 0xC0);                          // test rax, rax
            a.bytes(0x0F, 0x84);                                // jz skip: nothing written
            skips.add(a.size());
            a.int32(0);
            a.bytes(0x48, 0x89, 0xC1);                          // mov rcx, rax
        }
        load(a, RSI, R8, E_ARGS + 8 * p.outArg());              // mov rsi, [r8+arg]
        a.bytes(0x48, 0x85, 0xF6);                              // test rsi, rsi
        a.bytes(0x0F, 0x84);                                    // jz skip
        skips.add(a.size());
        a.int32(0);
        copyBlock(a, p.outArg());
        load(a, RAX, R8, E_RESULT);
        a.patchRel32(toSkip, a.size());
        for (int s : skips) a.patchRel32(s, a.size());
    }

    /**
     * A block of rcx bytes from rsi for argument {@code arg} at rdi (r8 the entry): header, bytes, rdi past
     * them aligned, the entry's block count up.
     */
    private static void copyBlock(GuardStub.Asm a, int arg) {
        block(a, arg, RCX);
        a.bytes(0x48, 0x83, 0xC7, 24);                          // add rdi, 24
        a.bytes(0xFC);                                          // cld (the flags go back from r11)
        a.bytes(0xF3, 0xA4);                                    // rep movsb
        a.bytes(0x48, 0x83, 0xC7, 0x07);                        // add rdi, 7
        alignRdi(a);
        a.bytes(0x49, 0xFF, 0x40, E_BLOCKS);                    // inc qword [r8+blocks]
    }

    /** A block's header at rdi: (argument * 8, offset 0, length in {@code lengthReg}). */
    private static void block(GuardStub.Asm a, int arg, int lengthReg) {
        a.bytes(0x48, 0xC7, 0x07);                              // mov qword [rdi], arg * 8
        a.int32(8 * arg);
        a.bytes(0x48, 0xC7, 0x47, 0x08, 0, 0, 0, 0);            // mov qword [rdi+8], 0
        a.bytes(0x48, 0x89, 0x47 | (lengthReg << 3), 0x10);     // mov [rdi+16], length
    }

    private static void alignRdi(GuardStub.Asm a) {
        a.bytes(0x48, 0x83, 0xE7, 0xF8);                        // and rdi, -8
    }

    /** mov [base+disp8], reg (base not rsp/r12). */
    private static void store(GuardStub.Asm a, int base, int disp, int reg) {
        a.bytes(0x48 | (reg >= 8 ? 4 : 0) | (base >= 8 ? 1 : 0), 0x89, 0x40 | ((reg & 7) << 3) | (base & 7), disp);
    }

    /** mov reg, [base+disp8] (base not rsp/r12). */
    private static void load(GuardStub.Asm a, int reg, int base, int disp) {
        a.bytes(0x48 | (reg >= 8 ? 4 : 0) | (base >= 8 ? 1 : 0), 0x8B, 0x40 | ((reg & 7) << 3) | (base & 7), disp);
    }

    private static void jcc(GuardStub.Asm a, int cc, List<Integer> to) {
        a.bytes(0x0F, cc);
        to.add(a.size());
        a.int32(0);
    }


    // ---- the data page and the buffer, as deja reads and writes them ----------------------------------

    /** The data page for a buffer of {@code bufferBytes} after it: on, empty, no descriptor marked. */
    public static byte[] dataPage(long dataAddress, long bufferBytes) {
        ByteBuffer b = ByteBuffer.allocate(PAGE).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(8 * ENABLED, 1);
        b.putLong(8 * CURSOR, dataAddress + PAGE);
        b.putLong(8 * LIMIT, dataAddress + PAGE + bufferBytes - MAX_ENTRY);
        return b.array();
    }

    public static long enabledAddress(long dataAddress) {
        return dataAddress + 8 * ENABLED;
    }

    public static long cursorAddress(long dataAddress) {
        return dataAddress + 8 * CURSOR;
    }

    public static long noneServedAddress(long dataAddress) {
        return dataAddress + 8 * NONE_SERVED;
    }

    public static long trapAddress(long dataAddress) {
        return dataAddress + 8 * TRAP;
    }

    /** The data page's word holding descriptor {@code fd}'s bit, and the bit's mask in it. */
    public static long fdWordAddress(long dataAddress, int fd) {
        return dataAddress + 8L * FD_BITS + 8L * (fd / 64);
    }

    public static long fdBit(int fd) {
        return 1L << (fd % 64);
    }

    /** The first entry's address: the buffer starts after the data page. */
    public static long bufferStart(long dataAddress) {
        return dataAddress + PAGE;
    }

    /** One call the stub kept: as it made it, its result, and the blocks (a path, an output). */
    public record Entry(int nr, long[] args, long result, List<Block> blocks) {
    }

    /** Bytes at argument {@code arg}'s value. */
    public record Block(int arg, byte[] data) {
    }

    /**
     * The entries of a buffer's bytes (from its start to the cursor).
     *
     * @throws IllegalArgumentException when they do not parse (a program that wrote over them)
     */
    public static List<Entry> entries(byte[] buffer) {
        ByteBuffer b = ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN);
        List<Entry> out = new ArrayList<>();
        int at = 0;
        while (at < buffer.length) {
            if (buffer.length - at < HEADER) throw new IllegalArgumentException("a cut entry at byte " + at);
            long length = b.getLong(at + E_LENGTH);
            long blocks = b.getLong(at + E_BLOCKS);
            if (length < HEADER || length > buffer.length - at || (length & 7) != 0 || blocks < 0 || blocks > 3) {
                throw new IllegalArgumentException("entry at byte " + at + " has length " + length + " and " + blocks + " blocks");
            }
            long[] args = new long[6];
            for (int i = 0; i < 6; i++) args[i] = b.getLong(at + E_ARGS + 8 * i);
            List<Block> list = new ArrayList<>(3);
            int p = at + HEADER;
            for (int k = 0; k < blocks; k++) {
                long arg = b.getLong(p) / 8;
                long n = b.getLong(p + 16);
                if (arg < 0 || arg > 5 || n < 0 || p + 24 + n > at + length) {
                    throw new IllegalArgumentException("entry at byte " + at + " has a block of " + n + " bytes at argument " + arg);
                }
                byte[] data = new byte[(int) n];
                b.get(p + 24, data);
                list.add(new Block((int) arg, data));
                p += 24 + (int) ((n + 7) & -8);
            }
            out.add(new Entry((int) b.getLong(at + E_NR), args, b.getLong(at + E_RESULT), List.copyOf(list)));
            at += (int) length;
        }
        return out;
    }
}
