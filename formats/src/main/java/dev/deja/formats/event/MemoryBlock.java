package dev.deja.formats.event;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Bytes of tracee memory captured at one address: an input buffer read at syscall entry, or
 * memory the kernel wrote, read at syscall exit.
 *
 * @param arg     index of the syscall argument this block hangs off (0-5), or -1 when it was
 *                reached only through another block (an iovec element, a string of argv)
 * @param address the tracee address of the first byte
 */
public record MemoryBlock(int arg, long address, byte[] data) {

    public MemoryBlock {
        if (arg < -1 || arg > 5) throw new IllegalArgumentException("argument index out of range: " + arg);
        data = data.clone();
    }

    /** A defensive copy: the block itself never changes. */
    @Override
    public byte[] data() {
        return data.clone();
    }

    /** The bytes as a read-only buffer, without copying. */
    public ByteBuffer view() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer();
    }

    public int length() {
        return data.length;
    }

    public byte byteAt(int index) {
        return data[index];
    }

    /** True when {@code [addr, addr+len)} lies inside this block. */
    public boolean covers(long addr, long len) {
        return addr >= address && len >= 0 && addr - address + len <= data.length;
    }

    /** The bytes of {@code [addr, addr+len)}, which must lie inside this block. */
    public byte[] slice(long addr, int len) {
        int from = Math.toIntExact(addr - address);
        return Arrays.copyOfRange(data, from, from + len);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MemoryBlock m && m.arg == arg && m.address == address && Arrays.equals(m.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * arg + Long.hashCode(address)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        String head = HexFormat.of().formatHex(data, 0, Math.min(16, data.length));
        return "MemoryBlock[arg=" + arg + ", address=0x" + Long.toHexString(address) + ", length=" + data.length
                + ", data=" + head + (data.length > 16 ? "..." : "") + "]";
    }
}
