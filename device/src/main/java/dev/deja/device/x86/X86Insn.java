package dev.deja.device.x86;

/**
 * One decoded x86-64 instruction, as much as relocating it to another address needs.
 *
 * @param length its length in bytes (1 to 15)
 * @param ripDisp the offset within the instruction of its RIP-relative disp32 (ModRM mod=00
 *     rm=101 without SIB), or -1 when it has none
 * @param branch how it transfers control
 * @param rel the offset within the instruction of the displacement of a relative branch (rel8 or
 *     rel32, as {@link #branch()} says; XBEGIN's rel32 too), or -1
 * @param immediate how many bytes of immediate operands it has (a relative branch's displacement
 *     included): the bytes a JIT compiler patches in place (embedded pointers, call targets)
 */
public record X86Insn(int length, int ripDisp, Branch branch, int rel, int immediate) {
}
