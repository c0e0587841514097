package dev.deja.device;

import dev.deja.device.syscall.TraceeMemory;
import dev.deja.device.x86.CpuidLeaf1;

/**
 * What identifies a thread's position between two syscalls without an instruction counter: its
 * general registers, arithmetic flags, TLS base and a hash of the top of its stack (with, beyond it,
 * the deeper stack's hash and the memory the registers point at, {@link MemoryWitness}). A counting
 * loop differs from one turn to the next in a register or a stack slot; a spin-wait on a flag that
 * only a held thread could change repeats the same state, so its first match is as good as the
 * recorded one. Pure: used by the recorder (at an interrupt) and the replayer (at a breakpoint).
 */
public final class RunState {
    /** Flags compared: CF PF AF ZF SF DF OF (TF and RF differ between a trap and an interrupt). */
    static final long FLAGS_MASK = 0x0CD5;
    /** The stack hash covers the red zone below the stack pointer and this much above it. */
    static final int BELOW_SP = 128;
    static final int ABOVE_SP = 384;
    /**
     * The deeper hash covers [sp+384, sp+4096): the frames of the callers, where an outer loop keeps
     * its count. A JIT-compiled inner loop repeats its registers and its own frame once per outer
     * turn (javac's C2-compiled code matched after 0.04 to 0.07 of the recorded CPU time in 5 of 26
     * points of one recording); the first 640 bytes of this window told those turns apart in each.
     */
    static final int DEEPER_TO = 4096;

    private RunState() {
    }

    /**
     * A thread at the entry of a syscall whose instruction is the target's point (the interrupt came just as it
     * was about to run it): its registers as they were on the instruction, or null when it entered another call.
     * The instruction set rip (past it) and, at the entry stop, rax (the call's number is then orig_rax); rcx
     * and r11, which it overwrote with the return address and the flags, are dead there (the program never reads
     * them before the instruction writes them) and are taken from the target. Whether the thread is at the point
     * is then {@link #matches} of these registers.
     */
    public static long[] onSyscallInstruction(RunTarget target, long[] entryRegs) {
        if (entryRegs[X86Regs.RIP] != target.rip() + X86Regs.SYSCALL_INSN_LENGTH) return null;
        long[] at = entryRegs.clone();
        at[X86Regs.RIP] = target.rip();
        at[X86Regs.RAX] = entryRegs[X86Regs.ORIG_RAX];
        at[X86Regs.RCX] = target.register(X86Regs.RCX);
        at[X86Regs.R11] = target.register(X86Regs.R11);
        at[X86Regs.ORIG_RAX] = target.register(X86Regs.ORIG_RAX);
        return at;
    }

    /** Whether {@code regs} (and the stack hash) are the target's state. */
    public static boolean matches(RunTarget target, long[] regs, long stackHash) {
        for (int i = 0; i <= X86Regs.RDI; i++) {
            if (!sameRegister(regs[i], target.register(i))) return false;
        }
        return regs[X86Regs.RIP] == target.register(X86Regs.RIP)
                && regs[X86Regs.RSP] == target.register(X86Regs.RSP)
                && regs[X86Regs.FS_BASE] == target.register(X86Regs.FS_BASE)
                && (regs[X86Regs.EFLAGS] & FLAGS_MASK) == (target.register(X86Regs.EFLAGS) & FLAGS_MASK)
                && stackHash == target.stackHash();
    }

    /**
     * Whether a general register (not rsp or rip) holds the recorded value: the same, or the same but for the
     * APIC IDs of cpuid leaf 1's EBX ({@link CpuidLeaf1}), which a program can still have in
     * a register from its last cpuid (signal_in_cpuid_loop keeps it in rbx) and which replay's cpuid answers
     * differently on these VMs.
     */
    static boolean sameRegister(long live, long recorded) {
        return live == recorded || CpuidLeaf1.withoutApicIds(live) == CpuidLeaf1.withoutApicIds(recorded);
    }

