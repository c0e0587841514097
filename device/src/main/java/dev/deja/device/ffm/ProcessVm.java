package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * process_vm_readv(2) and process_vm_writev(2): copying tracee memory without a stop per word.
 * Reads go through one scratch buffer owned by this instance's confined arena, grown on demand.
 */
public final class ProcessVm implements AutoCloseable {
    private static final FunctionDescriptor IOV_CALL = FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG);
    private static final MethodHandle READV = Native.withErrno("process_vm_readv", IOV_CALL);
    private static final MethodHandle WRITEV = Native.withErrno("process_vm_writev", IOV_CALL);
    private static final int PAGE = 4096;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = Native.callState(arena);
    private final MemorySegment localIov = arena.allocate(16, 8);
    private final MemorySegment remoteIov = arena.allocate(16 * 2, 8);
    private Arena bufferArena = Arena.ofConfined();
    private MemorySegment buffer = bufferArena.allocate(64 * 1024, 16);

    /**
     * Reads up to {@code len} bytes at {@code address} of {@code pid} into {@code dst[off..]};
     * returns how many were readable (a fault ends the read early; 0 when none).
     */
    public int read(int pid, long address, byte[] dst, int off, int len) {
        if (len <= 0) return 0;
        ensure(len);
        int done = transfer(READV, pid, address, len);
        if (done < len && done >= 0) {
            // process_vm_readv stops at the first bad iovec, not at the first bad page: retry the
            // readable prefix page by page so a string ending just before an unmapped page is kept.
            done = readPrefix(pid, address, len, done);
        }
        if (done > 0) MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, 0, dst, off, done);
        return Math.max(done, 0);
    }

    private int readPrefix(int pid, long address, int len, int already) {
        int done = already;
        while (done < len) {
            long at = address + done;
            int chunk = (int) Math.min(len - done, PAGE - (at & (PAGE - 1)));
            int got = transferAt(READV, pid, at, done, chunk);
            if (got <= 0) break;
            done += got;
            if (got < chunk) break;
        }
        return done;
    }

    /** The errno of a transfer whose first byte lies in memory the process cannot access that way. */
    public static final int EFAULT = 14;

    /** Writes {@code src} at {@code address}; returns bytes written (short when a page is not writable). */
    public int write(int pid, long address, byte[] src) {
        if (src.length == 0) return 0;
        ensure(src.length);
        MemorySegment.copy(src, 0, buffer, ValueLayout.JAVA_BYTE, 0, src.length);
        int done = transfer(WRITEV, pid, address, src.length);
        if (done < 0) {
            throw new NativeCallException("process_vm_writev", Native.errno(callState),
                    "pid " + pid + ", address 0x" + Long.toHexString(address) + ", " + src.length + " bytes");
        }
        return done;
    }

    private int transfer(MethodHandle call, int pid, long address, int len) {
        return transferAt(call, pid, address, 0, len);
    }

    private int transferAt(MethodHandle call, int pid, long address, int bufferOffset, int len) {
        localIov.set(ValueLayout.JAVA_LONG, 0, buffer.address() + bufferOffset);
        localIov.set(ValueLayout.JAVA_LONG, 8, len);
        remoteIov.set(ValueLayout.JAVA_LONG, 0, address);
        remoteIov.set(ValueLayout.JAVA_LONG, 8, len);
        try {
            return (int) (long) call.invokeExact(callState, pid, localIov, 1L, remoteIov, 1L, 0L);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private void ensure(int len) {
        if (buffer.byteSize() >= len) return;
        bufferArena.close();
        bufferArena = Arena.ofConfined();
        buffer = bufferArena.allocate(Math.max(len, buffer.byteSize() * 2), 16);
    }

    @Override
    public void close() {
        bufferArena.close();
        arena.close();
    }
}
