package dev.deja.device.ffm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
    private static final MethodHandle ATTR_INIT = Native.plain("posix_spawnattr_init",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle ATTR_DESTROY = Native.plain("posix_spawnattr_destroy",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle ATTR_SETFLAGS = Native.plain("posix_spawnattr_setflags",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_SHORT));
    private static final MethodHandle ATTR_SETSIGMASK = Native.plain("posix_spawnattr_setsigmask",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle ATTR_SETSIGDEFAULT = Native.plain("posix_spawnattr_setsigdefault",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    /** glibc's sigset_t: 1024 bits. */
    private static final long SIGSET_SIZE = 128;
    private static final MethodHandle ACTIONS_ADDCLOSE = Native.plain("posix_spawn_file_actions_addclose",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    /** glibc 2.34+: close_range in the child. Without it the descriptors open at the spawn are listed instead. */
    private static final Optional<MethodHandle> ACTIONS_ADDCLOSEFROM = Native.optional(
            "posix_spawn_file_actions_addclosefrom_np",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private Spawn() {
    }

    /**
     * Starts {@code path} with {@code argv} and {@code env} ("NAME=value"), closing in the child every
     * descriptor {@code closeFds} does not keep (whatever the JVM and its libraries opened, close-on-exec
     * or not). The child's blocked signals are
     * {@code blockedSignals} and every signal not in {@code ignoredSignals} has its default action
     * (bit N-1 stands for signal N): the JVM's own signal state must not leak into the program.
     * Returns the child's pid.
     */
    public static int spawn(String path, List<String> argv, List<String> env, CloseFds closeFds, long blockedSignals,
                            long ignoredSignals) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pid = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment actions = arena.allocate(OPAQUE_SIZE, 16);
            MemorySegment attr = arena.allocate(OPAQUE_SIZE, 16);
            MemorySegment mask = arena.allocate(SIGSET_SIZE, 8);
            MemorySegment defaults = arena.allocate(SIGSET_SIZE, 8);
            mask.set(ValueLayout.JAVA_LONG, 0, blockedSignals);
            // Signals 1-64 fit the first word; SIGKILL and SIGSTOP cannot be changed and are left out.
            defaults.set(ValueLayout.JAVA_LONG, 0, ~ignoredSignals & ~(1L << 8) & ~(1L << 18));
            check("posix_spawnattr_init", (int) ATTR_INIT.invokeExact(attr));
            check("posix_spawnattr_setsigmask", (int) ATTR_SETSIGMASK.invokeExact(attr, mask));
            check("posix_spawnattr_setsigdefault", (int) ATTR_SETSIGDEFAULT.invokeExact(attr, defaults));
            check("posix_spawnattr_setflags",
                    (int) ATTR_SETFLAGS.invokeExact(attr, (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)));
            check("posix_spawn_file_actions_init", (int) ACTIONS_INIT.invokeExact(actions));
            try {
                addCloses(actions, closeFds);
                int r = (int) SPAWN.invokeExact(pid, arena.allocateFrom(path), actions, attr,
                        stringArray(arena, argv), stringArray(arena, env));
                if (r != 0) throw new NativeCallException("posix_spawn", r, path);
                return pid.get(ValueLayout.JAVA_INT, 0);
            } finally {
                int actionsStatus = (int) ACTIONS_DESTROY.invokeExact(actions);
                int attrStatus = (int) ATTR_DESTROY.invokeExact(attr);
                assert actionsStatus == 0 && attrStatus == 0;
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * The file actions that close everything {@code closeFds} does not keep: each gap below the highest
     * kept descriptor (a close of a descriptor that is not open is ignored by posix_spawn), then all from
     * above it in one close_range.
     */
    private static void addCloses(MemorySegment actions, CloseFds closeFds) throws Throwable {
        List<Integer> kept = closeFds.kept();
        int highest = closeFds.highestKept();
        if (ACTIONS_ADDCLOSEFROM.isEmpty()) {
            for (int fd : openFds()) {
                if (fd > 2 && !kept.contains(fd)) {
                    check("posix_spawn_file_actions_addclose", (int) ACTIONS_ADDCLOSE.invokeExact(actions, fd));
                }
            }
            return;
        }
        for (int fd = 3; fd < highest; fd++) {
            if (!kept.contains(fd)) {
                check("posix_spawn_file_actions_addclose", (int) ACTIONS_ADDCLOSE.invokeExact(actions, fd));
            }
        }
        check("posix_spawn_file_actions_addclosefrom_np",
                (int) ACTIONS_ADDCLOSEFROM.get().invokeExact(actions, highest + 1));
    }

    /** This process's open descriptors now (the fallback of a libc without addclosefrom_np). */
    private static List<Integer> openFds() {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : dir) fds.add(Integer.parseInt(p.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list this process's descriptors in /proc/self/fd: " + e.getMessage(), e);
        }
        return fds;
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
