package dev.deja.device;

import dev.deja.device.ffm.Ptrace;
import dev.deja.device.ffm.Wait;
import dev.deja.device.syscall.TraceeMemory;
import dev.deja.device.x86.GuardStub;
import dev.deja.device.x86.RepString;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link GuardStub} installed in a replayed thread on its way to a recorded preemption point:
 * the stub's page is mapped next to the code (within rel32 reach) and the patch written at the
 * point; both go again as soon as the thread stops there or reaches a syscall, so no call of the
 * program ever sees them (nothing else runs meanwhile: replay runs one thread at a time).
 */
final class InThreadGuard {
    /** Runs of white space, as /proc's files separate their fields (compiled once: String.split would at every call). */
    private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile("\\s+");
    private static final int PAGE = 4096;
    /** x86_64 syscall numbers (the device is x86_64 only, as {@link X86Regs}). */
    private static final int NR_MMAP = 9;
    private static final int NR_MUNMAP = 11;
    /** The stub keeps two registers in its page while it runs: read, write and execute. */
    private static final int PROT_RWX = 0x7;
    private static final int MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE = 0x02 | 0x20 | 0x100000;
    /** Where the stub may go: this far from the code at most (rel32 reach, with room to spare). */
    private static final long REACH = 1L << 30;
    /** rcx, rsi and rdi in hardware order: the registers a rep string instruction moves through its iterations. */
    private static final int STRING_REGISTERS = (1 << 1) | (1 << 6) | (1 << 7);
    /** DEJA_NO_GUARD=1 turns the in-thread guard off (the plain breakpoint matcher alone: for comparisons). */
    static final boolean ENABLED = System.getenv("DEJA_NO_GUARD") == null;

    /** What {@link #install} returns when the thread stands inside the bytes to patch: try again at its next stop. */
    static final InThreadGuard NOT_NOW = new InThreadGuard(null, new byte[0], 0);

    /** Writes code bytes into the process (through /proc/PID/mem, as a debugger does). */
    interface CodeWriter {
        void write(long address, byte[] bytes);
    }

    private final GuardStub stub;
    private final byte[] original;
    private final long syscallInsn;
    /** Traps in the stub whose registers were the point's but not the rest of the state (flags, stack). */
    int misses;

    private InThreadGuard(GuardStub stub, byte[] original, long syscallInsn) {
        this.stub = stub;
        this.original = original;
        this.syscallInsn = syscallInsn;
    }

    /** The stub's trap: a SIGTRAP with the instruction pointer here is the guard's. */
    long hitRip() {
        return stub.hitAddress() + 1;
    }

    /**
     * A thread that faulted in the stub's hashes ({@link GuardStub#faultsInCheck}): the registers it had
     * before the comparison, on its way to the displaced code (the pass is not the point: its memory is
     * not the recorded one), or null when the fault is not the stub's.
     */
    long[] pastFault(long[] regs, TraceeMemory memory) {
        if (!stub.faultsInCheck(regs[X86Regs.RIP])) return null;
        byte[] data = new byte[GuardStub.SLOTS_READ];
        if (memory.read(stub.dataAddress(), data, 0, data.length) != data.length) return null;
        long[] hw = GuardStub.faultRegisters(data, hardwareOrder(regs), regs[X86Regs.EFLAGS]);
        long[] out = regs.clone();
        out[X86Regs.RAX] = hw[0];
        out[X86Regs.RCX] = hw[1];
        out[X86Regs.RDX] = hw[2];
        out[X86Regs.RSI] = hw[6];
        out[X86Regs.RDI] = hw[7];
        out[X86Regs.EFLAGS] = hw[GuardStub.REGISTERS];
        out[X86Regs.RIP] = stub.resumeAddress();
        return out;
    }

    long resumeAddress() {
        return stub.resumeAddress();
    }

    /**
     * Where a thread stopped at {@code rip} goes on once the guard is in: at the point itself when the
     * patch starts before it, the stub's comparison (the instructions before the point have run).
     */
    long resumeFrom(long rip) {
        return rip == stub.address() && stub.patchAddress() < stub.address() ? stub.checkAddress() : rip;
    }

