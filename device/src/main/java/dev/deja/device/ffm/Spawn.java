package dev.deja.device.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * posix_spawn(3): starting a process from a JVM without fork and without the JDK's reaper thread
 * (ProcessBuilder's reaper would wait on the tracee). posix_spawn returns an error number itself
 * rather than setting errno.
 */
public final class Spawn {
    /** glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336: room to spare. */
    private static final long OPAQUE_SIZE = 1024;

    private static final MethodHandle SPAWN = Native.plain("posix_spawn", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
            ValueLayout.ADDRESS));
    private static final MethodHandle ACTIONS_INIT = Native.plain("posix_spawn_file_actions_init",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle ACTIONS_DESTROY = Native.plain("posix_spawn_file_actions_destroy",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle ACTIONS_ADDCLOSE = Native.plain("posix_spawn_file_actions_addclose",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private Spawn() {
    }

    /**
     * Starts {@code path} with {@code argv} and {@code env} ("NAME=value"), closing {@code closeFds}
     * in the child (descriptors the JVM opened for itself). Returns the child's pid.
     */
    public static int spawn(String path, List<String> argv, List<String> env, int[] closeFds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pid = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment actions = arena.allocate(OPAQUE_SIZE, 16);
            check("posix_spawn_file_actions_init", (int) ACTIONS_INIT.invokeExact(actions));
            try {
                for (int fd : closeFds) {
                    check("posix_spawn_file_actions_addclose", (int) ACTIONS_ADDCLOSE.invokeExact(actions, fd));
                }
                int r = (int) SPAWN.invokeExact(pid, arena.allocateFrom(path), actions, MemorySegment.NULL,
                        stringArray(arena, argv), stringArray(arena, env));
                if (r != 0) throw new NativeCallException("posix_spawn", r, path);
                return pid.get(ValueLayout.JAVA_INT, 0);
            } finally {
                int ignoredStatus = (int) ACTIONS_DESTROY.invokeExact(actions);
                assert ignoredStatus == 0;
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static void check(String call, int r) {
        if (r != 0) throw new NativeCallException(call, r, "");
    }

    private static MemorySegment stringArray(Arena arena, List<String> strings) {
        MemorySegment array = arena.allocate(ValueLayout.ADDRESS, strings.size() + 1L);
        for (int i = 0; i < strings.size(); i++) {
            array.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(strings.get(i)));
        }
        array.setAtIndex(ValueLayout.ADDRESS, strings.size(), MemorySegment.NULL);
        return array;
    }
}
