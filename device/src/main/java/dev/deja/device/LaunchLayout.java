package dev.deja.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The argv and envp vectors of the program's execve, laid out for a block of tracee memory at
 * {@code base}: the argv pointer array, the envp pointer array, then the NUL-terminated strings.
 */
final class LaunchLayout {
    private LaunchLayout() {
    }

    static long argvOffset(LaunchSpec spec) {
        return 0;
    }

    static long envpOffset(LaunchSpec spec) {
        return 8L * (spec.argv().size() + 1);
    }

    static byte[] build(LaunchSpec spec, long base) {
        List<String> argv = spec.argv();
        List<String> env = spec.environment();
        int pointers = 8 * (argv.size() + 1 + env.size() + 1);
        int strings = 0;
        for (String s : argv) strings += s.getBytes(StandardCharsets.UTF_8).length + 1;
        for (String s : env) strings += s.getBytes(StandardCharsets.UTF_8).length + 1;
        ByteBuffer out = ByteBuffer.allocate(pointers + strings).order(ByteOrder.LITTLE_ENDIAN);
        int next = pointers;
        for (List<String> vector : List.of(argv, env)) {
            for (String s : vector) {
                out.putLong(base + next);
                next += s.getBytes(StandardCharsets.UTF_8).length + 1;
            }
            out.putLong(0);
        }
        for (List<String> vector : List.of(argv, env)) {
            for (String s : vector) {
                out.put(s.getBytes(StandardCharsets.UTF_8)).put((byte) 0);
            }
        }
        return out.array();
    }
}