    /**
     * Installs a guard for {@code target} in thread {@code tid}, or returns null (with the reason on
     * stderr under DEJA_DEBUG_MATCH) when none can be: the code cannot be moved, no page is free in
     * reach, no syscall instruction to map it with.
     */
    static InThreadGuard install(Ptrace ptrace, Wait wait, int pid, int tid, TraceeMemory memory, CodeWriter code,
                                 RunTarget target, RepString rep, long rip, boolean debug) {
        String maps = maps(pid);
        long syscallInsn = syscallInstruction(maps, memory);
        if (syscallInsn == 0) {
            if (debug) System.err.println("deja: match tid " + tid + " no guard: no syscall instruction");
            return null;
        }
        // At a rep string instruction the stub stops at each execution whose other registers are the point's;
        // deja then runs it for the iterations recorded.
        int uncompared = rep == null ? 0 : STRING_REGISTERS;
        GuardStub.StackCheck stack = rep == null ? stackCheck(memory, target) : null;
        Plan plan;
        try {
            plan = plan(maps, memory, target.rip(), hardwareOrder(target.registers()), uncompared, stack);
        } catch (GuardStub.Refused r) {
            if (debug) System.err.println("deja: match tid " + tid + " no guard: " + r.getMessage());
            return null;
        }
        GuardStub stub = plan.stub();
        if (rip > stub.patchAddress() && rip < stub.patchAddress() + stub.patch().length && rip != target.rip()) {
            if (debug) System.err.println("deja: match tid " + tid + " no guard yet: the thread stopped inside the bytes to patch");
            return NOT_NOW;
        }
        long got = RemoteSyscall.through(ptrace, wait, tid, syscallInsn, NR_MMAP, plan.page(), GuardStub.SIZE, PROT_RWX,
                MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE, -1, 0);
        if (got != plan.page()) {
            if (debug) System.err.println("deja: match tid " + tid + " no guard: mmap of its page gave " + got);
            return null;
        }
        code.write(plan.page(), stub.code());
        code.write(stub.patchAddress(), stub.patch());
        return new InThreadGuard(stub, plan.original(), syscallInsn);
    }

    /**
     * Whether replay could guard a point at {@code at} (recording asks, to step a preempted thread to
     * such an instruction): the same checks as {@link #install}, short of mapping the stub's page.
     * {@code maps} is the process's /proc/PID/maps.
     */
    static boolean guardable(String maps, TraceeMemory memory, long at) {
        try {
            plan(maps, memory, at, new long[GuardStub.REGISTERS], 0, null);
            return true;
        } catch (GuardStub.Refused r) {
            return false;
        } catch (RuntimeException bug) {
            // The stepping this answers is an optimisation: a fault in the stub builder must not end the
            // recording (an IndexOutOfBoundsException in libjvm code did, until fixed); the point stays where it is.
            System.err.println("deja: warning: no guard check at 0x" + Long.toHexString(at) + ": " + bug);
            return false;
        }
    }

    /** A stub built for its page, and the program's bytes its patch replaces. */
    private record Plan(GuardStub stub, byte[] original, long page) {
    }

    private static Plan plan(String maps, TraceeMemory memory, long at, long[] registers, int uncompared,
                             GuardStub.StackCheck stack) throws GuardStub.Refused {
        long module = moduleBase(maps, at);
        // A module's code with no function bounds (V8's builtins in node's text have no .eh_frame) is patched as
        // JIT code is, the point's one instruction alone: no branch can land inside it, bounds or not.
        FunctionBounds.Range function = module == 0 ? null : FunctionBounds.of(memory, module, at);
        if (function != null && function.end() - function.start() > GuardStub.MAX_FUNCTION) {
            throw new GuardStub.Refused("the function is too large to check");
        }
        long page = freeSpaceNear(maps, at);
        if (page == 0) throw new GuardStub.Refused("no free page in reach");
        if (function != null) {
            byte[] text = new byte[(int) (function.end() - function.start())];
            if (memory.read(function.start(), text, 0, text.length) != text.length) {
                throw new GuardStub.Refused("the function's code cannot be read");
            }
            GuardStub stub = GuardStub.build(text, function.start(), at, page, registers, uncompared, stack);
            int from = (int) (stub.patchAddress() - function.start());
            return new Plan(stub, Arrays.copyOfRange(text, from, from + stub.patch().length), page);
        }
        // Code outside any module (a JIT's), or without bounds: the one instruction at the point, if it is long enough.
        byte[] insn = new byte[15];
        int n = memory.read(at, insn, 0, insn.length);
        if (n <= 0) throw new GuardStub.Refused("the code cannot be read");
        GuardStub stub = GuardStub.buildSingle(Arrays.copyOf(insn, n), at, page, registers, uncompared, stack);
        return new Plan(stub, Arrays.copyOf(insn, stub.patch().length), page);
    }

