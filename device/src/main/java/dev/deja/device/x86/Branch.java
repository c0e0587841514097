package dev.deja.device.x86;

/** How an x86-64 instruction transfers control, as a relocator must know it. */
public enum Branch {
    /** No transfer of control: execution goes on with the next instruction. */
    NONE,
    /** A conditional jump with an 8-bit displacement (70-7F). */
    JCC_REL8,
    /** A conditional jump with a 32-bit displacement (0F 80-8F). */
    JCC_REL32,
    /** An unconditional jump with an 8-bit displacement (EB). */
    JMP_REL8,
    /** An unconditional jump with a 32-bit displacement (E9). */
    JMP_REL32,
    /** A call with a 32-bit displacement (E8). */
    CALL_REL32,
    /** LOOP, LOOPE, LOOPNE or JRCXZ/JECXZ, all with an 8-bit displacement (E0-E3). */
    LOOP_REL8,
    /** A call through a register or memory (FF /2, /3: near or far). */
    INDIRECT_CALL,
    /**
     * A jump through a register or memory (FF /4, /5: near or far): a switch's table, a tail call, or
     * a computed jump into unrolled code, whose targets the code does not say.
     */
    INDIRECT_JMP,
    /** A near or far return (C2, C3, CA, CB). */
    RET,
    /**
     * A trap or a privileged or unusual transfer: SYSCALL, SYSENTER, SYSEXIT, SYSRET, INT n, INT1,
     * INT3, IRET, HLT, UD0, UD1, UD2, RSM, VMCALL and its kin, TDCALL, SEAMCALL, SEAMRET,
     * ENCLS/ENCLU/ENCLV, UIRET, and XBEGIN (whose abort target is a rel32, rel16 with 66, reported as
     * {@link X86Insn#rel()}).
     */
    SYSTEM
}
