package dev.deja.device;

/** Indices into x86_64's struct user_regs_struct (sys/user.h), as PTRACE_GETREGS fills it. */
final class X86Regs {
    static final int R15 = 0;
    static final int RBP = 4;
    static final int R11 = 6;
    static final int R10 = 7;
    static final int R9 = 8;
    static final int R8 = 9;
    static final int RAX = 10;
    static final int RDX = 12;
    static final int RSI = 13;
    static final int RDI = 14;
    static final int ORIG_RAX = 15;
    static final int RIP = 16;
    static final int EFLAGS = 18;
    static final int RSP = 19;
    static final int FS_BASE = 21;
    /** Words in user_regs_struct. */
    static final int COUNT = 27;
    /** Syscall argument registers in order. */
    static final int[] ARGS = {RDI, RSI, RDX, R10, R8, R9};
    /** Length of the `syscall` instruction (0f 05). */
    static final int SYSCALL_INSN_LENGTH = 2;

    private X86Regs() {
    }
}
