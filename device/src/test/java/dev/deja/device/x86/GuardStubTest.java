package dev.deja.device.x86;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stub deja writes into a replayed thread to stop it at a recorded state, over the loop of
 * samples/c/proc_shared_counter.c as gcc -O1 compiles it (objdump -d of the sample):
 * <pre>
 *   11ff: 48 8b 03     mov (%rbx),%rax
 *   1202: 48 83 c0 01  add $0x1,%rax
 *   1206: 48 89 03     mov %rax,(%rbx)
 *   1209: 48 83 c2 01  add $0x1,%rdx
 *   120d: 48 39 d5     cmp %rdx,%rbp
 *   1210: 75 ed        jne 11ff
 * </pre>
 */
class GuardStubTest {
    private static final long BASE = 0x555555554000L;
    private static final long STUB = 0x555555560000L;
    private static final byte[] LOOP = bytes("48 8b 03 48 83 c0 01 48 89 03 48 83 c2 01 48 39 d5 75 ed c3");
    private static final long LOOP_AT = BASE + 0x11ff;

    @Test
    void thePatchJumpsToTheStubAndPadsTheDisplacedInstructionsWithTraps() throws Exception {
        long at = LOOP_AT + 3; // the add: 4 bytes, so the mov after it is displaced too
        GuardStub s = GuardStub.build(LOOP, LOOP_AT, at, STUB, registers());
        byte[] patch = s.patch();
        assertEquals(7, patch.length, "the add and the mov after it");
        assertEquals((byte) 0xE9, patch[0]);
        assertEquals(STUB - (at + 5), le32(patch, 1), "jmp rel32 to the stub");
        assertArrayEquals(bytes("cc cc"), Arrays.copyOfRange(patch, 5, 7));
    }

    @Test
    void theDisplacedInstructionsRunAtTheResumeAddressThenJumpBack() throws Exception {
        long at = LOOP_AT + 3;
        GuardStub s = GuardStub.build(LOOP, LOOP_AT, at, STUB, registers());
        byte[] code = s.code();
        int resume = (int) (s.resumeAddress() - STUB);
        assertArrayEquals(bytes("48 83 c0 01 48 89 03 e9"), Arrays.copyOfRange(code, resume, resume + 8));
        long back = s.resumeAddress() + 12 + le32(code, resume + 8);
        assertEquals(at + 7, back, "back after the patch");
        // The trap comes after rcx and rdx are the thread's again.
        int hit = (int) (s.hitAddress() - STUB);
        assertEquals((byte) 0xCC, code[hit]);
        assertArrayEquals(bytes("48 8b 0d"), Arrays.copyOfRange(code, hit - 14, hit - 11));
        assertArrayEquals(bytes("48 8b 15"), Arrays.copyOfRange(code, hit - 7, hit - 4));
    }

    @Test
    void theStubTrapsOnlyWhenEveryRegisterIsTheRecordedOneAndLeavesThemAsTheyWere() throws Exception {
        long[] recorded = registers();
        GuardStub s = GuardStub.build(LOOP, LOOP_AT, LOOP_AT + 3, STUB, recorded);
        Run equal = run(s, recorded.clone());
        assertEquals(s.hitAddress(), equal.stop(), "all 16 equal: the trap");
        assertArrayEquals(recorded, equal.registers(), "rcx and rdx restored before the trap");
        for (int reg = 0; reg < GuardStub.REGISTERS; reg++) {
            long[] live = recorded.clone();
            live[reg] += 1;
            Run differs = run(s, live.clone());
            assertEquals(s.resumeAddress(), differs.stop(), "register " + reg + " differs: on to the displaced code");
            assertArrayEquals(live, differs.registers(), "register " + reg + " differs: registers as they were");
        }
    }