    /**
     * Whether {@code regs} are the target's but for rcx, rsi and rdi: at a rep string instruction, the
     * state before its first iteration of the execution the target interrupted part of the way.
     */
    public static boolean matchesBeforeIterations(RunTarget target, long[] regs) {
        for (int i = 0; i <= X86Regs.RDI; i++) {
            if (i != X86Regs.RCX && i != X86Regs.RSI && i != X86Regs.RDI && !sameRegister(regs[i], target.register(i))) return false;
        }
        return regs[X86Regs.RIP] == target.register(X86Regs.RIP)
                && regs[X86Regs.RSP] == target.register(X86Regs.RSP)
                && regs[X86Regs.FS_BASE] == target.register(X86Regs.FS_BASE)
                && (regs[X86Regs.EFLAGS] & FLAGS_MASK) == (target.register(X86Regs.EFLAGS) & FLAGS_MASK);
    }

    /**
     * The hash of the readable bytes of [sp+384, sp+4096) below {@code end} (up to the first unreadable
     * page: the top of a thread's stack), never {@code NO_DEEPER_HASH} (0), which stands for none
     * recorded: FNV-1a over the bytes xor their count (format versions 3 to 5), or with {@code
     * apicIdsLeftOut} over the whole 8-byte words without cpuid's APIC IDs xor their count ({@link
     * #stackHash}). {@code end} is where exec put argc on the process's first stack
     * ({@link ProcFs#startStack}; 0: none): the strings above it include the executable's path, which
     * replay runs from another file.
     */
    public static long deeperStackHash(TraceeMemory memory, long sp, long end, boolean apicIdsLeftOut) {
        long to = sp + DEEPER_TO;
        if (end > sp && end < to) to = end;
        byte[] window = new byte[(int) Math.max(0, to - sp - ABOVE_SP)];
        int n = Math.max(memory.read(sp + ABOVE_SP, window, 0, window.length), 0);
        long h = apicIdsLeftOut ? wordHash(window, n) : fnv(window, n) ^ n;
        return h == 0 ? 1 : h;
    }

    /**
     * Whether the stack deeper than the hashed top is the target's (true when the recording has no such
     * hash), and the memory the registers point at too ({@link MemoryWitness}; true without one).
     */
    public static boolean deeperStackAndMemoryMatch(RunTarget target, TraceeMemory memory, long[] regs, long end) {
        return (target.deeperStackHash() == RunTarget.NO_DEEPER_HASH
                || deeperStackHash(memory, regs[X86Regs.RSP], end, target.apicIdsLeftOut()) == target.deeperStackHash())
                && target.memory().matches(regs, memory);
    }

    private static long fnv(byte[] bytes, int n) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < n; i++) {
            h ^= bytes[i] & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /**
     * The hash of the readable bytes of [sp-128, sp+384) (from sp when the red zone's page is not mapped):
     * FNV-1a over the bytes xor their count (format versions 1 to 5), or with {@code apicIdsLeftOut} (format
     * version 6) FNV-1a over its whole 8-byte words, each {@link CpuidLeaf1#withoutApicIds without cpuid's
     * APIC IDs}, xor their count, as the memory witness hashes. A program leaves cpuid leaf 1's EBX on its
     * stack (a callee saving the register that held it: signal_in_cpuid_loop's nanosleep), and replay's
     * cpuid answers another APIC ID on these VMs; the guard stub hashes the window as words too.
     */
    public static long stackHash(TraceeMemory memory, long sp, boolean apicIdsLeftOut) {
        byte[] window = new byte[BELOW_SP + ABOVE_SP];
        int n = memory.read(sp - BELOW_SP, window, 0, window.length);
        if (n <= 0) {
            // The red zone may start on an unmapped page below the stack: hash from sp then.
            n = memory.read(sp, window, 0, ABOVE_SP);
        }
        n = Math.max(n, 0);
        return apicIdsLeftOut ? wordHash(window, n) : fnv(window, n) ^ n;
    }

    /** FNV-1a over the whole 8-byte little-endian words of {@code bytes[0, n)} without APIC IDs, xor their count. */
    static long wordHash(byte[] bytes, int n) {
        int words = n / 8;
        return MemoryWitness.mix(MemoryWitness.FNV_OFFSET, bytes, 8 * words, true) ^ words;
    }
}
