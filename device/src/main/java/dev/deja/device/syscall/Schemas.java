package dev.deja.device.syscall;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The per-syscall schemas of one architecture, loaded from {@code schemas.txt}: the data that
 * {@link MemoryCapture} and {@link Renderer} are generic over.
 */
public final class Schemas {

    private static final Map<Arch, Schemas> CACHE = new EnumMap<>(Arch.class);

    private final Arch arch;
    private final SyscallTable table;
    private final Schema[] byNr;
    private final Map<String, Schema> byName;

    private Schemas(Arch arch, SyscallTable table, Schema[] byNr, Map<String, Schema> byName) {
        this.arch = arch;
        this.table = table;
        this.byNr = byNr;
        this.byName = byName;
    }

    public static Schemas of(Arch arch) {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(arch, Schemas::load);
        }
    }

    public Arch arch() {
        return arch;
    }

    public SyscallTable table() {
        return table;
    }

    /** The schema of a syscall number, or null when deja has none. */
    public Schema get(int nr) {
        return nr >= 0 && nr < byNr.length ? byNr[nr] : null;
    }

    public Optional<Schema> schema(int nr) {
        return Optional.ofNullable(get(nr));
    }

    public Optional<Schema> schema(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** Number of syscalls of this architecture that have a schema. */
    public int size() {
        return byName.size();
    }

    /** All schemas, in syscall number order. */
    public List<Schema> all() {
        List<Schema> l = new ArrayList<>();
        for (Schema s : byNr) if (s != null) l.add(s);
        return Collections.unmodifiableList(l);
    }

    private static Schemas load(Arch arch) {
        SyscallTable table = SyscallTable.of(arch);
        Schema[] byNr = new Schema[table.size()];
        Map<String, Schema> byName = new LinkedHashMap<>();
        Map<String, String[]> lines = new LinkedHashMap<>();
        String suffix = "@" + arch.name().toLowerCase(Locale.ROOT);
        try (InputStream in = Schemas.class.getResourceAsStream("schemas.txt")) {
            if (in == null) throw new IllegalStateException("missing resource schemas.txt");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            int lineNo = 0;
            Map<String, Boolean> specific = new LinkedHashMap<>();
            while ((line = r.readLine()) != null) {
                lineNo++;
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) continue;
                String[] tok = t.split("\\s+");
                String name = tok[0];
                int at = name.indexOf('@');
                if (at >= 0) {
                    if (!name.endsWith(suffix)) continue;
                    name = name.substring(0, at);
                    lines.put(name, tok); // an arch-specific line wins over the generic one
                    specific.put(name, true);
                } else if (specific.containsKey(name)) {
                    continue;
                } else if (!lines.containsKey(name)) {
                    lines.put(name, tok);
                } else {
                    throw new IllegalStateException("schemas.txt line " + lineNo + ": " + name + " defined twice");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading schemas.txt", e);
        }
        for (Map.Entry<String, String[]> e : lines.entrySet()) {
            String name = e.getKey();
            String[] tok = e.getValue();
            var nr = table.number(name);
            if (nr.isEmpty()) continue; // not a syscall of this architecture (open, stat, fork... on aarch64)
            List<ArgSpec> args = new ArrayList<>();
            boolean unknown = false;
            for (int i = 2; i < tok.length; i++) {
                if (tok[i].equals("!unknown-writes")) unknown = true;
                else {
                    try {
                        args.add(ArgSpec.parse(tok[i], arch));
                    } catch (RuntimeException ex) {
                        throw new IllegalStateException("schemas.txt: " + name + ": bad argument " + tok[i], ex);
                    }
                }
            }
            if (args.size() > 6) throw new IllegalStateException("schemas.txt: " + name + " has more than six arguments");
            Schema s = new Schema(name, nr.getAsInt(), tok[1], args, unknown);
            byNr[s.nr()] = s;
            byName.put(name, s);
        }
        return new Schemas(arch, table, byNr, Collections.unmodifiableMap(byName));
    }
}
