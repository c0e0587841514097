package dev.deja.replayer.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The ELF reader and the CFI interpreter against binutils on real files: a sample the build compiled
 * (-O1 -g, no frame pointers), the C library and the dynamic loader of this machine. Every function
 * symbol nm lists, and every FDE and every row of the CFI table readelf interprets, must be read the
 * same.
 */
class ElfFileTest {
    static final String SAMPLE = "../samples/target/bin/nested_calls";
    static final String LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    static final String LOADER = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2";

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", command));
        return new String(out, StandardCharsets.UTF_8);
    }

    /** nm's function symbols (T t W i, with -D the dynamic ones), as "name@hexaddress". */
    static Set<String> nmFunctions(String file, boolean dynamic) throws Exception {
        ElfFile elf = ElfFile.open(Path.of(file));
        String text = dynamic ? run("nm", "-D", "--defined-only", "--without-symbol-versions", file) : run("nm", "--defined-only", file);
        Set<String> out = new TreeSet<>();
        for (String line : text.split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length != 3 || !Set.of("T", "t", "W", "i").contains(f[1])) continue;
            long address = Long.parseUnsignedLong(f[0], 16);
            // nm's W is any weak symbol, data too (data_start): functions lie in executable segments
            boolean code = elf.segments().stream().anyMatch(s -> (s.flags() & 1) != 0 && address >= s.vaddr() && address < s.vaddr() + s.memSize());
            if (address == 0 || !code) continue;
            out.add(f[2] + "@" + Long.toHexString(Long.parseUnsignedLong(f[0], 16)));
        }
        return out;
    }

    static Set<String> ours(ElfFile elf, boolean symtab) {
        Set<String> out = new TreeSet<>();
        for (ElfFile.Symbol s : elf.functionSymbols()) if (s.fromSymtab() == symtab) out.add(s.name() + "@" + Long.toHexString(s.address()));
        return out;
    }

    @Test
    void symbolsOfTheSampleAreThoseNmLists() throws Exception {
        ElfFile elf = ElfFile.open(Path.of(SAMPLE));
        Set<String> nm = nmFunctions(SAMPLE, false);
        assertTrue(nm.size() > 5, nm.toString());
        assertEquals(nm, ours(elf, true));
        for (String f : List.of("main", "outer", "middle", "inner", "_start")) {
            assertTrue(elf.functionSymbols().stream().anyMatch(s -> s.name().equals(f) && s.size() > 0), f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {LIBC, LOADER})
    void dynamicSymbolsOfSystemLibrariesAreThoseNmLists(String file) throws Exception {
        Set<String> nm = nmFunctions(file, true);
        assertTrue(nm.size() > 20, nm.toString());
        assertEquals(nm, ours(ElfFile.open(Path.of(file)), false));
    }

    @Test
    void anAddressIsNamedByItsFunctionElseTheSymbolBeforeIt() {
        ElfFile elf = ElfFile.open(Path.of(SAMPLE));
        ElfFile.Symbol inner = elf.functionSymbols().stream().filter(s -> s.name().equals("inner")).findFirst().orElseThrow();
        ElfFile.SymbolHit in = elf.symbolAt(inner.address() + 3).orElseThrow();
        assertEquals("inner+0x3", in.text());
        assertTrue(in.contained());
        assertTrue(elf.symbolAt(0).isEmpty(), "nothing is before the first symbol");
        // libc's read: a global and weak aliases at one address; strace -k (libdw) names it "read"
        ElfFile libc = ElfFile.open(Path.of(LIBC));
        ElfFile.Symbol read = libc.functionSymbols().stream().filter(s -> s.name().equals("read")).findFirst().orElseThrow();
        assertEquals("read+0xd", libc.symbolAt(read.address() + 0xd).orElseThrow().text());
    }

    @Test
    void notElfIsATypedError() throws Exception {
        Path text = Files.createTempFile("deja-not-elf", ".txt");
        try {
            Files.writeString(text, "hello, this is not an ELF file at all, but long enough to have a header".repeat(2));
            ElfException e = assertThrows(ElfException.class, () -> ElfFile.open(text));
            assertTrue(e.getMessage().contains("not an ELF file"), e.getMessage());
            assertThrows(ElfException.class, () -> ElfFile.open(text.resolveSibling("deja-no-such-file")));
        } finally {
            Files.delete(text);
        }
    }

    private static final Pattern FDE = Pattern.compile("^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\\.\\.([0-9a-f]+)$");

    /**
     * Every FDE of readelf --debug-dump=frames-interp is found (by the .eh_frame_hdr table and by the
     * scan) with the same range, and every row it prints has the same CFA and register rules.
     */
    @ParameterizedTest
    @ValueSource(strings = {SAMPLE, LIBC, LOADER})
    void everyCfiRowIsTheOneReadelfInterprets(String file) throws Exception {
        ElfFile elf = ElfFile.open(Path.of(file));
        CallFrameInfo cfi = elf.callFrameInfo();
        Map<Long, CallFrameInfo.Fde> byStart = new HashMap<>();
        for (CallFrameInfo.Fde f : cfi.fdes()) byStart.put(f.start(), f);
        String[] lines = run("readelf", "--debug-dump=frames-interp", file).split("\n");
        int fdes = 0;
        int rows = 0;
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            Matcher m = FDE.matcher(lines[i].strip());
            if (!m.matches()) continue;
            fdes++;
            long start = Long.parseUnsignedLong(m.group(1), 16);
            long end = Long.parseUnsignedLong(m.group(2), 16);
            CallFrameInfo.Fde fde = byStart.get(start);
            if (fde == null || fde.end() != end) {
                wrong.add("FDE " + m.group(1) + ".." + m.group(2) + ": ours " + fde);
                continue;
            }
            if (end > start) {
                assertEquals(fde, cfi.find(start).orElseThrow(), "by .eh_frame_hdr at the start");
                assertEquals(fde, cfi.find(end - 1).orElseThrow(), "by .eh_frame_hdr at the end");
            }
            if (i + 1 >= lines.length || !lines[i + 1].strip().startsWith("LOC")) continue;
            String[] columns = lines[i + 1].strip().split("\\s+");
            for (int j = i + 2; j < lines.length && !lines[j].isBlank(); j++) {
                // a register rule reads "r9 (r9)", "r1 (rdx)": the DWARF number and its name
                String[] v = lines[j].strip().replaceAll("(r\\d+) \\(\\w+\\)", "$1").split("\\s+");
                long loc = Long.parseUnsignedLong(v[0], 16);
                CfaProgram.Row row = CfaProgram.rowAt(cfi, fde, loc);
                rows++;
                if (!v[1].equals(row.cfaText())) wrong.add(v[0] + " CFA " + v[1] + " ours " + row.cfaText());
                for (int c = 2; c < columns.length && c < v.length; c++) {
                    int reg = register(columns[c]);
                    if (reg < 0) continue;
                    String theirs = v[c];
                    String mine = row.rule(reg).toString();
                    boolean same = theirs.equals(mine) || (theirs.equals("u") && mine.equals("s"))
                            || (theirs.equals("exp") && mine.equals("exp")) || (theirs.equals("vexp") && mine.equals("vexp"));
                    if (!same) wrong.add(v[0] + " " + columns[c] + " " + theirs + " ours " + mine);
                }
            }
        }
        assertTrue(fdes > 5, "readelf listed " + fdes + " FDEs");
        assertEquals(fdes, cfi.fdes().size(), "FDE count");
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + rows + " rows differ, e.g. " + wrong.subList(0, Math.min(10, wrong.size())));
    }

    private static int register(String name) {
        return switch (name) {
            case "ra" -> CfaProgram.RA;
            default -> {
                for (int r = 0; r < CfaProgram.REGISTERS; r++) if (CfaProgram.regName(r).equals(name)) yield r;
                yield -1;
            }
        };
    }

    @Test
    void fileOffsetsMapToAddressesThroughTheLoadSegments() {
        ElfFile elf = ElfFile.open(Path.of(LIBC));
        assertFalse(elf.segments().isEmpty());
        ElfFile.Segment text = elf.segments().stream().filter(s -> (s.flags() & 1) != 0).findFirst().orElseThrow();
        assertEquals(text.vaddr() + 0x10, elf.vaddrOfOffset(text.offset() + 0x10).orElseThrow());
        assertTrue(elf.vaddrOfOffset(Long.MAX_VALUE / 2).isEmpty());
    }
}
