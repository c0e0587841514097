package dev.deja.recorder;

import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

/**
 * Which successful opens of a run named a file under the recorded user's home directory (their contents
 * are in the recording): what {@code deja info} lists as "files read under the home directory". The
 * recorder notes them as it goes (into meta.json); {@code info} scans an older recording's journal with
 * the same rule.
 */
public final class HomeFileOpens {
    private final Set<Integer> opens;
    private final int nrOpen;
    private final String prefix;
    private final String cwd;

    /** {@code env} and {@code cwd}: the recorded program's. */
    public HomeFileOpens(SyscallTable table, Map<String, String> env, String cwd) {
        nrOpen = table.number("open").orElse(-1);
        opens = Set.of(table.number("openat").orElse(-1), nrOpen, table.number("openat2").orElse(-1));
        String home = env.getOrDefault("HOME", "");
        prefix = home.isEmpty() || home.equals("/") ? null : home.endsWith("/") ? home : home + "/";
        this.cwd = cwd;
    }

    /** The path under HOME that {@code s} opened successfully, or null. */
    public String opened(SyscallEvent s) {
        if (prefix == null || !opens.contains(s.nr()) || !s.returned() || s.failed()) return null;
        int pathArg = s.nr() == nrOpen ? 0 : 1;
        for (MemoryBlock b : s.inputs()) {
            if (b.arg() != pathArg) continue;
            String path = cString(b.data());
            // relative paths are resolved against the recorded cwd when it is under HOME
            if (!path.startsWith("/")) path = cwd + "/" + path;
            if (path.startsWith(prefix)) return path;
        }
        return null;
    }

    private static String cString(byte[] d) {
        int n = 0;
        while (n < d.length && d[n] != 0) n++;
        return new String(d, 0, n, StandardCharsets.UTF_8);
    }
}
