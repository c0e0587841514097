package dev.deja.device.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * {@link X86Decoder} against GNU objdump, and on the cases that are easy to get wrong.
 *
 * <p>The fixture, {@code x86/insns.tsv.gz}, was generated once by {@code x86/gen-fixture.py} (in
 * the test resources; run it from there with python3) from {@code objdump -d --insn-width=16 -j .text}
 * (GNU objdump 2.40) of libc.so.6, liblzma.so.5, the JDK's libjvm.so, libstdc++.so.6,
 * libcrypto.so.3 and libpython3.11, and of {@code x86/vec.c} compiled by gcc 12 for AVX2, AVX-512
 * (skylake-avx512, knl), AVX512-FP16 (sapphirerapids), znver3 and SSE4.2. Instructions are
 * deduplicated by their bytes and kept at most six of a shape (mnemonic and operands with numbers
 * blanked). Then come the first instructions objdump finds in a sweep of the one-byte, 0F, 0F 38
 * and 0F 3A maps (every opcode with some prefixes and ModRM forms, every ModRM of 0F 01) and in
 * 100 000 random byte strings shaped like instructions (prefixes, REX, an opcode of some map, VEX/EVEX/XOP payloads), for what compiled
 * code seldom has. objdump runs with {@code -M intel64} (66 does not shorten a near branch, as on
 * Intel processors). Lines objdump shows as "(bad)" or ".byte", and prefixes it shows on a line of
 * their own, are left out; where objdump shows WAIT (9B) and the x87 instruction after it as one
 * (fstcw), the fixture holds the x87 instruction alone, as the processor runs two; where objdump
 * shows an instruction with a VEX, EVEX or XOP prefix after REX, 66, F2, F3 or F0, which the
 * processor rejects (#UD), the fixture expects an exception. Each line holds: the bytes in hex; the
 * branch kind objdump's mnemonic implies (or INVALID); the branch displacement (target minus the
 * next instruction's address) or "-"; the displacement of a "(%rip)" operand or "-"; objdump's text.
 * Regenerate with {@code cd device/src/test/resources/x86 && python3 gen-fixture.py}.
 */
class X86DecoderTest {
    private static final HexFormat HEX = HexFormat.of();

    private static X86Insn decode(String hex) throws X86DecodeException {
        return X86Decoder.decode(HEX.parseHex(hex), 0);
    }

    private static int relWidth(Branch b) {
        return switch (b) {
            case JCC_REL8, JMP_REL8, LOOP_REL8 -> 1;
            default -> 4;
        };
    }

    private static int readLe(byte[] b, int at, int width) {
        if (width == 1) return b[at];
        if (width == 2) return (short) ((b[at] & 0xff) | (b[at + 1] & 0xff) << 8);
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | b[at + 3] << 24;
    }

    @Test
    void agreesWithObjdumpOnTheFixture() throws IOException {
        int total = 0;
        Map<String, Integer> failuresByKind = new TreeMap<>();
        List<String> examples = new ArrayList<>();
        try (InputStream raw = X86DecoderTest.class.getResourceAsStream("/x86/insns.tsv.gz");
                BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.US_ASCII))) {
            String line;
            while ((line = r.readLine()) != null) {
                String[] f = line.split("\t", 5);
                total++;
                byte[] bytes = HEX.parseHex(f[0]);
                String problem = f[1].equals("INVALID") ? checkInvalid(bytes) : check(bytes, branchOf(f[1], f[4]), f[2], f[3]);
                if (problem != null) {
                    String cat = problem.split(":")[0];
                    failuresByKind.merge(cat, 1, Integer::sum);
                    if (examples.size() < 60) examples.add(problem + "  " + f[0] + "  " + f[4]);
                }
            }
        }
        int all = total;
        int failed = failuresByKind.values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(0, failed, () -> failed + " of " + all + " differ from objdump " + failuresByKind + "\n" + String.join("\n", examples));
        assertTrue(total > 50_000, "fixture has " + total + " instructions");
    }

    /** The fixture's branch kind; its INDIRECT is a call or a jump as objdump's mnemonic says. */
    private static Branch branchOf(String kind, String text) {
        if (!kind.equals("INDIRECT")) return Branch.valueOf(kind);
        return java.util.regex.Pattern.compile("\\bl?call[wlq]?\\b").matcher(text).find()
                ? Branch.INDIRECT_CALL : Branch.INDIRECT_JMP;
    }

    /** Null if the decoder rejects bytes the processor does not run, else what it made of them. */
    private static String checkInvalid(byte[] bytes) {
        try {
            return "accepted: " + X86Decoder.decode(bytes, 0);
        } catch (X86DecodeException e) {
            return null;
        }
    }

    /** What differs between the decoder and objdump on one instruction, or null. */
    private static String check(byte[] bytes, Branch want, String rel, String rip) {
        X86Insn insn;
        try {
            insn = X86Decoder.decode(bytes, 0);
        } catch (X86DecodeException e) {
            return "exception: " + e.getMessage();
        }
        if (insn.length() != bytes.length) return "length: " + insn.length() + " for " + bytes.length;
        if (insn.branch() != want) return "branch: " + insn.branch() + " for " + want;
        if (rip.equals("-") != (insn.ripDisp() < 0)) return "rip: at " + insn.ripDisp() + " for " + rip;
        if (!rip.equals("-")) {
            if (insn.ripDisp() + 4 > bytes.length) return "rip: at " + insn.ripDisp() + " past the end";
            int disp = readLe(bytes, insn.ripDisp(), 4);
            if (disp != Long.parseLong(rip)) return "rip disp: " + disp + " for " + rip;
        }
        if (rel.equals("-") != (insn.rel() < 0)) return "rel: at " + insn.rel() + " for " + rel;
        if (!rel.equals("-")) {
            int width = want == Branch.SYSTEM ? bytes.length - insn.rel() : relWidth(want); // XBEGIN: rel32, rel16 with 66
            if (insn.rel() + width != bytes.length) return "rel: at " + insn.rel() + " not last";
            if (readLe(bytes, insn.rel(), width) != Long.parseLong(rel)) return "rel value: " + readLe(bytes, insn.rel(), width) + " for " + rel;
        }
        return null;
    }

    private static void assertInsn(String hex, int length, int ripDisp, Branch branch, int rel) throws X86DecodeException {
        X86Insn got = decode(hex);
        assertEquals(new X86Insn(length, ripDisp, branch, rel, got.immediate()), got, hex);
    }

    private static void assertLength(String hex, int length) throws X86DecodeException {
        assertInsn(hex, length, -1, Branch.NONE, -1);
    }

    @Test
    void group3TestHasAnImmediateOnlyForSlash0AndSlash1() throws X86DecodeException {
        assertLength("f6c001", 3); // test al, 1
        assertLength("f6c801", 3); // test al, 1 (/1 alias)
        assertLength("f6d0", 2); // not al
        assertLength("f6d8", 2); // neg al
        assertLength("f7c001000000", 6); // test eax, imm32
        assertLength("66f7c00100", 5); // test ax, imm16
        assertLength("48f7c001000000", 7); // test rax, imm32 (REX.W keeps imm32)
        assertLength("f7e1", 2); // mul ecx
        assertLength("f7f9", 2); // idiv ecx
        assertInsn("f70501000000ff000000", 10, 2, Branch.NONE, -1); // test dword [rip+1], 0xff
        assertInsn("f71d01000000", 6, 2, Branch.NONE, -1); // neg dword [rip+1]
    }

    @Test
    void immediatesByOperandSize() throws X86DecodeException {
        assertLength("c8100001", 4); // enter 16, 1
        assertLength("b801000000", 5); // mov eax, imm32
        assertLength("66b80100", 4); // mov ax, imm16
        assertLength("48b80100000000000000", 10); // movabs rax, imm64
        assertLength("6648b80100000000000000", 11); // REX.W wins over 66
        assertLength("49bf0100000000000000", 10); // movabs r15, imm64
        assertLength("a00100000000000000", 9); // movabs al, moffs64
        assertLength("48a30100000000000000", 10); // movabs moffs64, rax
        assertLength("67a001000000", 6); // mov al, moffs32 (67)
        assertLength("6a01", 2); // push imm8
        assertLength("6801000000", 5); // push imm32
        assertLength("66680100", 4); // push imm16
        assertLength("6bc001", 3); // imul eax, eax, imm8
        assertLength("69c001000000", 6); // imul eax, eax, imm32
        assertLength("6669c00100", 5); // imul ax, ax, imm16
        assertLength("8000ff", 3); // add byte [rax], imm8
        assertLength("81c001000000", 6); // add eax, imm32
        assertLength("6681c00100", 5); // add ax, imm16
        assertLength("83c001", 3); // add eax, imm8
        assertLength("4883042401", 5); // add qword [rsp], 1 (SIB)
        assertLength("8344240801", 5); // add dword [rsp+8], 1 (SIB, disp8)
        assertLength("8304250000000001", 8); // add dword [abs32], 1 (SIB without base)
        assertLength("81842400010000ff000000", 11); // add dword [rsp+0x100], imm32
        assertLength("c0e003", 3); // shl al, 3
        assertLength("c6000a", 3); // mov byte [rax], 10
        assertLength("66c7000100", 5); // mov word [rax], 1
        assertLength("0c01", 2); // or al, 1
        assertLength("660d0100", 4); // or ax, imm16
        assertLength("a801", 2); // test al, 1
        assertLength("e401", 2); // in al, 1
    }

    @Test
    void twoAndThreeByteMaps() throws X86DecodeException {
        assertLength("660f70c01b", 5); // pshufd
        assertLength("660f73d804", 5); // psrldq
        assertLength("0fc2c101", 4); // cmpltps
        assertLength("660fc4c001", 5); // pinsrw
        assertLength("660fc5c001", 5); // pextrw
        assertLength("0fc6c01b", 4); // shufps
        assertLength("0fbae005", 4); // bt eax, 5
        assertLength("480fbae805", 5); // bts rax, 5
        assertLength("0fa4c201", 4); // shld edx, eax, 1
        assertLength("660f3800c1", 5); // pshufb
        assertLength("660f3a0fc108", 6); // palignr
        assertInsn("660f3a0f0501000000ff", 10, 5, Branch.NONE, -1); // palignr xmm0, [rip+1], 0xff
        assertLength("0f0fc1b4", 4); // pfmul (3DNow!)
        assertInsn("0f0f0501000000b4", 8, 3, Branch.NONE, -1); // pfmul mm0, [rip+1]
        assertLength("0f1f440000", 5); // nop dword [rax+rax]
        assertLength("f30f1efa", 4); // endbr64
        assertLength("0f22d8", 3); // mov cr3, rax
        assertLength("0f20c0", 3); // mov rax, cr0 (mod is ignored)
        assertLength("660f78c00102", 6); // extrq xmm0, 1, 2
        assertLength("0fa2", 2); // cpuid
        assertLength("9bd97d00", 1); // wait, then fnstcw: two instructions, as the processor runs them
        assertLength("d97d00", 3); // fnstcw [rbp]
        assertLength("f30fa6c0", 4); // rep montmul (VIA PadLock)
        assertLength("0f31", 2); // rdtsc
    }

    @Test
    void vexEvexAndXop() throws X86DecodeException {
        assertLength("c5f877", 3); // vzeroupper
        assertLength("c5fc58c1", 4); // vaddps ymm0, ymm0, ymm1
        assertInsn("c5fc580501000000", 8, 4, Branch.NONE, -1); // vaddps ymm0, ymm0, [rip+1]
        assertLength("c4e27d18c0", 5); // vbroadcastss (0F38)
        assertLength("c4e37d18c101", 6); // vinsertf128 (0F3A, imm8)
        assertLength("c5f970c01b", 5); // vpshufd (0F, imm8)
        assertLength("c5f0c2c201", 5); // vcmpltps
        assertLength("c4e2f8f2c1", 5); // andn (BMI)
        assertLength("c4e37b0fc001", 6); // rorx
        assertLength("62f17c4858c1", 6); // vaddps zmm0, zmm0, zmm1
        assertInsn("62f17c48580501000000", 10, 6, Branch.NONE, -1); // vaddps zmm0, zmm0, [rip+1]
        assertLength("62f17c48584001", 7); // vaddps zmm0, zmm0, [rax+64] (disp8*N)
        assertLength("62f37d4825c0ff", 7); // vpternlogd (0F3A, imm8)
        assertLength("62f5744858c2", 6); // vaddph zmm0, zmm1, zmm2 (map 5)
        assertLength("62f6754898c2", 6); // vfmadd132ph (map 6)
        assertLength("8fe878a2c1a0", 6); // vpcmov (XOP map 8, imm8) 
        assertLength("8fe97890c1", 5); // vprotb (XOP map 9)
        assertLength("8fea7810c001000000", 9); // bextr eax, eax, imm32 (XOP map A)
        assertLength("8f00", 2); // pop qword [rax]
    }

    @Test
    void prefixes() throws X86DecodeException {
        assertLength("662e0f1f840000000000", 10); // nop word cs:[rax+rax]
        assertLength("66666666662e0f1f840000000000", 14);
        assertLength("f0480fb10a", 5); // lock cmpxchg [rdx], rcx
        assertLength("64488b042528000000", 9); // mov rax, fs:[0x28]
        assertLength("4866b80100", 5); // REX then 66: the REX is ignored, imm16
        assertInsn("678b0501000000", 7, 3, Branch.NONE, -1); // mov eax, [eip+1]
        assertInsn("488b0501000000", 7, 3, Branch.NONE, -1); // mov rax, [rip+1]
        assertInsn("48c705010000000a000000", 11, 3, Branch.NONE, -1); // mov qword [rip+1], 10
        assertInsn("66c70501000000ffff", 9, 3, Branch.NONE, -1); // mov word [rip+1], 0xffff
        assertInsn("803d0100000000", 7, 2, Branch.NONE, -1); // cmp byte [rip+1], 0
    }

    @Test
    void branches() throws X86DecodeException {
        assertInsn("eb05", 2, -1, Branch.JMP_REL8, 1);
        assertInsn("e901000000", 5, -1, Branch.JMP_REL32, 1);
        assertInsn("66e901000000", 6, -1, Branch.JMP_REL32, 2); // 66 is ignored: still rel32
        assertInsn("e801000000", 5, -1, Branch.CALL_REL32, 1);
        assertInsn("f2e801000000", 6, -1, Branch.CALL_REL32, 2); // bnd call
        assertInsn("7405", 2, -1, Branch.JCC_REL8, 1);
        assertInsn("2e7405", 3, -1, Branch.JCC_REL8, 2); // branch hint
        assertInsn("0f8401000000", 6, -1, Branch.JCC_REL32, 2);
        assertInsn("e2fe", 2, -1, Branch.LOOP_REL8, 1);
        assertInsn("e3fe", 2, -1, Branch.LOOP_REL8, 1); // jrcxz
        assertInsn("67e3fe", 3, -1, Branch.LOOP_REL8, 2); // jecxz
        assertInsn("ffe0", 2, -1, Branch.INDIRECT_JMP, -1); // jmp rax
        assertInsn("3effe0", 3, -1, Branch.INDIRECT_JMP, -1); // notrack jmp rax
        assertInsn("ff2501000000", 6, 2, Branch.INDIRECT_JMP, -1); // jmp [rip+1]
        assertInsn("ff1501000000", 6, 2, Branch.INDIRECT_CALL, -1); // call [rip+1]
        assertInsn("41ffd3", 3, -1, Branch.INDIRECT_CALL, -1); // call r11
        assertInsn("ff2c24", 3, -1, Branch.INDIRECT_JMP, -1); // jmp far [rsp]
        assertInsn("c3", 1, -1, Branch.RET, -1);
        assertInsn("f3c3", 2, -1, Branch.RET, -1);
        assertInsn("c20800", 3, -1, Branch.RET, -1);
        assertInsn("ca0800", 3, -1, Branch.RET, -1);
        assertInsn("cb", 1, -1, Branch.RET, -1);
        assertInsn("0f05", 2, -1, Branch.SYSTEM, -1);
        assertInsn("0f34", 2, -1, Branch.SYSTEM, -1);
        assertInsn("cd80", 2, -1, Branch.SYSTEM, -1);
        assertInsn("cc", 1, -1, Branch.SYSTEM, -1);
        assertInsn("f1", 1, -1, Branch.SYSTEM, -1);
        assertInsn("48cf", 2, -1, Branch.SYSTEM, -1); // iretq
        assertInsn("f4", 1, -1, Branch.SYSTEM, -1);
        assertInsn("0f0b", 2, -1, Branch.SYSTEM, -1);
        assertInsn("0fb9c0", 3, -1, Branch.SYSTEM, -1);
        assertInsn("0fffc0", 3, -1, Branch.SYSTEM, -1);
        assertInsn("0f01c1", 3, -1, Branch.SYSTEM, -1); // vmcall
        assertInsn("c7f801000000", 6, -1, Branch.SYSTEM, 2); // xbegin
        assertInsn("66c7f80100", 5, -1, Branch.SYSTEM, 3); // xbegin rel16
        assertInsn("660f01cc", 4, -1, Branch.SYSTEM, -1); // tdcall
        assertInsn("0f01cc", 3, -1, Branch.NONE, -1); // (undefined without 66; not a transfer)
        assertInsn("c6f801", 3, -1, Branch.NONE, -1); // xabort
    }

    @Test
    void invalidIn64BitMode() {
        for (String hex : List.of("06", "07", "0e", "16", "17", "1e", "1f", "27", "2f", "37", "3f", "60", "61", "82c001",
                "9a0000000000", "ce", "d40a", "d50a", "d6", "ea000000000000", "0f04", "0f0a", "0f0c", "0f24c0", "0f36",
                "0f39", "0f7a", "fed0", "ffff", "c7c801000000", "c6c801", "8f20" /* 8F /4 */, "48c5f877", "66c5f877",
                "62f1784858c1" /* EVEX with its fixed bit clear */, "62f47c4858c1" /* EVEX map 4 */, "c4e07d18c0" /* VEX map 0 */)) {
            X86DecodeException e = assertThrows(X86DecodeException.class, () -> decode(hex), hex);
            assertTrue(e.getMessage().contains("offset 0"), e.getMessage());
        }
    }

    @Test
    void truncatedOrTooLong() {
        for (String hex : List.of("", "48", "66", "0f", "0f38", "0f3a00c0", "e8010000", "7f", "488b05010000", "b8010000",
                "48b8010000000000", "c5", "c5f8", "c4e27d", "62f17c48", "62f17c4858", "f6c0", "c80100", "8b04", "8b4424")) {
            X86DecodeException e = assertThrows(X86DecodeException.class, () -> decode(hex), hex);
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
        X86DecodeException e = assertThrows(X86DecodeException.class, () -> decode("6666666666666666666666666666669000"));
        assertTrue(e.getMessage().contains("longer than 15"), e.getMessage());
    }

    /** The bytes a JIT compiler patches in place (embedded pointers, branch targets) are counted as immediates. */
    @Test
    void immediatesAreCounted() throws X86DecodeException {
        Map<String, Integer> cases = new java.util.LinkedHashMap<>();
        cases.put("48b80100000000000000", 8);   // movabs rax, imm64
        cases.put("b801000000", 4);             // mov eax, imm32
        cases.put("66b80100", 2);               // mov ax, imm16
        cases.put("41817f1001000000", 4);       // cmp dword [r15+16], imm32
        cases.put("c7442408ffffffff", 4);       // mov dword [rsp+8], imm32
        cases.put("4883c001", 1);               // add rax, imm8
        cases.put("e801000000", 4);             // call rel32
        cases.put("0f8401000000", 4);           // je rel32
        cases.put("c20800", 2);                 // ret imm16
        cases.put("660f3a0fc108", 1);           // palignr xmm0, xmm1, 8
        cases.put("c4e37d18c101", 1);           // vinsertf128 ymm0, ymm0, xmm1, 1
        cases.put("410fb65d01", 0);             // movzx ebx, byte [r13+1]
        cases.put("ff24dd00100000", 0);         // jmp [rbx*8+0x1000]
        cases.put("488b0501000000", 0);         // mov rax, [rip+1]
        cases.put("f6c001", 1);                 // test al, 1
        cases.put("f6d0", 0);                   // not al (group 3, no immediate)
        for (var c : cases.entrySet()) assertEquals(c.getValue(), decode(c.getKey()).immediate(), c.getKey());
    }

    @Test
    void decodesAtAnOffsetAndTheMessageNamesIt() throws X86DecodeException {
        byte[] code = HEX.parseHex("90488b0501000000c3");
        assertEquals(new X86Insn(1, -1, Branch.NONE, -1, 0), X86Decoder.decode(code, 0));
        assertEquals(new X86Insn(7, 3, Branch.NONE, -1, 0), X86Decoder.decode(code, 1));
        assertEquals(new X86Insn(1, -1, Branch.RET, -1, 0), X86Decoder.decode(code, 8));
        X86DecodeException e = assertThrows(X86DecodeException.class, () -> X86Decoder.decode(HEX.parseHex("9006"), 1));
        assertTrue(e.getMessage().contains("offset 1") && e.getMessage().contains("06"), e.getMessage());
    }
}
