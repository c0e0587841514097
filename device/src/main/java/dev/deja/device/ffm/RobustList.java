package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * get_robust_list(2): where a thread's list of held robust futexes starts, which the kernel walks
 * when the thread ends (glibc registers one per thread). Needs ptrace access to the thread (deja
 * traces it). x86_64's syscall number. Safe from any thread: each call owns its memory.
 */
public final class RobustList {
    private static final long SYS_GET_ROBUST_LIST = 274;

    private static final MethodHandle SYSCALL = Native.variadicWithErrno("syscall", FunctionDescriptor.of(
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.ADDRESS), 1);

    private RobustList() {
    }

    /** Thread {@code tid}'s robust list: its head's address and the length it registered; {0, 0} when none. */
    public static long[] of(int tid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.callState(arena);
            MemorySegment head = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_LONG);
            long r = (long) SYSCALL.invokeExact(state, SYS_GET_ROBUST_LIST, tid, head, length);
            if (r < 0) throw new NativeCallException("get_robust_list", Native.errno(state), "tid " + tid);
            return new long[] {head.get(ValueLayout.JAVA_LONG, 0), length.get(ValueLayout.JAVA_LONG, 0)};
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
