package dev.deja.device.syscall;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Symbolic constant tables loaded from {@code xlat.txt}: bit sets and enumerations, after strace's xlat. */
final class Xlat {

    /** One table: names and values in print order. */
    static final class Table {
        final String name;
        final boolean bits;
        final String prefix;
        final String[] names;
        final long[] values;

        Table(String name, boolean bits, String prefix, List<String> names, List<Long> values) {
            this.name = name;
            this.bits = bits;
            this.prefix = prefix;
            this.names = names.toArray(String[]::new);
            this.values = values.stream().mapToLong(Long::longValue).toArray();
        }

        /** The enum name of v, or null. */
        String lookup(long v) {
            for (int i = 0; i < values.length; i++) if (values[i] == v) return names[i];
            return null;
        }

        /** An enum value: its name, or hex with a strace-like "/* X_??? *&#47;" comment. */
        String enumName(long v) {
            String n = lookup(v);
            if (n != null) return n;
            return "0x" + Long.toHexString(v) + (prefix.isEmpty() ? "" : " /* " + prefix + "??? */");
        }

        /** Bits as NAME|NAME|0x..; for 0 the table's zero-valued name (PROT_NONE) or "0". */
        String flags(long v) {
            if (v == 0) {
                String zero = lookup(0);
                return zero != null ? zero : "0";
            }
            StringBuilder sb = new StringBuilder();
            appendFlags(sb, v);
            return sb.toString();
        }

        /** Appends the named bits of v and then any unknown rest in hex; appends nothing for 0. */
        void appendFlags(StringBuilder sb, long v) {
            long rest = v;
            boolean first = true;
            for (int i = 0; i < values.length && rest != 0; i++) {
                long f = values[i];
                if (f != 0 && (rest & f) == f) {
                    if (!first) sb.append('|');
                    first = false;
                    sb.append(names[i]);
                    rest &= ~f;
                }
            }
            if (rest != 0) {
                if (!first) sb.append('|');
                sb.append("0x").append(Long.toHexString(rest));
            }
        }

        Long value(String symbol) {
            for (int i = 0; i < names.length; i++) if (names[i].equals(symbol)) return values[i];
            return null;
        }
    }

    private static final Map<String, Table> TABLES = load();

    private Xlat() {
    }

    static Table get(String name, Arch arch) {
        Table t = TABLES.get(name + "@" + arch.name().toLowerCase(Locale.ROOT));
        if (t == null) t = TABLES.get(name);
        if (t == null) throw new IllegalArgumentException("no xlat table " + name);
        return t;
    }

    static boolean exists(String name) {
        return TABLES.containsKey(name);
    }

    private static Map<String, Table> load() {
        Map<String, Table> tables = new HashMap<>();
        try (InputStream in = Xlat.class.getResourceAsStream("xlat.txt")) {
            if (in == null) throw new IllegalStateException("missing resource xlat.txt");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            String name = null;
            boolean bits = false;
            String prefix = "";
            List<String> names = new ArrayList<>();
            List<Long> values = new ArrayList<>();
            while ((line = r.readLine()) != null) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) continue;
                String[] tok = t.split("\\s+");
                if (tok[0].equals("table")) {
                    if (name != null) tables.put(name, new Table(name, bits, prefix, names, values));
                    name = tok[1];
                    bits = tok[2].equals("bits");
                    prefix = tok.length > 3 ? tok[3] : "";
                    names = new ArrayList<>();
                    values = new ArrayList<>();
                } else {
                    names.add(tok[0]);
                    values.add(parse(tok[1]));
                }
            }
            if (name != null) tables.put(name, new Table(name, bits, prefix, names, values));
        } catch (IOException e) {
            throw new UncheckedIOException("reading xlat.txt", e);
        }
        return tables;
    }

    static long parse(String s) {
        boolean neg = s.startsWith("-");
        String v = neg ? s.substring(1) : s;
        long n;
        if (v.startsWith("0x")) n = Long.parseUnsignedLong(v.substring(2), 16);
        else if (v.length() > 1 && v.startsWith("0")) n = Long.parseLong(v.substring(1), 8);
        else n = Long.parseLong(v);
        return neg ? -n : n;
    }
}
