package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/** Linking libc functions with errno captured on every call (the JDK's captureCallState). */
final class Native {
    static final Linker LINKER = Linker.nativeLinker();
    static final SymbolLookup LIBC = LINKER.defaultLookup();
    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private Native() {
    }

    /** A downcall whose first parameter is the call-state segment that receives errno. */
    @SuppressWarnings("restricted") // the one place deja links native code
    static MethodHandle withErrno(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(find(name), fd, Linker.Option.captureCallState("errno"));
    }

    /** A variadic downcall (ptrace, syscall): {@code fixed} named parameters, then the variadic ones. */
    @SuppressWarnings("restricted") // the one place deja links native code
    static MethodHandle variadicWithErrno(String name, FunctionDescriptor fd, int fixed) {
        return LINKER.downcallHandle(find(name), fd, Linker.Option.captureCallState("errno"),
                Linker.Option.firstVariadicArg(fixed));
    }

    @SuppressWarnings("restricted") // the one place deja links native code
    static MethodHandle plain(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(find(name), fd);
    }

    /** A plain downcall to a function that older C libraries lack (glibc's newer _np functions). */
    @SuppressWarnings("restricted") // the one place deja links native code
    static Optional<MethodHandle> optional(String name, FunctionDescriptor fd) {
        return LIBC.find(name).map(symbol -> LINKER.downcallHandle(symbol, fd));
    }

    private static MemorySegment find(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
    }

    /** A call-state segment owned by {@code arena}, for the thread that owns the arena. */
    static MemorySegment callState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    /** Rethrows what a downcall threw: they throw nothing but errors of the VM itself. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("native call threw " + t, t);
    }
}
