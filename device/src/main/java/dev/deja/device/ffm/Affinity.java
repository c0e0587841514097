package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * sched_getaffinity(2) and sched_setaffinity(2): the CPUs a thread may run on. A thread's mask is
 * inherited by the threads and processes it creates afterwards, so pinning a traced program's only
 * thread pins its whole future tree. Safe from any thread: each call owns its memory.
 */
public final class Affinity {
    /** glibc's cpu_set_t: 1024 CPUs, one bit each. */
    private static final int MASK_BYTES = 128;

    private static final MethodHandle GET = Native.withErrno("sched_getaffinity",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    private static final MethodHandle SET = Native.withErrno("sched_setaffinity",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));

    private Affinity() {
    }

    /** The CPUs thread {@code tid} (0: the calling thread) may run on, in ascending order. */
    public static List<Integer> allowed(int tid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.callState(arena);
            MemorySegment mask = arena.allocate(MASK_BYTES);
            int r = (int) GET.invokeExact(state, tid, (long) MASK_BYTES, mask);
            if (r < 0) throw new NativeCallException("sched_getaffinity", Native.errno(state), "tid " + tid);
            List<Integer> cpus = new ArrayList<>();
            for (int cpu = 0; cpu < MASK_BYTES * 8; cpu++) {
                if ((mask.get(ValueLayout.JAVA_BYTE, cpu / 8) & (1 << (cpu % 8))) != 0) cpus.add(cpu);
            }
            return List.copyOf(cpus);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Lets thread {@code tid} run on {@code cpus} only. */
    public static void pin(int tid, List<Integer> cpus) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.callState(arena);
            MemorySegment mask = arena.allocate(MASK_BYTES);
            for (int cpu : cpus) {
                if (cpu < 0 || cpu >= MASK_BYTES * 8) throw new IllegalArgumentException("no such CPU: " + cpu);
                int i = cpu / 8;
                mask.set(ValueLayout.JAVA_BYTE, i, (byte) (mask.get(ValueLayout.JAVA_BYTE, i) | (1 << (cpu % 8))));
            }
            int r = (int) SET.invokeExact(state, tid, (long) MASK_BYTES, mask);
            if (r < 0) throw new NativeCallException("sched_setaffinity", Native.errno(state), "tid " + tid + ", cpus " + cpus);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