    /**
     * thr_racy_counter's adder (gcc -O1): preempted at its loop's back edge, jne at 0x11a3, whose
     * next instruction is the target of the jle that skips the loop. The patch starts at the cmp before
     * it; the stub runs the cmp, then compares, then runs the jne.
     */
    @Test
    void aBackEdgeFollowedByABranchTargetIsPatchedFromTheInstructionBefore() throws Exception {
        byte[] adder = bytes("48 8b 0d b8 2e 00 00 48 85 c9 7e 20 ba 00 00 00 00 48 8b 05 bf 2e 00 00"
                + " 48 83 c0 01 48 89 05 b4 2e 00 00 48 83 c2 01 48 39 ca 75 e5 b8 00 00 00 00 c3");
        long start = BASE + 0x1179;
        long jne = BASE + 0x11a3;
        GuardStub s = GuardStub.build(adder, start, jne, STUB, registers());
        assertEquals(BASE + 0x11a0, s.patchAddress(), "the cmp before the jne");
        assertEquals(5, s.patch().length);
        byte[] code = s.code();
        assertArrayEquals(bytes("48 39 ca"), Arrays.copyOfRange(code, 0, 3), "the cmp runs first");
        assertEquals(STUB + 3, s.checkAddress());
        int resume = (int) (s.resumeAddress() - STUB);
        assertArrayEquals(bytes("0f 85"), Arrays.copyOfRange(code, resume, resume + 2));
        assertEquals(BASE + 0x118a, s.resumeAddress() + 6 + le32(code, resume + 2), "jne to the loop's top");
        Run equal = run(s, registers());
        assertEquals(s.hitAddress(), equal.stop());
    }

    /**
     * thr_rep_fill's run (gcc -O1, 0x1199-0x120f), preempted inside its first {@code rep stosb} at 0x11bd:
     * the recorded rcx, rdi (and rsi) are part of the way, so the stub leaves them out and traps at each
     * execution whose other registers are the point's; deja then runs the instruction's copy, first at
     * the resume address, for the iterations recorded.
     */
    @Test
    void atARepStoreTheStubLeavesOutTheCountAndThePointers() throws Exception {
        byte[] run = bytes("48 89 fa 83 3d a5 2e 00 00 00 7e 65 41 b9 00 00 00 00 41 ba 00 00 00 01 8b 02 48 8b 3d b6 2e 00 00"
                + " 4c 89 d1 f3 aa 48 8b 35 aa 2e 00 00 44 8b 42 04 48 8d be 00 00 00 01 48 89 f8 48 81 c6 00 00 00 02"
                + " 0f b6 08 44 39 c1 0f 94 c1 0f b6 c9 48 01 4a 08 48 05 00 10 00 00 48 39 f0 75 e5 8b 02 4c 89 d1 f3 aa"
                + " 41 83 c1 01 44 39 0d 40 2e 00 00 7f a7 b8 00 00 00 00 c3");
        long start = BASE + 0x1199;
        long rep = BASE + 0x11bd;
        assertEquals(new RepString(2, 1, false), RepString.decode(Arrays.copyOfRange(run, (int) (rep - start), run.length)));
        long[] recorded = registers();
        int stringRegisters = (1 << 1) | (1 << 6) | (1 << 7);
        GuardStub s = GuardStub.build(run, start, rep, STUB, recorded, stringRegisters);
        byte[] code = s.code();
        int resume = (int) (s.resumeAddress() - STUB);
        assertArrayEquals(bytes("f3 aa"), Arrays.copyOfRange(code, resume, resume + 2), "the rep stosb first at the resume address");
        for (int reg = 0; reg < GuardStub.REGISTERS; reg++) {
            long[] live = recorded.clone();
            live[reg] += 0x1000;
            Run r = run(s, live.clone());
            boolean leftOut = (stringRegisters & (1 << reg)) != 0;
            assertEquals(leftOut ? s.hitAddress() : s.resumeAddress(), r.stop(), "register " + reg + " differs");
            assertArrayEquals(live, r.registers(), "register " + reg + " differs: registers as they were");
        }
    }

    private record Run(long stop, long[] registers) {
    }

    /**
     * Runs the stub's comparison on a register file (hardware order) with the few instructions it is made
     * of (mov to and from its page, lea base+index, jrcxz, jmp rel32), up to its trap or its displaced code.
     */
    private static Run run(GuardStub s, long[] r) {
        byte[] page = Arrays.copyOf(s.code(), GuardStub.SIZE);
        ByteBuffer m = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        long pc = s.checkAddress();
        for (int steps = 0; steps < 10_000; steps++) {
            if (pc == s.hitAddress() || pc == s.resumeAddress()) return new Run(pc, r);
            int o = (int) (pc - s.stubAddress());
            int b0 = page[o] & 0xff;
            if (b0 == 0xE3) {
                pc += 2 + (r[1] == 0 ? page[o + 1] : 0);
            } else if (b0 == 0xE9) {
                pc += 5 + m.getInt(o + 1);
            } else if ((b0 & 0xF8) == 0x48 && (page[o + 1] & 0xff) == 0x8D) {
                int modrm = page[o + 2] & 0xff;
                int sib = page[o + 3] & 0xff;
                int base = (sib & 7) | ((b0 & 1) << 3);
                r[1] = r[base] + r[(sib >> 3) & 7];
                pc += (modrm >> 6) == 1 ? 5 : 4;
            } else if (b0 == 0x48 && ((page[o + 1] & 0xff) == 0x89 || (page[o + 1] & 0xff) == 0x8B)) {
                int reg = ((page[o + 2] & 0xff) >> 3) & 7;
                int slot = (int) (pc + 7 + m.getInt(o + 3) - s.stubAddress());
                if ((page[o + 1] & 0xff) == 0x89) m.putLong(slot, r[reg]);
                else r[reg] = m.getLong(slot);
                pc += 7;
            } else {
                throw new AssertionError("unexpected byte " + Integer.toHexString(b0) + " at stub+" + o);
            }
        }
        throw new AssertionError("the stub did not end");
    }

