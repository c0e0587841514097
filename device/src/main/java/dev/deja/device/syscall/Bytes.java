package dev.deja.device.syscall;

import dev.deja.formats.event.MemoryBlock;
import java.util.List;

/** Little-endian helpers over captured bytes (both supported architectures are little-endian). */
final class Bytes {

    private Bytes() {
    }

    static int u8(byte[] b, int off) {
        return b[off] & 0xff;
    }

    static int u16(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
    }

    static int i32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    static long u32(byte[] b, int off) {
        return i32(b, off) & 0xffffffffL;
    }

    static long i64(byte[] b, int off) {
        return (i32(b, off) & 0xffffffffL) | ((long) i32(b, off + 4)) << 32;
    }

    /** The bytes of [addr, addr+len) if one block covers them, else null. */
    static byte[] find(List<MemoryBlock> blocks, long addr, long len) {
        if (addr == 0 || len < 0) return null;
        for (int i = 0, n = blocks.size(); i < n; i++) {
            MemoryBlock b = blocks.get(i);
            if (b.covers(addr, len)) return b.slice(addr, (int) len);
        }
        return null;
    }

    /** The whole block that starts at addr (the longest one), or null. */
    static byte[] at(List<MemoryBlock> blocks, long addr) {
        if (addr == 0) return null;
        MemoryBlock best = null;
        for (int i = 0, n = blocks.size(); i < n; i++) {
            MemoryBlock b = blocks.get(i);
            if (b.address() == addr && (best == null || b.length() > best.length())) best = b;
        }
        return best == null ? null : best.data();
    }
}
