package dev.deja.cli.debug;

import static dev.deja.device.syscall.AtFlags.AT_FDCWD;

import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A process's open descriptors as the recorded calls left them before an event: opens, sockets,
 * pipes, dups and closes replayed over the event list, forks copying the table and execs dropping
 * close-on-exec descriptors. Descriptors 0-2 count as inherited.
 */
final class FdTable {
    private static final long O_CLOEXEC = 0x80000;

    /** One open descriptor: what it refers to, the event that opened it (-1 inherited), close-on-exec. */
    record Open(int fd, String what, long openedAt, boolean cloexec) {
    }

    private FdTable() {
    }

    /** The descriptors of recorded process {@code pid} before event {@code seq}. */
    static List<Open> before(Timeline t, int pid, long seq) {
        Map<Integer, TreeMap<Integer, Open>> tables = new HashMap<>();
        List<Event> events = t.events();
        int root = events.isEmpty() ? pid : events.getFirst().pid();
        TreeMap<Integer, Open> first = new TreeMap<>();
        for (int fd = 0; fd <= 2; fd++) first.put(fd, new Open(fd, fd == 0 ? "stdin (inherited)" : fd == 1 ? "stdout (inherited)" : "stderr (inherited)", -1, false));
        tables.put(root, first);
        for (Event e : events) {
            if (e.seq() >= seq) break;
            TreeMap<Integer, Open> fds = tables.computeIfAbsent(e.pid(), k -> new TreeMap<>());
            switch (e) {
                case SpawnEvent s when s.spawnKind() != SpawnEvent.Kind.THREAD && s.childPid() != s.pid() ->
                        tables.put(s.childPid(), new TreeMap<>(fds));
                case ExecEvent x -> fds.values().removeIf(Open::cloexec);
                case SyscallEvent s when s.returned() && !s.failed() -> apply(t, s, fds);
                default -> {
                }
            }
        }
        TreeMap<Integer, Open> fds = tables.get(pid);
        return fds == null ? List.of() : List.copyOf(fds.values());
    }

    private static void apply(Timeline t, SyscallEvent s, TreeMap<Integer, Open> fds) {
        String name = t.name(s);
        int r = (int) s.result();
        long seq = s.seq();
        List<String> paths = t.paths(s);
        String path = paths.isEmpty() ? "?" : paths.getFirst();
        switch (name) {
            case "open" -> put(fds, r, path, seq, (s.arg(1) & O_CLOEXEC) != 0);
            case "openat" -> put(fds, r, absolute(t, s, fds, path), seq, (s.arg(2) & O_CLOEXEC) != 0);
            case "creat", "openat2", "open_by_handle_at" -> put(fds, r, path, seq, false);
            case "socket" -> put(fds, r, "socket", seq, (s.arg(1) & O_CLOEXEC) != 0);
            case "accept" -> put(fds, r, "socket accepted on fd " + s.arg(0), seq, false);
            case "accept4" -> put(fds, r, "socket accepted on fd " + s.arg(0), seq, (s.arg(3) & O_CLOEXEC) != 0);
            case "pipe", "pipe2" -> {
                int[] two = pair(s, 0);
                boolean cloexec = name.equals("pipe2") && (s.arg(1) & O_CLOEXEC) != 0;
                if (two != null) {
                    put(fds, two[0], "pipe read end", seq, cloexec);
                    put(fds, two[1], "pipe write end", seq, cloexec);
                }
            }
            case "socketpair" -> {
                int[] two = pair(s, 3);
                if (two != null) {
                    put(fds, two[0], "socketpair", seq, (s.arg(1) & O_CLOEXEC) != 0);
                    put(fds, two[1], "socketpair", seq, (s.arg(1) & O_CLOEXEC) != 0);
                }
            }
            case "dup" -> copy(fds, (int) s.arg(0), r, seq, false);
            case "dup2" -> copy(fds, (int) s.arg(0), r, seq, false);
            case "dup3" -> copy(fds, (int) s.arg(0), r, seq, (s.arg(2) & O_CLOEXEC) != 0);
            case "fcntl" -> {
                int cmd = (int) s.arg(1);
                if (cmd == 0 || cmd == 1030) copy(fds, (int) s.arg(0), r, seq, cmd == 1030); // F_DUPFD, F_DUPFD_CLOEXEC
                if (cmd == 2) { // F_SETFD
                    Open o = fds.get((int) s.arg(0));
                    if (o != null) fds.put(o.fd(), new Open(o.fd(), o.what(), o.openedAt(), (s.arg(2) & 1) != 0));
                }
            }
            case "eventfd", "eventfd2", "epoll_create", "epoll_create1", "signalfd", "signalfd4", "timerfd_create",
                 "inotify_init", "inotify_init1", "pidfd_open", "userfaultfd", "perf_event_open", "io_uring_setup",
                 "fanotify_init", "memfd_create", "pidfd_getfd", "fsopen", "open_tree" ->
                    put(fds, r, name.equals("memfd_create") ? "memfd:" + path : name, seq, false);
            case "close" -> fds.remove((int) s.arg(0));
            case "close_range" -> {
                long lo = s.arg(0);
                long hi = s.arg(1);
                if ((s.arg(2) & 4) == 0) fds.keySet().removeIf(fd -> fd >= lo && Integer.toUnsignedLong(fd) <= hi);
            }
            default -> {
            }
        }
    }

    /** A path relative to a dirfd or the working directory, made absolute when the recording tells where it was. */
    private static String absolute(Timeline t, SyscallEvent s, TreeMap<Integer, Open> fds, String path) {
        if (path.startsWith("/")) return path;
        int dirfd = (int) s.arg(0);
        String dir;
        if (dirfd == AT_FDCWD) {
            dir = t.context(s.pid(), s.seq()).map(c -> c.cwd()).orElse(null);
        } else {
            Open o = fds.get(dirfd);
            dir = o == null ? null : o.what();
        }
        if (dir == null || !dir.startsWith("/")) return path;
        return dir.endsWith("/") ? dir + path : dir + "/" + path;
    }

    private static void put(TreeMap<Integer, Open> fds, int fd, String what, long seq, boolean cloexec) {
        if (fd >= 0) fds.put(fd, new Open(fd, what, seq, cloexec));
    }

    private static void copy(TreeMap<Integer, Open> fds, int from, int to, long seq, boolean cloexec) {
        if (to < 0) return;
        Open o = fds.get(from);
        fds.put(to, new Open(to, (o == null ? "?" : o.what()) + " (dup of fd " + from + ")", seq, cloexec));
    }

    /** The two ints a pipe or socketpair wrote at argument {@code arg}. */
    private static int[] pair(SyscallEvent s, int arg) {
        for (MemoryBlock b : s.outputs()) {
            if (b.arg() == arg && b.length() >= 8) {
                ByteBuffer v = b.view().order(ByteOrder.LITTLE_ENDIAN);
                return new int[] {v.getInt(0), v.getInt(4)};
            }
        }
        return null;
    }
}
