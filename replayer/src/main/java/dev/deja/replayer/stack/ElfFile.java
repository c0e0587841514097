package dev.deja.replayer.stack;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A 64-bit little-endian ELF file (x86-64), read as elf(5) describes it: its section headers, its
 * loadable segments, its function symbols ({@code .symtab}, else and also {@code .dynsym}) and its
 * call frame information ({@code .eh_frame}, found through {@code .eh_frame_hdr}). Pure: it reads
 * bytes, never a process.
 */
public final class ElfFile {
    static final int SHT_SYMTAB = 2;
    static final int SHT_DYNSYM = 11;
    static final int SHT_NOBITS = 8;
    static final int PT_LOAD = 1;
    static final int STT_FUNC = 2;
    static final int STT_GNU_IFUNC = 10;

    /** A section header: name, type, address when loaded, file offset and size. */
    public record Section(String name, int type, long address, long offset, long size, int link, long entrySize) {
    }

    /** A loadable segment (PT_LOAD). */
    public record Segment(long offset, long vaddr, long fileSize, long memSize, int flags) {
    }

    /**
     * A function symbol: its name, address (unrelocated), size (0 when unknown), binding
     * (0 local, 1 global, 2 weak) and index in its table (ties are broken by it).
     */
    public record Symbol(String name, long address, long size, int binding, boolean fromSymtab, int index) {
        boolean contains(long vaddr) {
            return vaddr >= address && vaddr < address + size;
        }
    }

    /** A symbol lookup's answer: the symbol and the address's offset from it; contained when inside its size. */
    public record SymbolHit(Symbol symbol, long offset, boolean contained) {
        public String text() {
            return symbol.name() + "+0x" + Long.toHexString(offset);
        }
    }

    private final String name;
    private final ByteBuffer data;
    private final List<Section> sections;
    private final List<Segment> segments;
    private final int type;
    private List<Symbol> symbols;
    private CallFrameInfo frames;

    private ElfFile(String name, ByteBuffer data) {
        this.name = name;
        this.data = data.order(ByteOrder.LITTLE_ENDIAN);
        if (data.limit() < 64 || data.getInt(0) != 0x464c457f) throw new ElfException(name + ": not an ELF file");
        if (data.get(4) != 2 || data.get(5) != 1) throw new ElfException(name + ": not a 64-bit little-endian ELF file");
        this.type = Short.toUnsignedInt(data.getShort(16));
        this.segments = readSegments();
        this.sections = readSections();
    }

