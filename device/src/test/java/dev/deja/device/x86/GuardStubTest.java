package dev.deja.device.x86;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
     * A register whose recorded value has cpuid leaf 1 EBX's shape (signal_in_cpuid_loop keeps its last EBX
     * in rbx through the loop) is compared without its APIC ID byte, as deja compares it at the trap: the
     * replayed cpuid answered another one. Anything else in it still differs; flags and registers stay.
     */
    @Test
    void aRegisterHoldingCpuidsEbxIsComparedWithoutItsApicId() throws Exception {
        long[] recorded = registers();
        recorded[3] = 0x3dfe0800L;                 // rbx: EBX, APIC ID 0x3d
        recorded[1] = 0x6dfe0800L;                 // rcx, compared from its slot
        recorded[9] = 0x1234_0800_5555_92a0L;      // r9: the shape in the high half
        recorded[4] = 0x7fff_f63f_0800L;           // rsp: compared whole
        GuardStub s = GuardStub.build(LOOP, LOOP_AT, LOOP_AT + 3, STUB, recorded);
        for (long flags : new long[] {0, OF, 0x41, 0x8D5}) {
            long[] live = recorded.clone();
            live[3] = 0x70fe0800L;
            live[1] = 0xe1fe0800L;
            live[9] = 0x9934_0800_5555_92a0L;
            Run other = run(s, live.clone(), flags, 0, new byte[0]);
            assertEquals(s.hitAddress(), other.stop(), "other APIC IDs: the trap");
            assertArrayEquals(live, other.registers(), "registers as they were");
            assertEquals(flags, other.flags(), "flags as they were");
            for (long[] change : new long[][] {{3, 0x70fe0801L}, {3, 0x1_3dfe0800L}, {1, 0x6dfe1800L}, {9, 0x1234_0800_5555_92a1L},
                    {9, 0x1235_0800_5555_92a0L}, {4, 0x7fff_f73f_0800L}}) {
                long[] l = live.clone();
                l[(int) change[0]] = change[1];
                Run differs = run(s, l.clone(), flags, 0, new byte[0]);
                assertEquals(s.resumeAddress(), differs.stop(), "register " + change[0] + " = " + Long.toHexString(change[1]));
                assertArrayEquals(l, differs.registers(), "registers as they were");
                assertEquals(flags, differs.flags(), "flags as they were");
            }
        }
    }

    /**
     * JIT code (HotSpot's template interpreter has no {@code .eh_frame}): the patch covers the one
     * instruction at the point, {@code movzbl 0x1(%r13),%ebx} of the bytecode dispatch, and no more.
     */
    @Test
    void aSingleInstructionGuardCoversThatInstructionOnly() throws Exception {
        long at = 0x7fffe1000000L + 0x1234;
        long stub = at + 0x100000;
        byte[] code = bytes("41 0f b6 5d 01 41 ff 24 dc 90 90 90 90 90 90");
        GuardStub s = GuardStub.buildSingle(code, at, stub, registers(), 0, null);
        assertEquals(at, s.patchAddress());
        assertEquals(5, s.patch().length);
        assertEquals(s.checkAddress(), stub, "nothing runs before the comparison");
        byte[] stubCode = s.code();
        int resume = (int) (s.resumeAddress() - stub);
        assertArrayEquals(bytes("41 0f b6 5d 01 e9"), Arrays.copyOfRange(stubCode, resume, resume + 6));
        assertEquals(at + 5, s.resumeAddress() + 10 + le32(stubCode, resume + 6), "back after the instruction");
        assertEquals(s.hitAddress(), run(s, registers()).stop());
        assertTrue(GuardStub.singleGuardable(code));
    }

    @Test
    void aSingleInstructionGuardRefusesShortBranchingAndPatchableInstructions() {
        long at = 0x7fffe1000000L;
        for (String refused : java.util.List.of(
                "48 83 c0 01 90 90 90 90",          // add rax, 1: 4 bytes
                "b8 01 00 00 00 90 90 90",          // mov eax, imm32: an embedded constant the JIT patches
                "48 b8 01 00 00 00 00 00 00 00",    // movabs rax, imm64: an inline cache's holder
                "e8 00 10 00 00 90 90 90",          // call rel32
                "0f 84 00 10 00 00 90 90",          // je rel32
                "41 81 7f 10 01 00 00 00")) {       // cmp dword [r15+16], imm32: an nmethod entry barrier
            assertThrows(GuardStub.Refused.class, () -> GuardStub.buildSingle(bytes(refused), at, at + 0x100000, registers(), 0, null), refused);
            assertTrue(!GuardStub.singleGuardable(bytes(refused)), refused);
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

    private record Run(long stop, long[] registers, long flags) {
    }

    /** A read of memory not given: the thread faults there (SIGSEGV), with these registers, flags and stub page. */
    private static final class Faulted extends RuntimeException {
        final long pc;
        final long[] registers;
        final long flags;
        final byte[] page;

        Faulted(long pc, long[] registers, long flags, byte[] page) {
            super("fault at 0x" + Long.toHexString(pc), null, false, false);
            this.pc = pc;
            this.registers = registers;
            this.flags = flags;
            this.page = page;
        }
    }

    private static Run run(GuardStub s, long[] r) {
        return run(s, r, 0, 0, new byte[0]);
    }

    /** The arithmetic flags lahf/sahf carry (SF ZF AF PF CF), and OF. */
    private static final long SAHF_FLAGS = 0xD5;
    private static final long OF = 0x800;

    /**
     * Runs the stub's comparison on a register file (hardware order) and flags, with the instructions it
     * is made of (mov to and from its page, lea base+index, jrcxz, jmp rel32; for the stack check lahf,
     * seto, sahf, add al, mov imm, movzx from the stack, xor, imul, inc, dec, jnz, sub, mov between
     * registers), up to its trap or its displaced code. The stack is {@code stack} from {@code stackAt};
     * an instruction that changes flags it does not keep scrambles them, so that only a restore brings
     * them back.
     */
    private static Run run(GuardStub s, long[] r, long flags, long stackAt, byte[] stack) {
        return run(s, r, flags, stackAt, stack, 0, new byte[0]);
    }

    /** As above, with {@code heap} readable from {@code heapAt} for the memory witness's words. */
    private static Run run(GuardStub s, long[] r, long flags, long stackAt, byte[] stack, long heapAt, byte[] heap) {
        ByteBuffer h = ByteBuffer.wrap(heap).order(ByteOrder.LITTLE_ENDIAN);
        byte[] page = Arrays.copyOf(s.code(), GuardStub.SIZE);
        ByteBuffer m = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        long pc = s.checkAddress();
        long f = flags;
        long scrambled = 0x8D5; // every flag set: what a restore must undo
        for (int steps = 0; steps < 100_000; steps++) {
            if (pc == s.hitAddress() || pc == s.resumeAddress()) return new Run(pc, r, f);
            int o = (int) (pc - s.stubAddress());
            int b0 = page[o] & 0xff;
            int b1 = o + 1 < page.length ? page[o + 1] & 0xff : 0;
            int b2 = o + 2 < page.length ? page[o + 2] & 0xff : 0;
            if (b0 == 0xE3) {
                pc += 2 + (r[1] == 0 ? page[o + 1] : 0);
            } else if (b0 == 0xE9) {
                pc += 5 + m.getInt(o + 1);
            } else if (b0 == 0x48 && b1 == 0x8D && b2 == 0x3D) { // lea rdi, [rip+disp]: a table in the page
                r[7] = pc + 7 + m.getInt(o + 3);
                pc += 7;
            } else if (b0 == 0x48 && b1 == 0x8B && b2 == 0x37) { // mov rsi, [rdi]: from the page
                r[6] = m.getLong((int) (r[7] - s.stubAddress()));
                pc += 3;
            } else if (b0 == 0x8B && b1 == 0x4F) { // mov ecx, [rdi+disp8]: from the page
                r[1] = m.getInt((int) (r[7] + page[o + 2] - s.stubAddress())) & 0xFFFFFFFFL;
                pc += 3;
            } else if (b0 == 0x48 && b1 == 0x83 && b2 == 0xC7) { // add rdi, imm8
                r[7] += page[o + 3];
                f = scrambled;
                pc += 4;
            } else if (b0 == 0xEB) { // jmp rel8
                pc += 2 + page[o + 1];
            } else if ((b0 & 0xF8) == 0x48 && b1 == 0x8D) {
                int sib = page[o + 3] & 0xff;
                int base = (sib & 7) | ((b0 & 1) << 3);
                r[1] = r[base] + r[(sib >> 3) & 7];
                pc += (b2 >> 6) == 1 ? 5 : 4;
            } else if (b0 == 0x48 && (b1 == 0x89 || b1 == 0x8B) && (b2 >> 6) == 0 && (b2 & 7) == 5) { // rip-relative: a slot
                int reg = (b2 >> 3) & 7;
                int slot = (int) (pc + 7 + m.getInt(o + 3) - s.stubAddress());
                if (b1 == 0x89) m.putLong(slot, r[reg]);
                else r[reg] = m.getLong(slot);
                pc += 7;
            } else if ((b0 == 0x48 || b0 == 0x4C) && b1 == 0x89 && (b2 & 0xC7) == 0xC1) { // mov rcx, reg
                r[1] = r[((b2 >> 3) & 7) | (b0 == 0x4C ? 8 : 0)];
                pc += 3;
            } else if (b0 == 0xC6 && b1 == 0x05) { // mov byte [rip+disp], imm8
                page[(int) (pc + 7 + m.getInt(o + 2) - s.stubAddress())] = page[o + 6];
                pc += 7;
            } else if (b0 == 0x9F) { // lahf
                r[0] = (r[0] & ~0xFF00L) | (((f & SAHF_FLAGS) | 2) << 8);
                pc += 1;
            } else if (b0 == 0x9E) { // sahf
                f = (f & ~SAHF_FLAGS) | ((r[0] >> 8) & SAHF_FLAGS);
                pc += 1;
            } else if (b0 == 0x0F && b1 == 0x90 && b2 == 0xC0) { // seto al
                r[0] = (r[0] & ~0xFFL) | ((f & OF) != 0 ? 1 : 0);
                pc += 3;
            } else if (b0 == 0x04) { // add al, imm8
                byte al = (byte) r[0];
                byte imm = page[o + 1];
                int sum = al + imm;
                f = (scrambled & ~OF) | (sum != (byte) sum ? OF : 0);
                r[0] = (r[0] & ~0xFFL) | (sum & 0xFF);
                pc += 2;
            } else if (b0 == 0x48 && b1 >= 0xB8 && b1 <= 0xBF) { // mov r64, imm64
                r[b1 - 0xB8] = m.getLong(o + 2);
                pc += 10;
            } else if (b0 == 0xB9) { // mov ecx, imm32
                r[1] = m.getInt(o + 1) & 0xFFFFFFFFL;
                pc += 5;
            } else if (b0 == 0x0F && b1 == 0xB6 && b2 == 0x3E) { // movzx edi, byte [rsi]
                long i = r[6] - stackAt;
                if (i < 0 || i >= stack.length) throw new AssertionError("a read outside the stack window at 0x" + Long.toHexString(r[6]));
                r[7] = stack[(int) i] & 0xFF;
                pc += 3;
            } else if (b0 == 0x48 && b1 == 0x31 && b2 == 0xF8) { // xor rax, rdi
                r[0] ^= r[7];
                f = scrambled;
                pc += 3;
            } else if (b0 == 0x48 && b1 == 0x0F && b2 == 0xAF && (page[o + 3] & 0xff) == 0xC2) { // imul rax, rdx
                r[0] *= r[2];
                f = scrambled;
                pc += 4;
            } else if (b0 == 0x48 && b1 == 0xFF && b2 == 0xC6) { // inc rsi
                r[6]++;
                f = scrambled;
                pc += 3;
            } else if (b0 == 0xFF && b1 == 0xC9) { // dec ecx
                r[1] = (r[1] - 1) & 0xFFFFFFFFL;
                f = r[1] == 0 ? 0x40 : 0;
                pc += 2;
            } else if (b0 == 0x75) { // jnz rel8
                pc += 2 + ((f & 0x40) == 0 ? page[o + 1] : 0);
            } else if (b0 == 0x48 && b1 == 0x33 && b2 == 0x06) { // xor rax, [rsi]
                long i = r[6] - heapAt;
                if (i < 0 || i + 8 > heap.length) throw new Faulted(pc, r.clone(), f, page.clone());
                r[0] ^= h.getLong((int) i);
                f = scrambled;
                pc += 3;
            } else if (b0 == 0x48 && b1 == 0x8B && b2 == 0x3E) { // mov rdi, [rsi]: the heap's words, or the stack's
                long i = r[6] - heapAt;
                long j = r[6] - stackAt;
                if (j >= 0 && j + 8 <= stack.length) {
                    r[7] = ByteBuffer.wrap(stack).order(ByteOrder.LITTLE_ENDIAN).getLong((int) j);
                } else {
                    if (i < 0 || i + 8 > heap.length) throw new Faulted(pc, r.clone(), f, page.clone());
                    r[7] = h.getLong((int) i);
                }
                pc += 3;
            } else if (b0 == 0x66 && b1 == 0x81 && b2 == 0xFF) { // cmp di, imm16
                int imm = (page[o + 3] & 0xff) | (page[o + 4] & 0xff) << 8;
                f = (scrambled & ~0x40L) | ((r[7] & 0xFFFF) == imm ? 0x40 : 0);
                pc += 5;
            } else if (b0 == 0x48 && b1 == 0xC1 && (b2 == 0xCF || b2 == 0xC7)) { // ror / rol rdi, imm8
                int n = page[o + 3] & 63;
                r[7] = b2 == 0xCF ? Long.rotateRight(r[7], n) : Long.rotateLeft(r[7], n);
                f = scrambled;
                pc += 4;
            } else if (b0 == 0x40 && b1 == 0xB7) { // mov dil, imm8
                r[7] = (r[7] & ~0xFFL) | (page[o + 2] & 0xFF);
                pc += 3;
            } else if (b0 == 0x48 && b1 == 0x83 && b2 == 0xC6) { // add rsi, imm8
                r[6] += page[o + 3];
                f = scrambled;
                pc += 4;
            } else if (b0 == 0x48 && b1 == 0x29 && b2 == 0xD0) { // sub rax, rdx
                r[0] -= r[2];
                f = scrambled;
                pc += 3;
            } else {
                throw new AssertionError("unexpected byte " + Integer.toHexString(b0) + " at stub+" + o);
            }
        }
        throw new AssertionError("the stub did not end");
    }

    /**
     * A guard on the one instruction {@code movzbl 0x1(%r13),%ebx} (HotSpot's bytecode dispatch, JIT code) at
     * 0x7fffe1001000, its stub at 0x7fffe1100000, comparing every register and {@code stack}.
     */
    private static GuardStub guardOfOneInstruction(long[] recorded, GuardStub.StackCheck stack) throws GuardStub.Refused {
        return GuardStub.buildSingle(bytes("41 0f b6 5d 01 90 90 90"), 0x7fffe1001000L, 0x7fffe1100000L, recorded, 0, stack);
    }

    /** {@code size} bytes of heap whose 8-byte words count by 31 from 0: no two alike, none a cpuid EBX. */
    private static byte[] countingHeap(int size) {
        byte[] heap = new byte[size];
        ByteBuffer hb = ByteBuffer.wrap(heap).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < heap.length; i += 8) hb.putLong(i, i * 31L);
        return heap;
    }

    /** MemoryWitness's hash of windows: FNV-1a over their 8-byte words, then xor the number of words. */
    private static long wordHash(ByteBuffer heap, long heapAt, long[] starts, int[] words) {
        return wordHash(heap, heapAt, starts, words, false);
    }

    /** As above, each word without cpuid's APIC IDs when asked (a witness of format version 6). */
    private static long wordHash(ByteBuffer heap, long heapAt, long[] starts, int[] words, boolean apicIdsLeftOut) {
        long h = 0xcbf29ce484222325L;
        long n = 0;
        for (int w = 0; w < starts.length; w++) {
            for (int k = 0; k < words[w]; k++) {
                long word = heap.getLong((int) (starts[w] - heapAt) + 8 * k);
                h = (h ^ (apicIdsLeftOut ? CpuidLeaf1.withoutApicIds(word) : word)) * 0x100000001b3L;
            }
            n += words[w];
        }
        return h ^ n;
    }

    /**
     * At a point whose registers and stack recur (python's eval loop; the count in a heap object), the
     * stub hashes the memory witness's windows itself, the second level only when the first matched: it
     * traps only at the recorded memory, and either way leaves registers and flags as they were.
     */
    @Test
    void theStubHashesTheMemoryWitnessLevelByLevel() throws Exception {
        long[] recorded = registers();
        long sp = recorded[4];
        byte[] stack = new byte[512];
        long heapAt = 0x5555_5555_a000L;
        byte[] heap = countingHeap(4096);
        ByteBuffer hb = ByteBuffer.wrap(heap).order(ByteOrder.LITTLE_ENDIAN);
        long[] first = {heapAt + 0x100, heapAt + 0x800};
        int[] firstWords = {32, 8};
        long[] second = {heapAt + 0xC00};
        int[] secondWords = {8};
        GuardStub.WordCheck level1 = new GuardStub.WordCheck(first, firstWords, wordHash(hb, heapAt, first, firstWords), false);
        GuardStub.WordCheck level2 = new GuardStub.WordCheck(second, secondWords, wordHash(hb, heapAt, second, secondWords), false);
        GuardStub s = guardOfOneInstruction(recorded, new GuardStub.StackCheck(sp - 128, 512, stackHash(stack), java.util.List.of(level1, level2)));
        for (long flags : new long[] {0, OF, 0x41, 0x8D5}) {
            Run same = run(s, recorded.clone(), flags, sp - 128, stack, heapAt, heap);
            assertEquals(s.hitAddress(), same.stop(), "the recorded memory: the trap");
            assertArrayEquals(recorded, same.registers(), "registers as they were at the trap");
            assertEquals(flags, same.flags(), "flags as they were at the trap");
            byte[] deep = heap.clone();
            deep[0xC00 + 24] += 1; // the int object's value, two turns earlier
            Run other = run(s, recorded.clone(), flags, sp - 128, stack, heapAt, deep);
            assertEquals(s.resumeAddress(), other.stop(), "another value one pointer away: on to the displaced code");
            assertArrayEquals(recorded, other.registers(), "registers as they were");
            assertEquals(flags, other.flags(), "flags as they were");
        }
        byte[] shallow = java.util.Arrays.copyOf(heap, 0xC00); // the second level unreadable: it must not be read
        shallow[0x800] += 1;
        assertEquals(s.resumeAddress(), run(s, recorded.clone(), 0, sp - 128, stack, heapAt, shallow).stop(),
                "the first level differs: the second is not read");
    }

    /**
     * A witness of format version 6 hashes each word without cpuid's APIC IDs, in the stub as in deja
     * (CpuidLeaf1.withoutApicIds): a JVM whose VM_Version got another APIC ID than the recorded one's
     * is at the point; any other difference, in either half of a word, is not.
     */
    @Test
    void theStubLeavesCpuidsApicIdsOutOfTheWitnessWhenAsked() throws Exception {
        long[] recorded = registers();
        long sp = recorded[4];
        byte[] stack = new byte[512];
        long heapAt = 0x5555_5555_a000L;
        byte[] heap = countingHeap(4096);
        ByteBuffer hb = ByteBuffer.wrap(heap).order(ByteOrder.LITTLE_ENDIAN);
        hb.putLong(0x110, 0xcffe0800_00b00f21L);   // leaf 1's EAX, then EBX (APIC ID 0xcf)
        hb.putLong(0x118, 0x12345678_6dfe0800L);   // an EBX in the low half
        long[] first = {heapAt + 0x100};
        int[] words = {32};
        for (boolean leftOut : new boolean[] {true, false}) {
            GuardStub.WordCheck check = new GuardStub.WordCheck(first, words, wordHash(hb, heapAt, first, words, leftOut), leftOut);
            GuardStub s = guardOfOneInstruction(recorded, new GuardStub.StackCheck(sp - 128, 512, stackHash(stack), java.util.List.of(check)));
            for (long flags : new long[] {0, OF, 0x41, 0x8D5}) {
                Run same = run(s, recorded.clone(), flags, sp - 128, stack, heapAt, heap);
                assertEquals(s.hitAddress(), same.stop(), "the recorded memory: the trap");
                assertArrayEquals(recorded, same.registers(), "registers as they were at the trap");
                assertEquals(flags, same.flags(), "flags as they were at the trap");
                byte[] otherCpu = heap.clone();
                otherCpu[0x110 + 7] = 0x25;
                otherCpu[0x118 + 3] = (byte) 0xe1;
                Run replayed = run(s, recorded.clone(), flags, sp - 128, stack, heapAt, otherCpu);
                assertEquals(leftOut ? s.hitAddress() : s.resumeAddress(), replayed.stop(), "other APIC IDs, left out: " + leftOut);
                assertArrayEquals(recorded, replayed.registers(), "registers as they were");
                assertEquals(flags, replayed.flags(), "flags as they were");
                for (int at : new int[] {0x110 + 6, 0x110 + 3, 0x118 + 2, 0x118 + 7, 0x120}) {
                    byte[] other = heap.clone();
                    other[at] += 1;
                    assertEquals(s.resumeAddress(), run(s, recorded.clone(), flags, sp - 128, stack, heapAt, other).stop(),
                            "byte " + Integer.toHexString(at) + " differs");
                }
            }
        }
    }

    /**
     * Format version 6's stack hash: the window's 8-byte words without cpuid's APIC IDs (RunState.stackHash),
     * which the stub hashes as a witness's window. A callee's saved rbx holding leaf 1's EBX below the stack
     * pointer differs in replay in its APIC ID only: still the point; another byte: not.
     */
    @Test
    void theStubHashesTheStacksWordsWithoutApicIdsForFormat6() throws Exception {
        long[] recorded = registers();
        long sp = recorded[4];
        byte[] stack = new byte[512];
        ByteBuffer sb = ByteBuffer.wrap(stack).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < stack.length; i += 8) sb.putLong(i, 0x7fff_0000_0000L + i * 13L);
        sb.putLong(88, 0x0000_0001_5efe_0800L);     // rbx as nanosleep saved it, 40 bytes below sp
        long hash = wordHash(sb, sp - 128, new long[] {sp - 128}, new int[] {64}, true);
        GuardStub s = guardOfOneInstruction(recorded, new GuardStub.StackCheck(sp - 128, 512, hash, java.util.List.of(), true));
        for (long flags : new long[] {0, OF, 0x41, 0x8D5}) {
            Run same = run(s, recorded.clone(), flags, sp - 128, stack);
            assertEquals(s.hitAddress(), same.stop(), "the recorded stack: the trap");
            assertEquals(flags, same.flags(), "flags as they were");
            byte[] replayed = stack.clone();
            replayed[88 + 3] = (byte) 0xb4;
            Run other = run(s, recorded.clone(), flags, sp - 128, replayed);
            assertEquals(s.hitAddress(), other.stop(), "another APIC ID: the trap");
            assertArrayEquals(recorded, other.registers(), "registers as they were");
            assertEquals(flags, other.flags(), "flags as they were");
            byte[] changed = stack.clone();
            changed[88 + 4] = 2;
            assertEquals(s.resumeAddress(), run(s, recorded.clone(), flags, sp - 128, changed).stop(), "another byte: on");
        }
    }

    /**
     * The largest witness (15 registers' windows, 64 pointers') with the APIC IDs left out fits the stub's
     * page: one loop walks a table of windows (a loop per window made it too long: no guard, and the
     * flaky-cache sample's replays diverged at the first such point).
     */
    @Test
    void theLargestWitnessFitsTheStubsPage() throws Exception {
        long[] recorded = registers();
        long sp = recorded[4];
        byte[] stack = new byte[512];
        long heapAt = 0x5555_5555_a000L;
        byte[] heap = countingHeap(64 * 1024);
        ByteBuffer hb = ByteBuffer.wrap(heap).order(ByteOrder.LITTLE_ENDIAN);
        long[] first = new long[15];
        int[] firstWords = new int[15];
        for (int w = 0; w < first.length; w++) {
            first[w] = heapAt + 0x1000L * w + 0x40;
            firstWords[w] = 32;
        }
        long[] second = new long[64];
        int[] secondWords = new int[64];
        for (int w = 0; w < second.length; w++) {
            second[w] = heapAt + 0x100L * w + 0x8;
            secondWords[w] = 8;
        }
        GuardStub s = guardOfOneInstruction(recorded, new GuardStub.StackCheck(sp - 128, 512, stackHash(stack), java.util.List.of(
                        new GuardStub.WordCheck(first, firstWords, wordHash(hb, heapAt, first, firstWords, true), true),
                        new GuardStub.WordCheck(second, secondWords, wordHash(hb, heapAt, second, secondWords, true), true))));
        assertEquals(s.hitAddress(), run(s, recorded.clone(), 0, sp - 128, stack, heapAt, heap).stop());
        byte[] last = heap.clone();
        last[0x100 * 63 + 0x8 + 63] += 1; // the last word of the last window
        assertEquals(s.resumeAddress(), run(s, recorded.clone(), 0, sp - 128, stack, heapAt, last).stop());
    }

    /**
     * A window of the witness unmapped since the guard went in: the stub's read faults, and deja puts back
     * the registers and flags the thread entered the comparison with, from the stub's page, and sends it
     * on to the displaced code as for a pass that is not the point.
     */
    @Test
    void aFaultInTheStubsHashGivesBackTheRegistersAndFlagsItEnteredWith() throws Exception {
        long[] recorded = registers();
        long sp = recorded[4];
        byte[] stack = new byte[512];
        long heapAt = 0x5555_5555_a000L;
        long[] first = {heapAt + 0x100};
        int[] words = {8};
        GuardStub s = guardOfOneInstruction(recorded, new GuardStub.StackCheck(sp - 128, 512, stackHash(stack),
                        java.util.List.of(new GuardStub.WordCheck(first, words, 12345, false))));
        for (long flags : new long[] {0, OF, 0x41, 0x8D5, 0x95}) {
            Faulted f = org.junit.jupiter.api.Assertions.assertThrows(Faulted.class,
                    () -> run(s, recorded.clone(), flags, sp - 128, stack, heapAt, new byte[0]));
            assertTrue(s.faultsInCheck(f.pc), "the fault is in the stub's hash");
            assertFalse(s.faultsInCheck(s.resumeAddress()), "the displaced code's faults are the program's");
            int data = GuardStub.DATA_OFFSET;
            long[] back = GuardStub.faultRegisters(Arrays.copyOfRange(f.page, data, data + GuardStub.SLOTS_READ), f.registers, f.flags);
            assertArrayEquals(recorded, Arrays.copyOf(back, GuardStub.REGISTERS), "the registers the comparison began with");
            assertEquals(flags, back[GuardStub.REGISTERS], "the flags it began with");
        }
    }

    /** RunState.stackHash of a whole window: FNV-1a over its bytes, then xor its length. */
    private static long stackHash(byte[] window) {
        long h = 0xcbf29ce484222325L;
        for (byte b : window) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h ^ window.length;
    }

    /**
     * At a point whose registers recur (an interpreter's dispatch code, the progress on the stack), the
     * stub hashes the stack window itself: it traps only when the hash is the recorded one, and either
     * way the registers and every flag it compares are as they were.
     */
    @Test
    void theStubHashesTheStackWindowAndLeavesRegistersAndFlagsAsTheyWere() throws Exception {
        long[] recorded = registers();
        long sp = recorded[4];
        byte[] window = new byte[512];
        for (int i = 0; i < window.length; i++) window[i] = (byte) (i * 7 + 3);
        GuardStub s = guardOfOneInstruction(recorded, new GuardStub.StackCheck(sp - 128, 512, stackHash(window)));
        for (long flags : new long[] {0, OF, 0x41, 0x8D5, 0x95}) {
            Run same = run(s, recorded.clone(), flags, sp - 128, window);
            assertEquals(s.hitAddress(), same.stop(), "the recorded stack: the trap");
            assertArrayEquals(recorded, same.registers(), "registers as they were at the trap");
            assertEquals(flags, same.flags(), "flags as they were at the trap");
            byte[] later = window.clone();
            later[128 + 8] += 1; // a local one turn later
            Run other = run(s, recorded.clone(), flags, sp - 128, later);
            assertEquals(s.resumeAddress(), other.stop(), "another stack: on to the displaced code");
            assertArrayEquals(recorded, other.registers(), "registers as they were");
            assertEquals(flags, other.flags(), "flags as they were");
        }
        long[] moved = recorded.clone();
        moved[0] += 1;
        assertEquals(s.resumeAddress(), run(s, moved, 0, sp - 128, window).stop(), "a register differs: no hashing needed");
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

    /**
     * HotSpot's G1 copies an object with a computed jump into an unrolled run of moves (objdump of
     * libjvm's G1ParScanThreadState::trim_queue_to_threshold): any of them may be a target, so a patch
     * over two of them crashed a javac replay. In a function that jumps through a register only the
     * instruction at the point is patched, and it must be 5 bytes or more.
     */
    @Test
    void aFunctionThatJumpsThroughARegisterGetsAPatchOfTheOneInstruction() throws Exception {
        byte[] copy = bytes("ff e0 49 8b 45 38 49 89 42 38 48 8b 87 00 01 00 00 49 89 42 30 c3");
        long start = 0x7ffff6d2b702L;
        long stub = start + 0x100000;
        assertThrows(GuardStub.Refused.class, () -> GuardStub.build(copy, start, start + 2, stub, registers()),
                "4 bytes: the next move, a target, would be under the patch");
        GuardStub s = GuardStub.build(copy, start, start + 10, stub, registers());
        assertEquals(start + 10, s.patchAddress());
        assertEquals(7, s.patch().length, "the 7-byte load alone");
    }

    /**
     * JDK 17's Node::set_req_X (C2): a 3-instruction loop of short instructions (sub 4 bytes, cmp 3, jne 2),
     * and at the function's end a tail call through rax after the saved registers are popped. Taken for a
     * switch, that jump left only patches of one 5-byte instruction, none of which the loop has: a
     * compiler thread preempted there was trapped pass by pass, and replays of a Maven run ran past it.
     * As a tail call it does not count, and the jne gets a patch with the sub after it; the same code with
     * a switch's dispatch (add rdx, rax; jmp rax) still does not.
     */
    @Test
    void anIndirectJumpAfterTheEpilogueIsATailCallNotASwitch() throws Exception {
        String loop = "48 83 e8 08 48 3b 18 75 f7 83 ea 01 41 89 55 20 ";   // sub rax,8; cmp rbx,[rax]; jne -9; sub edx,1; mov [r13+0x20],edx
        String tail = "5b 4c 89 ea 41 5c 4c 89 f6 41 5d 41 5e 5d ff e0";    // pop rbx ... pop rbp; jmp rax
        String dispatch = "90 90 90 90 90 90 90 90 90 90 90 90 90 48 01 d0 ff e0"; // nops; add rax, rdx; jmp rax
        long start = 0x7ffff7675288L;
        long stub = start + 0x100000;
        long jne = start + 7;
        GuardStub s = GuardStub.build(bytes(loop + tail), start, jne, stub, registers());
        assertEquals(jne, s.patchAddress());
        assertEquals(5, s.patch().length, "the jne and the sub after it");
        assertThrows(GuardStub.Refused.class, () -> GuardStub.build(bytes(loop + dispatch), start, jne, stub, registers()),
                "a switch's dispatch may land in the patch: the jne alone is too short");
        assertTrue(GuardStub.tearsDownFrame(bytes("41 5e"), 0));
        assertTrue(GuardStub.tearsDownFrame(bytes("c9"), 0));
        assertTrue(GuardStub.tearsDownFrame(bytes("48 83 c4 28"), 0));
        assertFalse(GuardStub.tearsDownFrame(bytes("48 01 d0"), 0));
        assertFalse(GuardStub.tearsDownFrame(bytes("48 83 c0 08"), 0), "add rax, 8 is no epilogue");
    }

    /**
     * JDK 17's Dict::Insert and PhaseIdealLoop::Dominators: C2 compiler threads preempted at an indirect
     * call in a loop. The stub used to run the call itself, which left the stub's return address below the
     * stack pointer, so the stack hash of the point one turn later never matched (replays of a Maven run
     * diverged there every time). A call is now the patch's last instruction, run as a push of the
     * program's return address and a jump through the same operand; one through rsp, or before the end of
     * the patch, is refused.
     */
    @Test
    void aCallInThePatchReturnsToTheProgramsCode() throws Exception {
        long start = 0x7ffff70844c2L;
        long stub = start + 0x100000;
        // mov rdi, [rbp-0x38]; mov rsi, [rax+r14*8]; call [r12+0x20]; test eax, eax; jne -0x23
        byte[] dict = bytes("48 8b 7d c8 4a 8b 34 f0 41 ff 54 24 20 85 c0 75 dd");
        long call = start + 8;
        GuardStub s = GuardStub.build(dict, start, call, stub, registers());
        assertEquals(call, s.patchAddress());
        assertEquals(5, s.patch().length, "the call alone");
        long ret = call + 5;
        int at = (int) (s.resumeAddress() - stub);
        byte[] code = s.code();
        ByteBuffer c = ByteBuffer.wrap(code).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x68, code[at] & 0xff, "push imm32");
        assertEquals((int) ret, c.getInt(at + 1));
        assertArrayEquals(bytes("c7 44 24 04"), Arrays.copyOfRange(code, at + 5, at + 9), "mov dword [rsp+4], imm32");
        assertEquals((int) (ret >>> 32), c.getInt(at + 9));
        assertArrayEquals(bytes("41 ff 64 24 20"), Arrays.copyOfRange(code, at + 13, at + 18), "jmp [r12+0x20]");
        // A direct call: the same push, then a jump to the callee.
        byte[] direct = bytes("48 89 c7 e8 00 01 00 00 85 c0 c3");
        GuardStub d = GuardStub.build(direct, start, start + 3, stub, registers());
        int dat = (int) (d.resumeAddress() - stub);
        ByteBuffer dc = ByteBuffer.wrap(d.code()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((int) (start + 8), dc.getInt(dat + 1), "the return address after the call");
        assertEquals(0xE9, d.code()[dat + 13] & 0xff);
        assertEquals(start + 8 + 0x100, stub + dat + 18 + dc.getInt(dat + 14), "the jump reaches the callee");
        // A call through rsp, and a call before the patch's end, are refused.
        assertThrows(GuardStub.Refused.class, () -> GuardStub.build(bytes("ff 54 24 08 90 85 c0 c3"), start, start, stub, registers()));
        assertThrows(GuardStub.Refused.class, () -> GuardStub.build(bytes("ff d0 48 89 c7 c3"), start, start, stub, registers()),
                "call rax (2 bytes) would need the mov after it in the patch");
    }

    @Test
    void aPatchBeforeTheAddressThatEndsShortOfItIsRefusedNotACrash() throws Exception {
        // mov rax, imm64 (10 bytes), nop, nop, then the point at an instruction that cannot move (a call
        // through rsp): a patch at it is refused, and one from the mov displaces the mov alone, 2 bytes
        // short of the point (recording met this in libjvm, at a call, as an IndexOutOfBoundsException that
        // ended deja record; calls move since, as a patch's last instruction).
        byte[] code = bytes("48 b8 01 02 03 04 05 06 07 08 90 90 ff 54 24 08 90 c3");
        long start = 0x555555555000L;
        GuardStub.Refused r = assertThrows(GuardStub.Refused.class, () -> GuardStub.build(code, start, start + 12, STUB, registers()));
        assertTrue(r.getMessage().contains("call"), r.getMessage());
    }

    @Test
    void callsAndBranchesIntoThePatchAreRefused() {
        byte[] call = bytes("ff 14 24 90 90 c3"); // call [rsp]: the push that replaces the call would move its operand
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
