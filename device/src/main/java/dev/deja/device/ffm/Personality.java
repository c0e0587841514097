package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * personality(2). The persona belongs to the calling thread and is inherited by the processes it
 * spawns, so the tracing thread sets ADDR_NO_RANDOMIZE on itself before it spawns a tracee.
 */
public final class Personality {
    public static final int ADDR_NO_RANDOMIZE = 0x0040000;
    private static final long QUERY = 0xffffffffL;

    private static final MethodHandle PERSONALITY = Native.withErrno("personality",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));

    private Personality() {
    }

    public static int get() {
        return call(QUERY);
    }

    /** Sets the calling thread's persona; returns the previous one. */
    public static int set(int persona) {
        return call(persona & 0xffffffffL);
    }

    private static int call(long persona) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.callState(arena);
            int r = (int) PERSONALITY.invokeExact(state, persona);
            if (r < 0) throw new NativeCallException("personality", Native.errno(state), "0x" + Long.toHexString(persona));
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