    /**
     * The point's stack window for the stub to hash itself, when all of it is readable now: the same
     * bytes {@link RunState#stackHash} reads at a stop whose stack pointer is the point's. Not at a rep
     * string instruction, whose stores may be into that window between its start and the point.
     */
    private static GuardStub.StackCheck stackCheck(TraceeMemory memory, RunTarget target) {
        long start = target.register(X86Regs.RSP) - RunState.BELOW_SP;
        int length = RunState.BELOW_SP + RunState.ABOVE_SP;
        byte[] window = new byte[length];
        if (memory.read(start, window, 0, length) != length) return null;
        return new GuardStub.StackCheck(start, length, target.stackHash(), memoryChecks(memory, target), target.apicIdsLeftOut());
    }

    /**
     * The point's memory witness for the stub to hash itself: its first level, and its second when the
     * first is there; each only when all its windows are readable now (the stub would fault on one that
     * is not: deja then checks that level at the stop instead).
     */
    private static java.util.List<GuardStub.WordCheck> memoryChecks(TraceeMemory memory, RunTarget target) {
        MemoryWitness w = target.memory();
        if (w.mask() == 0 || w.hash() == 1 || !MemoryWitness.CHECKED) return java.util.List.of(); // 1: a hash nudged off 0, which the stub cannot tell
        GuardStub.WordCheck level1 = wordCheck(memory, MemoryWitness.registerWindows(target.registers(), w.mask()), w.hash(),
                w.apicIdsLeftOut());
        if (level1 == null) return java.util.List.of();
        if (w.pointers().length == 0 || w.deepHash() == 1) return java.util.List.of(level1);
        GuardStub.WordCheck level2 = wordCheck(memory, MemoryWitness.pointerWindows(w.pointers()), w.deepHash(),
                w.apicIdsLeftOut());
        return level2 == null ? java.util.List.of(level1) : java.util.List.of(level1, level2);
    }

    /** The check of {@code windows} ([start, end) pairs), or null when one is not readable now. */
    private static GuardStub.WordCheck wordCheck(TraceeMemory memory, long[][] windows, long hash, boolean apicIdsLeftOut) {
        long[] starts = new long[windows.length];
        int[] words = new int[windows.length];
        for (int i = 0; i < starts.length; i++) {
            long[] w = windows[i];
            int length = (int) (w[1] - w[0]);
            if (memory.read(w[0], new byte[length], 0, length) != length) return null;
            starts[i] = w[0];
            words[i] = length / 8;
        }
        return new GuardStub.WordCheck(starts, words, hash, apicIdsLeftOut);
    }

    /**
     * Where a thread that faulted at {@code rip} (in the stub's copy of the instruction at the point)
     * was in the program's code: its handler must see the program's address (HotSpot's implicit null
     * checks look the address up); {@code rip} itself anywhere else.
     */
    long programAddress(long rip) {
        return rip == stub.resumeAddress() ? stub.address() : rip;
    }

    /**
     * Takes the guard out: the original code back (unless the program rewrote those bytes meanwhile, as a
     * JIT may: then they stay as it wrote them) and, while the thread lives, its page unmapped.
     */
    void remove(Ptrace ptrace, Wait wait, int tid, TraceeMemory memory, CodeWriter code, boolean threadAlive) {
        byte[] now = new byte[original.length];
        if (memory.read(stub.patchAddress(), now, 0, now.length) != now.length || Arrays.equals(now, stub.patch())) {
            code.write(stub.patchAddress(), original);
        }
        if (threadAlive) RemoteSyscall.through(ptrace, wait, tid, syscallInsn, NR_MUNMAP, stub.stubAddress(), GuardStub.SIZE);
    }

    /** user_regs_struct words in the hardware order the stub compares (rax rcx rdx rbx rsp rbp rsi rdi r8-r15). */
    static long[] hardwareOrder(long[] regs) {
        int[] index = {10, 11, 12, 5, X86Regs.RSP, X86Regs.RBP, X86Regs.RSI, X86Regs.RDI,
                X86Regs.R8, X86Regs.R9, X86Regs.R10, X86Regs.R11, 3, 2, 1, X86Regs.R15};
        long[] out = new long[GuardStub.REGISTERS];
        for (int i = 0; i < out.length; i++) out[i] = regs[index[i]];
        return out;
    }

