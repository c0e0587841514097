package dev.deja.replayer.stack;

import dev.deja.device.syscall.TraceeMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A process's address space as {@code /proc/PID/maps} lists it (proc(5)), with the ELF file behind
 * each mapped address: the mapped file itself (in a replay, deja's copy of the recorded file, the
 * same bytes), or for the vDSO the image read from the process's memory. Files are kept open in a
 * cache shared across stops (keyed by device, inode and path, so a replaced file is read again).
 */
public final class ProcessMaps {
    /** One line of the maps file. */
    public record Mapping(long start, long end, String perms, long offset, String device, long inode, String path) {
        boolean contains(long address) {
            return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
        }

        public boolean executable() {
            return perms.length() > 2 && perms.charAt(2) == 'x';
        }
    }

    /**
     * An address placed in its object: the mapping, the object's ELF (null when there is none: anonymous
     * or JIT code, an unreadable file), its load bias (address - bias = the ELF's own address) and the
     * name to show for it.
     */
    public record Placed(Mapping mapping, ElfFile elf, long bias, String name) {
        /** The address's offset in the mapped file, as strace -k prints it in brackets. */
        public long fileOffset(long address) {
            return address - mapping.start() + mapping.offset();
        }
    }

    /** ELF files by device:inode:path, shared by every stop of a session. */
    public static final class Cache {
        private final Map<String, Optional<ElfFile>> files = new ConcurrentHashMap<>();

        Optional<ElfFile> file(Mapping m) {
            return files.computeIfAbsent(m.device() + ":" + m.inode() + ":" + m.path(), k -> {
                try {
                    return Optional.of(ElfFile.open(Path.of(m.path())));
                } catch (ElfException e) {
                    return Optional.empty(); // not ELF (a data file) or gone: its addresses get no symbols
                }
            });
        }
    }

    private final List<Mapping> mappings;
    private final TraceeMemory memory;
    private final Cache cache;
    private final Function<Mapping, String> names;
    private ElfFile vdso;

    /**
     * @param names the name to show for a mapping's object (the recorded path of a replayed file);
     *              a mapping's own path by default
     */
    public ProcessMaps(List<Mapping> mappings, TraceeMemory memory, Cache cache, Function<Mapping, String> names) {
        this.mappings = List.copyOf(mappings);
        this.memory = memory;
        this.cache = cache;
        this.names = names;
    }

    /** Reads /proc/{@code pid}/maps; an unreadable file (the process gone) is an empty address space. */
    public static List<Mapping> read(int pid) {
        try {
            return parse(Files.readAllLines(Path.of("/proc", Integer.toString(pid), "maps")));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Parses maps lines; lines that are not maps lines are skipped. */
    public static List<Mapping> parse(List<String> lines) {
        List<Mapping> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.strip().split("\\s+", 6);
            if (f.length < 5) continue;
            int dash = f[0].indexOf('-');
            if (dash < 0) continue;
            try {
                out.add(new Mapping(Long.parseUnsignedLong(f[0].substring(0, dash), 16), Long.parseUnsignedLong(f[0].substring(dash + 1), 16),
                        f[1], Long.parseUnsignedLong(f[2], 16), f[3], Long.parseLong(f[4]), f.length > 5 ? f[5] : ""));
            } catch (NumberFormatException e) {
                // not a maps line
            }
        }
        return out;
    }

    public List<Mapping> mappings() {
        return mappings;
    }

    /** Where {@code address} lies, or empty when no mapping holds it. */
    public Optional<Placed> place(long address) {
        for (Mapping m : mappings) {
            if (!m.contains(address)) continue;
            String name = names.apply(m);
            if (m.path().equals("[vdso]")) return Optional.of(new Placed(m, vdso(m), m.start(), name));
            if (!m.path().startsWith("/")) return Optional.of(new Placed(m, null, 0, name.isEmpty() ? "[anonymous]" : name));
            Optional<ElfFile> elf = cache.file(m);
            if (elf.isEmpty()) return Optional.of(new Placed(m, null, 0, name));
            Optional<Long> vaddr = elf.get().vaddrOfOffset(address - m.start() + m.offset());
            if (vaddr.isEmpty()) return Optional.of(new Placed(m, null, 0, name));
            return Optional.of(new Placed(m, elf.get(), address - vaddr.get(), name));
        }
        return Optional.empty();
    }

    /** The vDSO's image, read from the process (it has no file); null when unreadable. */
    private ElfFile vdso(Mapping m) {
        if (vdso == null) {
            long size = m.end() - m.start();
            if (size <= 0 || size > (1 << 20)) return null;
            byte[] image = new byte[(int) size];
            if (memory.read(m.start(), image, 0, image.length) != image.length) return null;
            try {
                vdso = ElfFile.of("[vdso]", image);
            } catch (ElfException e) {
                return null;
            }
        }
        return vdso;
    }
}
