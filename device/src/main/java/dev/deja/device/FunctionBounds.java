package dev.deja.device;

import dev.deja.device.syscall.TraceeMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Where the function holding an address starts and ends, from the loaded module's
 * {@code .eh_frame_hdr} (the sorted table of FDE start addresses the unwinder searches; stripped
 * binaries keep it) and the FDE it points to (its pc_range), read from the process's memory.
 * Only the encodings GNU ld and GCC write (a datarel|sdata4 table, pcrel|sdata4 FDE addresses) are
 * read; anything else, or code outside any ELF module (a JIT's), has no bounds.
 */
final class FunctionBounds {
    private static final int PT_LOAD = 1;
    private static final int PT_GNU_EH_FRAME = 0x6474e550;
    private static final int ENC_UDATA4 = 0x03;
    private static final int ENC_DATAREL_SDATA4 = 0x3b;
    private static final int ENC_PCREL_SDATA4 = 0x1b;

    /** [start, end) of a function. */
    record Range(long start, long end) {
    }

    private FunctionBounds() {
    }

    /**
     * The function holding {@code address}, or null. {@code moduleBase} is where the module's ELF
     * header is mapped (its first mapping, file offset 0).
     */
    static Range of(TraceeMemory memory, long moduleBase, long address) {
        ByteBuffer eh = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        if (memory.read(moduleBase, eh.array(), 0, 64) != 64) return null;
        if (eh.getInt(0) != 0x464c457f || eh.get(4) != 2) return null; // \x7fELF, 64-bit
        long phoff = eh.getLong(0x20);
        int phentsize = Short.toUnsignedInt(eh.getShort(0x36));
        int phnum = Short.toUnsignedInt(eh.getShort(0x38));
        if (phentsize < 56 || phnum == 0 || phnum > 256) return null;
        byte[] ph = new byte[phentsize * phnum];
        if (memory.read(moduleBase + phoff, ph, 0, ph.length) != ph.length) return null;
        ByteBuffer p = ByteBuffer.wrap(ph).order(ByteOrder.LITTLE_ENDIAN);
        long firstLoad = Long.MAX_VALUE;
        long ehVaddr = -1;
        for (int i = 0; i < phnum; i++) {
            int at = i * phentsize;
            int type = p.getInt(at);
            long vaddr = p.getLong(at + 16);
            if (type == PT_LOAD) firstLoad = Math.min(firstLoad, vaddr & ~0xfffL);
            if (type == PT_GNU_EH_FRAME) ehVaddr = vaddr;
        }
        if (ehVaddr < 0 || firstLoad == Long.MAX_VALUE) return null;
        long hdr = moduleBase - firstLoad + ehVaddr;
        byte[] head = new byte[12];
        if (memory.read(hdr, head, 0, head.length) != head.length) return null;
        ByteBuffer h = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        if (h.get(0) != 1 || (h.get(1) & 0xff) != ENC_PCREL_SDATA4 || (h.get(2) & 0xff) != ENC_UDATA4
                || (h.get(3) & 0xff) != ENC_DATAREL_SDATA4) {
            return null;
        }
        long count = Integer.toUnsignedLong(h.getInt(8));
        if (count == 0 || count > 10_000_000) return null;
        long table = hdr + 12;
        // Binary search the last entry whose start is <= address.
        long lo = 0;
        long hi = count - 1;
        long found = -1;
        byte[] entry = new byte[16];
        ByteBuffer e = ByteBuffer.wrap(entry).order(ByteOrder.LITTLE_ENDIAN);
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            if (memory.read(table + mid * 8, entry, 0, 4) != 4) return null;
            long start = hdr + e.getInt(0);
            if (start <= address) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0) return null;
        if (memory.read(table + found * 8, entry, 0, 8) != 8) return null;
        long start = hdr + e.getInt(0);
        long fde = hdr + e.getInt(4);
        // The FDE: length, CIE pointer, pc_begin (pcrel sdata4, GCC's and clang's encoding on x86_64), pc_range.
        // pc_begin must be the table's start: else the encoding is another one and the range unknown.
        byte[] f = new byte[16];
        if (memory.read(fde, f, 0, 16) != 16) return null;
        ByteBuffer fb = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        if (fb.getInt(0) == 0xffffffff || fde + 8 + fb.getInt(8) != start) return null;
        long end = start + Integer.toUnsignedLong(fb.getInt(12));
        return end > address ? new Range(start, end) : null;
    }
}
