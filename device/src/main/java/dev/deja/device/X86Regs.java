package dev.deja.device;

/** Indices into x86_64's struct user_regs_struct (sys/user.h), as PTRACE_GETREGS fills it. */
final class X86Regs {
    static final int R15 = 0;
    static final int R14 = 1;
    static final int R13 = 2;
    static final int R12 = 3;
    static final int RBP = 4;
    static final int RBX = 5;
    static final int R11 = 6;
    static final int R10 = 7;
    static final int R9 = 8;
    static final int R8 = 9;
    static final int RAX = 10;
    static final int RCX = 11;
    static final int RDX = 12;
    static final int RSI = 13;
    static final int RDI = 14;
    static final int ORIG_RAX = 15;
    static final int RIP = 16;
    static final int CS = 17;
    static final int EFLAGS = 18;
    static final int RSP = 19;
    static final int FS_BASE = 21;
    /** Words in user_regs_struct. */
    static final int COUNT = 27;
    /** Syscall argument registers in order. */
    static final int[] ARGS = {RDI, RSI, RDX, R10, R8, R9};
    /** Length of the `syscall` instruction (0f 05). */
    static final int SYSCALL_INSN_LENGTH = 2;
    /** The selector of 64-bit user code (__USER_CS); 32-bit code runs with 0x23 (__USER32_CS). */
    static final long USER_CS_64 = 0x33;

    /** A syscall's number and arguments as a syscall-entry or seccomp stop's registers hold them. */
    record SyscallCall(int nr, long[] args) {
    }

    /**
     * The call a thread stopped at a syscall's entry is making, read from its registers (the number in
     * orig_rax, the arguments in rdi, rsi, rdx, r10, r8, r9: the x86_64 ABI), or null when its registers do
     * not follow that ABI: a 32-bit process (its code segment is not 64-bit), whose calls pass arguments in
     * ebx, ecx, edx, esi, edi, ebp. ({@code int 0x80} from 64-bit code is a 32-bit call too, but nothing
     * in the registers tells it: PTRACE_GET_SYSCALL_INFO's arch does.)
     */
    static SyscallCall syscallCall(long[] regs) {
        if (regs.length != COUNT) throw new IllegalArgumentException("user_regs_struct has " + COUNT + " words, got " + regs.length);
        if (regs[CS] != USER_CS_64) return null;
        long[] args = new long[ARGS.length];
        for (int i = 0; i < ARGS.length; i++) args[i] = regs[ARGS[i]];
        return new SyscallCall((int) regs[ORIG_RAX], args);
    }

    private X86Regs() {
    }
}
