package dev.deja.device.syscall;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** A tracee address space of one mapped region [BASE, BASE+size): reads outside it fault. */
final class FakeMemory implements TraceeMemory {

    static final long BASE = 0x10000;

    final byte[] bytes;
    private final ByteBuffer buf;
    private int next = 0;
    int reads = 0;

    FakeMemory(int size) {
        bytes = new byte[size];
        buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public int read(long address, byte[] dst, int off, int len) {
        reads++;
        if (address < BASE || address >= BASE + bytes.length) return 0;
        int from = (int) (address - BASE);
        int n = Math.min(len, bytes.length - from);
        System.arraycopy(bytes, from, dst, off, n);
        return n;
    }

    /** Reserves n bytes (8-aligned) and returns their address. */
    long alloc(int n) {
        long a = BASE + next;
        next += (n + 7) & ~7;
        if (next > bytes.length) throw new IllegalStateException("fake memory full");
        return a;
    }

    long put(byte[] data) {
        long a = alloc(data.length);
        System.arraycopy(data, 0, bytes, (int) (a - BASE), data.length);
        return a;
    }

    long cstr(String s) {
        return put((s + "\0").getBytes(StandardCharsets.UTF_8));
    }

    void i32(long addr, int v) {
        buf.putInt((int) (addr - BASE), v);
    }

    void i64(long addr, long v) {
        buf.putLong((int) (addr - BASE), v);
    }

    void u16(long addr, int v) {
        buf.putShort((int) (addr - BASE), (short) v);
    }

    void fill(long addr, String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(b, 0, bytes, (int) (addr - BASE), b.length);
    }

    /** An iovec array of (base, len) pairs. */
    long iovecs(long... baseLen) {
        long a = alloc(baseLen.length * 8);
        for (int i = 0; i < baseLen.length; i++) i64(a + 8L * i, baseLen[i]);
        return a;
    }

    long end() {
        return BASE + bytes.length;
    }
}
