package dev.deja.replayer.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.TraceeMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The unwinder without a process: the nested_calls sample "loaded" at a PIE base, a stack built in
 * fake memory from the sample's own CFI rows (each frame's return address where its row says), and
 * the walk must give back every function; without CFI it follows the rbp chain and says so.
 */
class UnwinderTest {
    private static final long BASE = 0x555555554000L;
    private static final ElfFile SAMPLE = ElfFile.open(Path.of(ElfFileTest.SAMPLE));

    /** Memory as 8-byte words. */
    private static final class Words implements TraceeMemory {
        final Map<Long, Long> words = new HashMap<>();

        @Override
        public int read(long address, byte[] dst, int off, int len) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < len; i++) {
                long word = (address + i) & ~7L;
                Long v = words.get(word);
                if (v == null) return i;
                b.putLong(0, v);
                dst[off + i] = b.get((int) ((address + i) & 7));
            }
            return len;
        }
    }

    private static ProcessMaps space(Words memory) {
        long end = BASE + 0x5000;
        ProcessMaps.Mapping text = new ProcessMaps.Mapping(BASE, end, "r-xp", 0, "fe:00", 1,
                Path.of(ElfFileTest.SAMPLE).toAbsolutePath().normalize().toString());
        return new ProcessMaps(List.of(text), memory, new ProcessMaps.Cache(), m -> "/recorded/nested_calls");
    }

    private static long symbol(String name) {
        return SAMPLE.functionSymbols().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow().address();
    }

    /** user_regs_struct with rip, rsp, rbp set. */
    private static long[] regs(long rip, long rsp, long rbp) {
        long[] r = new long[27];
        r[16] = rip;
        r[19] = rsp;
        r[4] = rbp;
        return r;
    }

    @Test
    void walksTheCallersThroughTheirCfiRows() {
        // pcs: a point inside inner, then return addresses into middle, outer, main (one byte after a call)
        String[] chain = {"inner", "middle", "outer", "main"};
        long[] pcs = new long[chain.length];
        pcs[0] = symbol("inner") + 4;
        for (int i = 1; i < chain.length; i++) pcs[i] = returnAddressInto(chain[i], chain[i - 1]);
        Words memory = new Words();
        long sp = 0x7ffffffde000L;
        long rsp0 = sp;
        for (int i = 0; i < chain.length - 1; i++) {
            long lookup = i == 0 ? pcs[i] : pcs[i] - 1;
            CallFrameInfo.Fde fde = SAMPLE.callFrameInfo().find(lookup).orElseThrow();
            CfaProgram.Row row = CfaProgram.rowAt(SAMPLE.callFrameInfo(), fde, lookup);
            assertEquals(CfaProgram.RSP, row.cfaRegister(), "no frame pointers at -O1: " + row);
            long cfa = sp + row.cfaOffset();
            memory.words.put(cfa - 8, BASE + pcs[i + 1]);
            sp = cfa;
        }
        List<Unwinder.Frame> frames = Unwinder.unwind(regs(BASE + pcs[0], rsp0, 0), memory, space(memory), 10);
        assertTrue(frames.size() >= 4, frames.toString());
        assertEquals(List.of("inner", "middle", "outer", "main"), frames.stream().limit(4).map(f -> f.symbol().orElseThrow().symbol().name()).toList());
        assertEquals("inner+0x4", frames.getFirst().function());
        assertEquals("/recorded/nested_calls", frames.get(1).object());
        for (Unwinder.Frame f : frames.subList(0, 4)) assertTrue(!f.how().guessed(), f.toString());
        assertEquals(" > /recorded/nested_calls(middle+0x" + Long.toHexString(pcs[1] - symbol("middle")) + ") [0x"
                + Long.toHexString(pcs[1]) + "]", frames.get(1).straceLine());
    }

    /** The address after the call from {@code caller} to {@code callee}: found by the bytes of a call rel32. */
    private static long returnAddressInto(String caller, String callee) {
        ElfFile.Symbol c = SAMPLE.functionSymbols().stream().filter(s -> s.name().equals(caller)).findFirst().orElseThrow();
        ElfFile.Section text = SAMPLE.section(".text").orElseThrow();
        ByteBuffer code = SAMPLE.bytes(text);
        long target = symbol(callee);
        for (long a = c.address(); a + 5 <= c.address() + c.size(); a++) {
            int at = (int) (a - text.address());
            if ((code.get(at) & 0xff) == 0xe8 && a + 5 + code.getInt(at + 1) == target) return a + 5;
        }
        throw new AssertionError("no call from " + caller + " to " + callee);
    }

    @Test
    void withoutCfiTheFramePointerChainIsFollowedAndMarked() {
        Words memory = new Words();
        long rsp = 0x7ffffffde000L;
        long rbp1 = rsp + 0x40;
        long rbp2 = rbp1 + 0x40;
        long jitPc = 0x7fff00001000L; // anonymous code: no file, no CFI
        memory.words.put(rbp1, rbp2);
        memory.words.put(rbp1 + 8, 0x7fff00002000L);
        memory.words.put(rbp2, 0L);
        memory.words.put(rbp2 + 8, 0L);
        ProcessMaps.Mapping jit = new ProcessMaps.Mapping(0x7fff00000000L, 0x7fff00010000L, "rwxp", 0, "00:00", 0, "");
        ProcessMaps space = new ProcessMaps(List.of(jit), memory, new ProcessMaps.Cache(), ProcessMaps.Mapping::path);
        List<Unwinder.Frame> frames = Unwinder.unwind(regs(jitPc, rsp, rbp1), memory, space, 10);
        assertEquals(2, frames.size(), frames.toString());
        assertEquals(Unwinder.How.REGISTERS, frames.get(0).how());
        assertEquals(Unwinder.How.FRAME_POINTER, frames.get(1).how());
        assertEquals(0x7fff00002000L, frames.get(1).pc());
        assertEquals("??", frames.get(1).function());
        assertEquals("[anonymous]", frames.get(1).object());
    }

    @Test
    void anAddressOutsideEveryMappingEndsTheWalkWithStracesMarker() {
        Words memory = new Words();
        List<Unwinder.Frame> frames = Unwinder.unwind(regs(0x1234, 0x7ffffffde000L, 0), memory, space(memory), 10);
        assertEquals(1, frames.size());
        assertEquals(" > unexpected_backtracing_error [0x1234]", frames.getFirst().straceLine());
    }

    /** glibc's PLT CFA: rsp+8, plus 8 once rip&15 >= 11 (after the push of the lazy-binding stub). */
    @Test
    void dwarfExpressionsOfPltEntries() {
        byte[] plt = {0x77, 8, (byte) 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22};
        DwarfExpression.Context at = context(0x1000, 0x7ffe0000);
        assertEquals(OptionalLong.of(0x7ffe0008), DwarfExpression.evaluate(plt, null, at));
        assertEquals(OptionalLong.of(0x7ffe0010), DwarfExpression.evaluate(plt, null, context(0x100b, 0x7ffe0000)));
        assertEquals(OptionalLong.empty(), DwarfExpression.evaluate(new byte[] {(byte) 0xe0}, null, at), "an unknown op");
        assertEquals(OptionalLong.empty(), DwarfExpression.evaluate(new byte[] {0x22}, null, at), "a stack underflow");
        assertEquals(OptionalLong.of(0x7ffe0000 + 160), DwarfExpression.evaluate(new byte[] {0x23, (byte) 0xa0, 1}, 0x7ffe0000L, at),
                "plus_uconst on the pushed CFA");
    }

    private static DwarfExpression.Context context(long rip, long rsp) {
        return new DwarfExpression.Context() {
            @Override
            public OptionalLong register(int r) {
                return r == 16 ? OptionalLong.of(rip) : r == 7 ? OptionalLong.of(rsp) : OptionalLong.empty();
            }

            @Override
            public OptionalLong memory(long address) {
                return OptionalLong.empty();
            }
        };
    }

    /** The vDSO has no file: its image is read from memory (here this JVM's own, through /proc/self/mem). */
    @Test
    void theVdsoIsReadFromMemory() throws Exception {
        List<ProcessMaps.Mapping> mine = ProcessMaps.parse(java.nio.file.Files.readAllLines(Path.of("/proc/self/maps")));
        ProcessMaps.Mapping vdso = mine.stream().filter(m -> m.path().equals("[vdso]")).findFirst().orElseThrow();
        try (java.io.RandomAccessFile mem = new java.io.RandomAccessFile("/proc/self/mem", "r")) {
            TraceeMemory self = (address, dst, off, len) -> {
                try {
                    mem.seek(address);
                    return Math.max(0, mem.read(dst, off, len));
                } catch (java.io.IOException e) {
                    return 0;
                }
            };
            ProcessMaps space = new ProcessMaps(mine, self, new ProcessMaps.Cache(), ProcessMaps.Mapping::path);
            ProcessMaps.Placed p = space.place(vdso.start() + 16).orElseThrow();
            ElfFile image = p.elf();
            ElfFile.Symbol gettime = image.functionSymbols().stream().filter(s -> s.name().equals("__vdso_clock_gettime"))
                    .findFirst().orElseThrow(() -> new AssertionError(image.functionSymbols().toString()));
            ElfFile.SymbolHit hit = space.place(vdso.start() + gettime.address() + 1).orElseThrow().elf()
                    .symbolAt(gettime.address() + 1).orElseThrow();
            assertTrue(hit.text().endsWith("clock_gettime+0x1"), hit.text());
            assertTrue(image.callFrameInfo().find(gettime.address()).isPresent(), "the vDSO has .eh_frame");
            assertEquals("[vdso]", p.name());
        }
    }

    @Test
    void mapsLinesAreParsed() {
        List<ProcessMaps.Mapping> m = ProcessMaps.parse(List.of(
                "555555554000-555555555000 r--p 00000000 fe:00 2154634                    /work/bin/prog",
                "7ffff7fc8000-7ffff7fca000 r-xp 00000000 00:00 0                          [vdso]",
                "5f0000000000-5f0000010000 rw-p 00000000 00:00 0 ",
                "not a maps line"));
        assertEquals(3, m.size());
        assertEquals(new ProcessMaps.Mapping(0x555555554000L, 0x555555555000L, "r--p", 0, "fe:00", 2154634, "/work/bin/prog"), m.get(0));
        assertEquals("[vdso]", m.get(1).path());
        assertTrue(m.get(1).executable());
        assertEquals("", m.get(2).path());
    }
}
