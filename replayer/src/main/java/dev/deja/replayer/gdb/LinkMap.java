package dev.deja.replayer.gdb;

import dev.deja.device.syscall.TraceeMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The dynamic loader's list of loaded objects, read from the program's memory as gdb's solib-svr4
 * reads it: AT_PHDR leads to the program's PT_DYNAMIC, its DT_DEBUG entry to {@code struct r_debug},
 * whose {@code r_map} starts the chain of {@code struct link_map} (l_addr, l_name, l_ld, l_next).
 * deja serves the list itself (qXfer:libraries-svr4:read) so that it can name each object by what it
 * was when recorded: the replay maps the recording's copies, and runs the dynamic loader from a copy
 * whose name in memory is deja's own.
 */
final class LinkMap {
    private static final int AT_PHDR = 3;
    private static final int AT_PHNUM = 5;
    private static final int PT_DYNAMIC = 2;
    private static final int PT_PHDR = 6;
    private static final int DT_NULL = 0;
    private static final int DT_DEBUG = 21;
    /** Sizes of Elf64_Phdr and Elf64_Dyn. */
    private static final int PHDR_SIZE = 56;
    private static final int DYN_SIZE = 16;
    /** Objects followed at most: a chain in damaged memory cannot loop forever. */
    private static final int MAX_OBJECTS = 4096;

    /** One loaded object: its link_map's address, load bias, name as in memory, and dynamic section. */
    record Entry(long lm, long lAddr, String name, long lLd) {
    }

    private LinkMap() {
    }

    /** The chain, the main program first; empty before the loader has set DT_DEBUG (the program's start). */
    static List<Entry> read(TraceeMemory mem, long[] auxv) {
        long phdr = 0;
        long phnum = 0;
        for (int i = 0; i + 1 < auxv.length; i += 2) {
            if (auxv[i] == AT_PHDR) phdr = auxv[i + 1];
            if (auxv[i] == AT_PHNUM) phnum = auxv[i + 1];
        }
        if (phdr == 0 || phnum <= 0 || phnum > 256) return List.of();
        ByteBuffer ph = read(mem, phdr, (int) phnum * PHDR_SIZE);
        if (ph == null) return List.of();
        long bias = 0;
        long dynamic = 0;
        for (int i = 0; i < phnum; i++) {
            int type = ph.getInt(i * PHDR_SIZE);
            long vaddr = ph.getLong(i * PHDR_SIZE + 16);
            if (type == PT_PHDR) bias = phdr - vaddr;
            if (type == PT_DYNAMIC) dynamic = vaddr;
        }
        if (dynamic == 0) return List.of(); // a static program: no loader, no list
        long rDebug = 0;
        for (long at = bias + dynamic; ; at += DYN_SIZE) {
            ByteBuffer d = read(mem, at, DYN_SIZE);
            if (d == null || d.getLong(0) == DT_NULL) break;
            if (d.getLong(0) == DT_DEBUG) {
                rDebug = d.getLong(8);
                break;
            }
        }
        if (rDebug == 0) return List.of();
        ByteBuffer r = read(mem, rDebug, 16);
        if (r == null) return List.of();
        List<Entry> out = new ArrayList<>();
        for (long lm = r.getLong(8); lm != 0 && out.size() < MAX_OBJECTS; ) {
            ByteBuffer l = read(mem, lm, 40);
            if (l == null) break;
            out.add(new Entry(lm, l.getLong(0), cString(mem, l.getLong(8)), l.getLong(16)));
            lm = l.getLong(24);
        }
        return out;
    }

    /** qXfer:libraries-svr4:read's document: every object but the main program, named by {@code names}. */
    static String xml(List<Entry> entries, java.util.function.Function<Entry, String> names) {
        StringBuilder x = new StringBuilder("<library-list-svr4 version=\"1.0\"");
        if (!entries.isEmpty()) x.append(" main-lm=\"0x").append(Long.toHexString(entries.get(0).lm())).append('"');
        x.append(">\n");
        for (int i = 1; i < entries.size(); i++) {
            Entry e = entries.get(i);
            x.append("  <library name=\"").append(escape(names.apply(e))).append("\" lm=\"0x").append(Long.toHexString(e.lm()))
                    .append("\" l_addr=\"0x").append(Long.toHexString(e.lAddr())).append("\" l_ld=\"0x")
                    .append(Long.toHexString(e.lLd())).append("\" lmid=\"0x0\"/>\n");
        }
        return x.append("</library-list-svr4>\n").toString();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static ByteBuffer read(TraceeMemory mem, long address, int len) {
        byte[] b = new byte[len];
        if (mem.read(address, b, 0, len) != len) return null;
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String cString(TraceeMemory mem, long address) {
        if (address == 0) return "";
        byte[] b = new byte[4096];
        int n = mem.read(address, b, 0, b.length);
        int end = 0;
        while (end < Math.max(n, 0) && b[end] != 0) end++;
        return new String(b, 0, end, java.nio.charset.StandardCharsets.UTF_8);
    }
}