    static String maps(int pid) {
        try {
            return Files.readString(ProcFs.proc(pid).resolve("maps"), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** Where the ELF module holding {@code at} has its header: its mapping at file offset 0, or 0. */
    static long moduleBase(String maps, long at) {
        // By hand, not split by a pattern: a replay asks this for every function it patches, in every process
        String path = null;
        for (int from = 0; from < maps.length() && path == null; ) {
            int eol = lineEnd(maps, from);
            int dash = maps.indexOf('-', from);
            int sp = maps.indexOf(' ', from);
            if (dash > from && sp > dash && sp < eol) {
                long start = Long.parseUnsignedLong(maps, from, dash, 16);
                long end = Long.parseUnsignedLong(maps, dash + 1, sp, 16);
                int name = pathField(maps, from, eol);
                if (at >= start && at < end && name >= 0) path = maps.substring(name, eol);
            }
            from = eol + 1;
        }
        if (path == null) return 0;
        for (int from = 0; from < maps.length(); ) {
            int eol = lineEnd(maps, from);
            int name = pathField(maps, from, eol);
            if (name >= 0 && eol - name == path.length() && maps.startsWith(path, name)) {
                int dash = maps.indexOf('-', from);
                int offset = maps.indexOf(' ', maps.indexOf(' ', from) + 1) + 1; // after the permissions
                int offsetEnd = maps.indexOf(' ', offset);
                if (Long.parseUnsignedLong(maps, offset, offsetEnd, 16) == 0) return Long.parseUnsignedLong(maps, from, dash, 16);
            }
            from = eol + 1;
        }
        return 0;
    }

    private static int lineEnd(String maps, int from) {
        int eol = maps.indexOf('\n', from);
        return eol < 0 ? maps.length() : eol;
    }

    /**
     * Where a maps line's path starts (the sixth field: after range, permissions, offset, device and inode),
     * when it is a file's (an absolute path); else -1.
     */
    private static int pathField(String maps, int from, int eol) {
        int at = from;
        for (int field = 0; field < 5; field++) {
            at = maps.indexOf(' ', at);
            if (at < 0 || at >= eol) return -1;
            while (at < eol && maps.charAt(at) == ' ') at++;
        }
        return at < eol && maps.charAt(at) == '/' ? at : -1;
    }

    /** The free, page-aligned {@link GuardStub#SIZE} bytes nearest to {@code at} within {@link #REACH}, or 0. */
    static long freeSpaceNear(String maps, long at) {
        return freeSpaceNear(maps, at, GuardStub.SIZE);
    }

    /** The free, page-aligned {@code size} bytes nearest to {@code at} within {@link #REACH}, or 0. */
    static long freeSpaceNear(String maps, long at, long size) {
        return freeSpaceNear(maps, at, size, List.of());
    }

    /**
     * As {@link #freeSpaceNear(String, long, long)}, with the ranges {@code alsoTaken} ([start, end)) counted as
     * mapped: where the program will map or unmap while the space is deja's.
     */
    static long freeSpaceNear(String maps, long at, long size, List<long[]> alsoTaken) {
        List<long[]> ranges = new ArrayList<>(alsoTaken);
        for (String line : maps.lines().toList()) {
            int dash = line.indexOf('-');
            int sp = line.indexOf(' ');
            if (dash <= 0 || sp <= dash) continue;
            ranges.add(new long[] {Long.parseUnsignedLong(line.substring(0, dash), 16),
                    Long.parseUnsignedLong(line.substring(dash + 1, sp), 16)});
        }
        if (!alsoTaken.isEmpty()) ranges.sort((x, y) -> Long.compareUnsigned(x[0], y[0]));
        ranges.add(new long[] {0x7ffffffff000L, 0x7ffffffff000L}); // past the last mapping: the top of user space
        long best = 0;
        long bestDistance = Long.MAX_VALUE;
        long prevEnd = 0x10000; // above mmap_min_addr
        for (long[] r : ranges) {
            long start = r[0];
            long end = r[1];
            if (start - prevEnd >= size && Long.compareUnsigned(start, prevEnd) > 0) {
                // The page of this gap nearest to the code.
                long candidate = at < prevEnd ? prevEnd : at >= start ? start - size : (at & ~(PAGE - 1L));
                long distance = Math.abs(candidate - at);
                if (distance < bestDistance && distance < REACH && candidate >= prevEnd && candidate + size <= start) {
                    best = candidate;
                    bestDistance = distance;
                }
            }
            prevEnd = Math.max(prevEnd, end);
        }
        return best;
    }

    /** The address of a `syscall` instruction (0f 05) in the vDSO, or 0. */
    static long syscallInstruction(String maps, TraceeMemory memory) {
        for (String line : maps.lines().toList()) {
            if (!line.endsWith("[vdso]")) continue;
            int dash = line.indexOf('-');
            long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
            long end = Long.parseUnsignedLong(line.substring(dash + 1, line.indexOf(' ')), 16);
            byte[] vdso = new byte[(int) Math.min(end - start, 1 << 16)];
            int n = memory.read(start, vdso, 0, vdso.length);
            for (int i = 0; i + 1 < n; i++) {
                if (vdso[i] == 0x0f && vdso[i + 1] == 0x05) return start + i;
            }
        }
        return 0;
    }
}