    @Test
    void aShortConditionalJumpIsDisplacedAsALongOneToTheSameTarget() throws Exception {
        long at = LOOP_AT + 14; // cmp (3) then jne rel8 (2): both displaced
        GuardStub s = GuardStub.build(LOOP, LOOP_AT, at, STUB, registers());
        byte[] code = s.code();
        int resume = (int) (s.resumeAddress() - STUB);
        assertArrayEquals(bytes("48 39 d5 0f 85"), Arrays.copyOfRange(code, resume, resume + 5));
        assertEquals(LOOP_AT, s.resumeAddress() + 9 + le32(code, resume + 5), "jne still goes to the loop's top");
    }

    @Test
    void aRipRelativeOperandStillReachesItsData() throws Exception {
        // 48 8b 05 10 00 00 00: mov 0x10(%rip),%rax; then a 3-byte mov
        byte[] code = bytes("48 8b 05 10 00 00 00 48 89 03 c3");
        long at = 0x555555555000L;
        GuardStub s = GuardStub.build(code, at, at, STUB, registers());
        byte[] stub = s.code();
        int resume = (int) (s.resumeAddress() - STUB);
        long data = s.resumeAddress() + 7 + le32(stub, resume + 3);
        assertEquals(at + 7 + 0x10, data);
    }

    @Test
    void callsAndBranchesIntoThePatchAreRefused() {
        byte[] call = bytes("e8 00 00 00 00 c3");
        assertThrows(GuardStub.Refused.class, () -> GuardStub.build(call, 0x555555555000L, 0x555555555000L, STUB, registers()));
        // add (4 bytes), then a jump back to the byte after it: inside the 5 patched bytes
        byte[] after = bytes("48 83 c0 01 90 eb fa c3");
        assertThrows(GuardStub.Refused.class, () -> GuardStub.build(after, 0x555555555000L, 0x555555555000L, STUB, registers()));
        // a jump from before the address into the patched bytes
        byte[] before = bytes("eb 03 48 83 c0 01 90 90 c3"); // jmp to 0x5005: the add's last byte
        assertThrows(GuardStub.Refused.class, () -> GuardStub.build(before, 0x555555555000L, 0x555555555002L, STUB, registers()));
    }

    @Test
    void anAddressInsideAnInstructionOfTheFunctionIsRefused() {
        // 0x1200 is the middle of `mov (%rbx),%rax` at 0x11ff
        assertThrows(GuardStub.Refused.class, () -> GuardStub.build(LOOP, LOOP_AT, LOOP_AT + 1, STUB, registers()));
    }

    @Test
    void theLoopsOwnBackwardJumpToItsTopIsNotInThePatch() throws Exception {
        // patched at the loop's top: the jne lands on the patch's first byte, the jmp itself
        GuardStub s = GuardStub.build(LOOP, LOOP_AT, LOOP_AT, STUB, registers());
        assertEquals(7, s.patch().length);
        assertTrue(GuardStub.reachable(LOOP_AT, STUB));
    }

    private static long[] registers() {
        long[] r = new long[GuardStub.REGISTERS];
        for (int i = 0; i < r.length; i++) r[i] = 0x1111L * (i + 1);
        r[4] = 0x7fffffffe000L;
        return r;
    }

    private static int le32(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static byte[] bytes(String hex) {
        String[] parts = hex.trim().split("\\s+");
        byte[] b = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) b[i] = (byte) Integer.parseInt(parts[i], 16);
        return b;
    }
}