    /** Maps {@code file} (read-only) and reads its headers. */
    public static ElfFile open(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return new ElfFile(file.toString(), ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()));
        } catch (IOException e) {
            throw new ElfException("cannot read " + file + ": " + e.getMessage());
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new ElfException(file + ": damaged ELF headers (" + e.getMessage() + ")");
        }
    }

    /** An ELF image held in memory (a vDSO read from a process, a test's bytes). */
    public static ElfFile of(String name, byte[] bytes) {
        try {
            return new ElfFile(name, ByteBuffer.wrap(bytes));
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new ElfException(name + ": damaged ELF headers (" + e.getMessage() + ")");
        }
    }

    public String name() {
        return name;
    }

    /** e_type: 2 an executable at fixed addresses, 3 a shared object or position-independent executable. */
    public int type() {
        return type;
    }

    public List<Section> sections() {
        return sections;
    }

    public List<Segment> segments() {
        return segments;
    }

    public Optional<Section> section(String wanted) {
        return sections.stream().filter(s -> s.name().equals(wanted)).findFirst();
    }

    /** The bytes of {@code s} in the file (empty for a section with no bytes). */
    ByteBuffer bytes(Section s) {
        if (s.type() == SHT_NOBITS) return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        return data.slice(Math.toIntExact(s.offset()), Math.toIntExact(s.size())).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The unrelocated address that file offset {@code fileOffset} is loaded at, through the PT_LOAD
     * segment holding it; empty when no segment does.
     */
    public Optional<Long> vaddrOfOffset(long fileOffset) {
        for (Segment s : segments) {
            if (fileOffset >= s.offset() && fileOffset < s.offset() + Math.max(s.fileSize(), 1)) {
                return Optional.of(fileOffset - s.offset() + s.vaddr());
            }
        }
        return Optional.empty();
    }

    /** Function symbols (and GNU indirect functions) with an address, sorted by address then table order. */
    public synchronized List<Symbol> functionSymbols() {
        if (symbols == null) {
            List<Symbol> all = new ArrayList<>();
            for (Section s : sections) {
                if (s.type() == SHT_SYMTAB || s.type() == SHT_DYNSYM) readSymbols(s, all);
            }
            all.sort(Comparator.comparingLong(Symbol::address).thenComparing(sy -> !sy.fromSymtab()).thenComparingInt(Symbol::index));
            symbols = List.copyOf(all);
        }
        return symbols;
    }

    /**
     * The symbol for unrelocated address {@code vaddr}: the function that holds it, else the nearest
     * one before it (as strace -k names addresses: a stripped library's local functions show as
     * the exported symbol before them); empty when no function symbol lies at or before it.
     * Among symbols at one address, global beats weak beats local, then table order.
     */
    public Optional<SymbolHit> symbolAt(long vaddr) {
        List<Symbol> all = functionSymbols();
        int lo = 0;
        int hi = all.size() - 1;
        int last = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(all.get(mid).address(), vaddr) <= 0) {
                last = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (last < 0) return Optional.empty();
        // A containing symbol further back (a large function with a smaller one nested after its start).
        Symbol best = null;
        for (int i = last; i >= 0 && i > last - 64; i--) {
            Symbol s = all.get(i);
            if (s.contains(vaddr) && (best == null || better(s, best))) best = s;
        }
        if (best != null) return Optional.of(new SymbolHit(best, vaddr - best.address(), true));
        long at = all.get(last).address();
        Symbol nearest = all.get(last);
        for (int i = last; i >= 0 && all.get(i).address() == at; i--) if (better(all.get(i), nearest)) nearest = all.get(i);
        return Optional.of(new SymbolHit(nearest, vaddr - nearest.address(), false));
    }

    /** Which of two symbols names an address better: the nearer start, then global, weak, local, then table order. */
    private static boolean better(Symbol a, Symbol b) {
        if (a.address() != b.address()) return Long.compareUnsigned(a.address(), b.address()) > 0;
        if (rank(a) != rank(b)) return rank(a) < rank(b);
        if (a.fromSymtab() != b.fromSymtab()) return a.fromSymtab();
        return a.index() < b.index();
    }

    private static int rank(Symbol s) {
        return switch (s.binding()) {
            case 1 -> 0; // global
            case 2 -> 1; // weak
            default -> 2;
        };
    }

    /** The call frame information of {@code .eh_frame}, or an empty one when the file has none. */
    public synchronized CallFrameInfo callFrameInfo() {
        if (frames == null) frames = CallFrameInfo.of(this);
        return frames;
    }

    private List<Segment> readSegments() {
        long phoff = data.getLong(0x20);
        int phentsize = Short.toUnsignedInt(data.getShort(0x36));
        int phnum = Short.toUnsignedInt(data.getShort(0x38));
        List<Segment> out = new ArrayList<>();
        if (phoff == 0 || phentsize < 56) return out;
        for (int i = 0; i < phnum; i++) {
            int at = Math.toIntExact(phoff + (long) i * phentsize);
            if (data.getInt(at) != PT_LOAD) continue;
            out.add(new Segment(data.getLong(at + 8), data.getLong(at + 16), data.getLong(at + 32), data.getLong(at + 40),
                    data.getInt(at + 4)));
        }
        return List.copyOf(out);
    }

    private List<Section> readSections() {
        long shoff = data.getLong(0x28);
        int shentsize = Short.toUnsignedInt(data.getShort(0x3a));
        int shnum = Short.toUnsignedInt(data.getShort(0x3c));
        int shstrndx = Short.toUnsignedInt(data.getShort(0x3e));
        if (shoff == 0 || shentsize < 64 || shnum == 0 || shoff + (long) shnum * shentsize > data.limit()) return List.of();
        long[][] raw = new long[shnum][];
        for (int i = 0; i < shnum; i++) {
            int at = Math.toIntExact(shoff + (long) i * shentsize);
            raw[i] = new long[] {Integer.toUnsignedLong(data.getInt(at)), data.getInt(at + 4), data.getLong(at + 16),
                data.getLong(at + 24), data.getLong(at + 32), data.getInt(at + 40), data.getLong(at + 56)};
        }
        long namesAt = shstrndx < shnum ? raw[shstrndx][3] : -1;
        List<Section> out = new ArrayList<>();
        for (long[] r : raw) {
            String n = namesAt < 0 ? "" : cString(namesAt + r[0]);
            out.add(new Section(n, (int) r[1], r[2], r[3], r[4], (int) r[5], r[6]));
        }
        return List.copyOf(out);
    }

    private void readSymbols(Section table, List<Symbol> into) {
        if (table.link() >= sections.size() || table.entrySize() < 24) return;
        Section strings = sections.get(table.link());
        boolean symtab = table.type() == SHT_SYMTAB;
        long count = table.size() / table.entrySize();
        for (int i = 1; i < count; i++) {
            long at = table.offset() + i * table.entrySize();
            if (at + 24 > data.limit()) break;
            int p = Math.toIntExact(at);
            int info = Byte.toUnsignedInt(data.get(p + 4));
            int kind = info & 0xf;
            int shndx = Short.toUnsignedInt(data.getShort(p + 6));
            long value = data.getLong(p + 8);
            if ((kind != STT_FUNC && kind != STT_GNU_IFUNC) || shndx == 0 || value == 0) continue;
            String n = cString(strings.offset() + Integer.toUnsignedLong(data.getInt(p)));
            if (n.isEmpty()) continue;
            into.add(new Symbol(n, value, data.getLong(p + 16), info >>> 4, symtab, i));
        }
    }

    private String cString(long offset) {
        if (offset < 0 || offset >= data.limit()) return "";
        int start = Math.toIntExact(offset);
        int end = start;
        while (end < data.limit() && data.get(end) != 0) end++;
        byte[] b = new byte[end - start];
        data.get(start, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "ElfFile[" + name + "]";
    }
}
