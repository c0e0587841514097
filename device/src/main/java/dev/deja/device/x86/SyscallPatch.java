package dev.deja.device.x86;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where a {@code jmp rel32} to a stub replaces a program's {@code syscall} instruction: the
 * instruction and a few plain ones around it (the jump needs 5 bytes, the syscall has 2), decoded
 * from the start of its function so that no branch of the function lands inside the bytes replaced
 * and no jump goes through a register. The stubs that answer ({@link AnswerStub}) or buffer
 * ({@link BufferStub}) a thread's calls at the instruction run the displaced instructions before and
 * after their own code.
 *
 * @param patchAt        the first byte replaced
 * @param syscallAddress the program's syscall instruction
 * @param window         the function's code from {@code patchAt}
 * @param covered        how many bytes are replaced
 * @param displaced      the instructions replaced, the syscall among them
 */
record SyscallPatch(long patchAt, long syscallAddress, byte[] window, int covered, List<X86Insn> displaced) {

    /**
     * Plans the patch of the syscall at {@code syscallAddress} in {@code function} (from
     * {@code functionAddress}). With {@code tailless}, a patch that ends with the syscall (nothing of
     * the program runs in the stub after it) is preferred to one that starts at it.
     */
    static SyscallPatch plan(byte[] function, long functionAddress, long syscallAddress, boolean tailless)
            throws GuardStub.Refused {
        int off = (int) (syscallAddress - functionAddress);
        if (off < 0 || off + 2 > function.length || function[off] != 0x0f || function[off + 1] != 0x05) {
            throw new IllegalArgumentException("no syscall instruction at 0x" + Long.toHexString(syscallAddress));
        }
        GuardStub.FunctionScan scan = GuardStub.scan(function, functionAddress, syscallAddress);
        if (scan.indirectJump()) {
            throw new GuardStub.Refused("the function at 0x" + Long.toHexString(functionAddress) + " jumps through a register");
        }
        GuardStub.Refused why = null;
        SyscallPatch fallback = null;
        for (int back = 0; back <= GuardStub.MAX_BEFORE && back < scan.before().size() + 1; back++) {
            long patchAt = back == 0 ? syscallAddress : scan.before().get(scan.before().size() - back);
            try {
                SyscallPatch p = plan(function, functionAddress, patchAt, syscallAddress, scan.targets());
                if (!tailless || p.tailless()) return p;
                if (fallback == null) fallback = p;
            } catch (GuardStub.Refused r) {
                if (why == null) why = r;
            }
        }
        if (fallback != null) return fallback;
        throw why;
    }

    private static SyscallPatch plan(byte[] function, long functionAddress, long patchAt, long syscallAddress,
                                     java.util.Set<Long> targets) throws GuardStub.Refused {
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
        return new SyscallPatch(patchAt, syscallAddress, window, covered, List.copyOf(displaced));
    }

    /** Whether the patch ends with the syscall: the program goes on at its own code right after the call. */
    boolean tailless() {
        return patchAt + covered == syscallAddress + 2;
    }

    /** The displaced instructions before the syscall, relocated into {@code a}. */
    void relocateBefore(GuardStub.Asm a) throws GuardStub.Refused {
        long from = patchAt;
        for (int i = 0; from < syscallAddress; i++) {
            GuardStub.relocate(a, window, (int) (from - patchAt), displaced.get(i), from);
            from += displaced.get(i).length();
        }
    }

    /** The displaced instructions after the syscall, relocated into {@code a}, and the jump back to the program. */
    void relocateAfterAndReturn(GuardStub.Asm a) throws GuardStub.Refused {
        long from = patchAt;
        for (X86Insn insn : displaced) {
            if (from > syscallAddress) GuardStub.relocate(a, window, (int) (from - patchAt), insn, from);
            from += insn.length();
        }
        a.bytes(0xE9);                                          // jmp back after the patch
        a.int32(GuardStub.rel32(a.here() + 4, patchAt + covered));
    }

    /** The bytes that replace the program's: {@code jmp rel32} to {@code codeAddress}, int3 padding. */
    byte[] patch(long codeAddress) throws GuardStub.Refused {
        byte[] patch = new byte[covered];
        Arrays.fill(patch, (byte) 0xCC);
        patch[0] = (byte) 0xE9;
        ByteBuffer.wrap(patch, 1, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(GuardStub.rel32(patchAt + GuardStub.JMP_LENGTH, codeAddress));
        return patch;
    }
}
