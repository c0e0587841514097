package dev.deja.device.syscall;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Syscall names and numbers of one architecture, loaded from {@code syscalls-<arch>.tsv}
 * (generated from the kernel UAPI headers; see docs/syscalls.md).
 */
public final class SyscallTable {

    private static final Map<Arch, SyscallTable> TABLES = new EnumMap<>(Arch.class);

    private final Arch arch;
    private final String[] names;
    private final Map<String, Integer> numbers;

    private SyscallTable(Arch arch, String[] names, Map<String, Integer> numbers) {
        this.arch = arch;
        this.names = names;
        this.numbers = numbers;
    }

    public static SyscallTable of(Arch arch) {
        synchronized (TABLES) {
            return TABLES.computeIfAbsent(arch, SyscallTable::load);
        }
    }

    public Arch arch() {
        return arch;
    }

    /** The syscall's name, or {@code "syscall_0x" + hex} for a number the table does not know. */
    public String name(int nr) {
        if (nr >= 0 && nr < names.length && names[nr] != null) return names[nr];
        return "syscall_0x" + Integer.toHexString(nr);
    }

    /** The name when known, else null. */
    String knownName(int nr) {
        return nr >= 0 && nr < names.length ? names[nr] : null;
    }

    public OptionalInt number(String name) {
        Integer n = numbers.get(name);
        return n == null ? OptionalInt.empty() : OptionalInt.of(n);
    }

    /** All names, in number order. */
    public Collection<String> names() {
        return Collections.unmodifiableCollection(numbers.keySet());
    }

    /** One more than the highest known number. */
    public int size() {
        return names.length;
    }

    private static SyscallTable load(Arch arch) {
        String resource = "syscalls-" + arch.unameName() + ".tsv";
        Map<String, Integer> numbers = new LinkedHashMap<>();
        int max = -1;
        try (InputStream in = SyscallTable.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing resource " + resource);
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) continue;
                int tab = line.indexOf('\t');
                int nr = Integer.parseInt(line.substring(0, tab).trim());
                numbers.put(line.substring(tab + 1).trim(), nr);
                max = Math.max(max, nr);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
        String[] names = new String[max + 1];
        numbers.forEach((name, nr) -> names[nr] = name);
        return new SyscallTable(arch, names, Collections.unmodifiableMap(numbers));
    }
}
