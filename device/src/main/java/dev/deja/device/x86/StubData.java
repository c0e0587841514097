package dev.deja.device.x86;

/**
 * A stub's data page, its words reached rip-relative from the stub's code, and the stack of the stub's own
 * at the page's top through which it reads and puts back the flags (the program's stack, below its pointer
 * too, stays as it was: a recorded point's stack hash covers the red zone). {@link AnswerStub} and
 * {@link BufferStub} each lay their words out; {@code saveRsp} is the word keeping the program's rsp.
 */
record StubData(GuardStub.Asm a, long address, int saveRsp) {
    private static final int STACK_TOP = 4096 / 8;

    /** A REX {@code rex} instruction {@code opcode} between register {@code reg} and word {@code word}. */
    void op(int rex, int opcode, int reg, int word) throws GuardStub.Refused {
        a.ripAbs(rex, opcode, reg, address + 8L * word);
    }

    /** As {@link #op(int, int, int, int)} at byte {@code offset} of the word. */
    void op(int rex, int opcode, int reg, int word, int offset) throws GuardStub.Refused {
        a.ripAbs(rex, opcode, reg, address + 8L * word + offset);
    }

    /** A two-byte opcode (0x0F, {@code second}) on a word. */
    void op0F(int rex, int second, int reg, int word) throws GuardStub.Refused {
        a.bytes(rex, 0x0F, second, ((reg & 7) << 3) | 0x05);
        a.int32(GuardStub.rel32(a.here() + 4, address + 8L * word));
    }

    /** {@code cmp qword [word], 0}: the displacement counts from after the immediate. */
    void cmpZero(int word) throws GuardStub.Refused {
        a.bytes(0x48, 0x83, 0x3D);
        a.int32(GuardStub.rel32(a.here() + 4 + 1, address + 8L * word));
        a.bytes(0x00);
    }

    /** {@code mov qword [word], value} (a sign-extended imm32; no flags touched): the displacement counts from after the immediate. */
    void storeImm(int word, int value) throws GuardStub.Refused {
        a.bytes(0x48, 0xC7, 0x05);
        a.int32(GuardStub.rel32(a.here() + 4 + 4, address + 8L * word));
        a.int32(value);
    }

    /** r11 = the flags, as the syscall instruction leaves it: pushfq/pop on the stub's own stack. */
    void flagsToR11() throws GuardStub.Refused {
        op(0x48, 0x89, 4, saveRsp);                             // mov [save_rsp], rsp
        op(0x48, 0x8D, 4, STACK_TOP);                           // lea rsp, [stack_top]
        a.bytes(0x9C);                                          // pushfq
        a.bytes(0x41, 0x5B);                                    // pop r11
        op(0x48, 0x8B, 4, saveRsp);                             // mov rsp, [save_rsp]
    }

    /** The flags back from r11 (r11 keeps them, as after a syscall), on the stub's own stack. */
    void flagsFromR11() throws GuardStub.Refused {
        op(0x48, 0x89, 4, saveRsp);                             // mov [save_rsp], rsp
        op(0x48, 0x8D, 4, STACK_TOP);                           // lea rsp, [stack_top]
        a.bytes(0x41, 0x53);                                    // push r11
        a.bytes(0x9D);                                          // popfq
        op(0x48, 0x8B, 4, saveRsp);                             // mov rsp, [save_rsp]
    }
}
