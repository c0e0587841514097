package dev.deja.device;

import dev.deja.formats.event.ProcessContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What /proc says about a traced process: its context and its file mappings. */
final class ProcFs {
    /** Runs of white space, as /proc's files separate their fields (compiled once: String.split would at every call). */
    private static final java.util.regex.Pattern SPACES = java.util.regex.Pattern.compile("\\s+");
    private ProcFs() {
    }

    static Path proc(int pid) {
        return Path.of("/proc", Integer.toString(pid));
    }

    /** readlink, or "" when the link cannot be read (the process is gone, or hides it). */
    static String link(Path path) {
        try {
            return Files.readSymbolicLink(path).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "";
        }
    }

    /** Whether a process has capability {@code cap} (linux/capability.h) in its effective set. */
    static boolean hasCapability(int pid, int cap) {
        for (String line : lines(proc(pid).resolve("status"))) {
            if (line.startsWith("CapEff:")) return (Long.parseUnsignedLong(line.substring(7).trim(), 16) >>> cap & 1) != 0;
        }
        return false;
    }

    /** The threads of a process now (/proc/PID/task); empty when it is gone. */
    static List<Integer> threads(int pid) {
        List<Integer> tids = new ArrayList<>();
        try (java.nio.file.DirectoryStream<Path> dir = Files.newDirectoryStream(proc(pid).resolve("task"))) {
            for (Path p : dir) tids.add(Integer.parseInt(p.getFileName().toString()));
        } catch (IOException e) {
            return List.of();
        }
        return tids;
    }

    /** A thread's name (/proc/PID/task/TID/comm), or "" when it cannot be read. */
    static String threadName(int pid, int tid) {
        return String.join("", lines(proc(pid).resolve("task").resolve(Integer.toString(tid)).resolve("comm")));
    }

    /** /proc/PID/maps as text, or "" when the process is gone. */
    static String maps(int pid) {
        try {
            return java.nio.file.Files.readString(proc(pid).resolve("maps"), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** kernel.yama.ptrace_scope, or "" without Yama. */
    static String ptraceScope() {
        List<String> l = lines(Path.of("/proc/sys/kernel/yama/ptrace_scope"));
        return l.isEmpty() ? "" : l.getFirst().trim();
    }

    /** The pid tracing a process (TracerPid in /proc/PID/status), 0 when none or unknown. */
    static int tracerPid(int pid) {
        for (String line : lines(proc(pid).resolve("status"))) {
            if (line.startsWith("TracerPid:")) return Integer.parseInt(line.substring(10).trim());
        }
        return 0;
    }

    /** The thread group of a thread, from /proc/TID/status; the tid itself when unreadable. */
    static int threadGroup(int tid) {
        return statusNumber(tid, "Tgid:", tid);
    }

    /** The parent's pid of process {@code pid} (status's PPid), or -1 when it cannot be read. */
    static int parent(int pid) {
        return statusNumber(pid, "PPid:", -1);
    }

    /** The number on /proc/PID/status's line {@code key} ("Tgid:"), or {@code otherwise} when it cannot be read. */
    private static int statusNumber(int pid, String key, int otherwise) {
        for (String line : lines(proc(pid).resolve("status"))) {
            if (line.startsWith(key)) return Integer.parseInt(line.substring(key.length()).trim());
        }
        return otherwise;
    }

    static ProcessContext context(int pid) {
        Path dir = proc(pid);
        int ppid = 0;
        int[] uids = {-1, -1};
        int[] gids = {-1, -1};
        for (String line : lines(dir.resolve("status"))) {
            if (line.startsWith("PPid:")) ppid = Integer.parseInt(line.substring(5).trim());
            else if (line.startsWith("Uid:")) uids = realAndEffective(line.substring(4));
            else if (line.startsWith("Gid:")) gids = realAndEffective(line.substring(4));
        }
        String comm = String.join("", lines(dir.resolve("comm")));
        return new ProcessContext(pid, ppid, uids[0], gids[0], uids[1], gids[1], comm, link(dir.resolve("exe")),
                link(dir.resolve("cwd")));
    }

    private static int[] realAndEffective(String ids) {
        String[] f = SPACES.split(ids.trim());
        return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
    }

    /** A file-backed line of /proc/PID/maps. */
    record Mapping(long start, long end, int prot, boolean shared, long offset, String path) {
    }

    static List<Mapping> fileMappings(int pid) {
        return mappings(pid, f -> f.length == 6 && f[5].startsWith("/"));
    }

    /** The writable MAP_SHARED mappings of the process (memory a fork child would share with it), any path or none. */
    static List<Mapping> writableSharedMappings(int pid) {
        return mappings(pid, f -> f.length >= 2 && f[1].length() == 4 && f[1].charAt(1) == 'w' && f[1].charAt(3) == 's');
    }

    /** Whether the process has a writable shared mapping. */
    static boolean hasWritableSharedMapping(int pid) {
        return !writableSharedMappings(pid).isEmpty();
    }

    /** The lines of /proc/PID/maps whose fields {@code keep} accepts (path "" for an anonymous one). */
    private static List<Mapping> mappings(int pid, java.util.function.Predicate<String[]> keep) {
        List<Mapping> out = new ArrayList<>();
        for (String line : lines(proc(pid).resolve("maps"))) {
            // start-end perms offset dev inode path
            String[] f = SPACES.split(line.trim(), 6);
            if (f.length < 5 || !keep.test(f)) continue;
            int dash = f[0].indexOf('-');
            String perms = f[1];
            int prot = (perms.charAt(0) == 'r' ? 1 : 0) | (perms.charAt(1) == 'w' ? 2 : 0) | (perms.charAt(2) == 'x' ? 4 : 0);
            out.add(new Mapping(Long.parseUnsignedLong(f[0].substring(0, dash), 16),
                    Long.parseUnsignedLong(f[0].substring(dash + 1), 16), prot, perms.charAt(3) == 's',
                    Long.parseUnsignedLong(f[2], 16), f.length == 6 ? f[5] : ""));
        }
        return out;
    }

    /** The device and inode of the file open at {@code fd} in the process, as "dev:ino", or null when gone. */
    static String fileIdentity(int pid, int fd) {
        try {
            var attrs = Files.readAttributes(proc(pid).resolve("fd").resolve(Integer.toString(fd)), "unix:dev,ino");
            return attrs.get("dev") + ":" + attrs.get("ino");
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** A file's lines; none when it cannot be read (a process gone). */
    static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * A thread's signals from /proc/PID/task/TID/status, read at once: {@code pending} for it or its
     * process (SigPnd, ShdPnd), blocked or not, and {@code blocked} (SigBlk), the mask the kernel applies
     * now: inside a call under a mask of its own (pselect6, rt_sigsuspend) the call's, where
     * PTRACE_GETSIGMASK gives the mask put back on the way out. Bit n-1 for signal n.
     */
    record SignalState(long pending, long blocked) {
        /** Whether a signal the thread does not block is pending. */
        boolean deliverable() {
            return (pending & ~blocked) != 0;
        }
    }

    /** The thread's {@link SignalState}, or null when it is gone. */
    static SignalState signals(int pid, int tid) {
        long pending = 0, blocked = 0;
        try {
            for (String line : Files.readAllLines(proc(pid).resolve("task").resolve(Integer.toString(tid)).resolve("status"))) {
                if (line.startsWith("SigPnd:") || line.startsWith("ShdPnd:")) pending |= Long.parseUnsignedLong(line.substring(7).trim(), 16);
                else if (line.startsWith("SigBlk:")) blocked = Long.parseUnsignedLong(line.substring(7).trim(), 16);
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return new SignalState(pending, blocked);
    }

    /** The thread's {@link SignalState}; {@link DeviceException} when it is gone. */
    static SignalState signalsOfLive(int pid, int tid) {
        SignalState s = signals(pid, tid);
        if (s == null) throw new DeviceException("cannot read the signals of tid " + tid + " (pid " + pid + "): it is gone");
        return s;
    }

    /**
     * The thread's state letter (the third field of /proc/PID/task/TID/stat, proc(5)): 'S' sleeping in
     * the kernel, 't' in a ptrace stop, ...; 'X' when it is gone.
     */
    static char taskState(int pid, int tid) {
        try {
            String stat = Files.readString(proc(pid).resolve("task").resolve(Integer.toString(tid)).resolve("stat"));
            int close = stat.lastIndexOf(')');
            return close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : 'X';
        } catch (java.io.IOException e) {
            return 'X';
        }
    }

    /** Whether the process has a handler for signal {@code signo} (SigCgt of /proc/PID/status); false when it is gone. */
    static boolean catches(int pid, int signo) {
        for (String line : lines(proc(pid).resolve("status"))) {
            if (!line.startsWith("SigCgt:")) continue;
            try {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << (signo - 1))) != 0;
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return false;
    }

    /**
     * CPU time a thread has run, in nanoseconds (the first field of /proc/PID/task/TID/schedstat,
     * sum_exec_runtime); 0 when it is gone. Another process's thread clock cannot be read with
     * clock_gettime, this file can.
     */
    static long cpuNs(int pid, int tid) {
        try {
            String s = Files.readString(proc(pid).resolve("task").resolve(Integer.toString(tid)).resolve("schedstat"));
            int sp = s.indexOf(' ');
            return Long.parseLong(sp < 0 ? s.trim() : s.substring(0, sp));
        } catch (java.io.IOException | NumberFormatException e) {
            return 0;
        }
    }

    /**
     * Where the process's initial stack held argc when it was exec'd (the startstack field of
     * /proc/PID/stat, proc(5)): argv, the environment, the auxiliary vector and their strings lie
     * above it. 0 when unknown.
     */
    static long startStack(int pid) {
        String f = statField(pid, STARTSTACK_FIELD);
        try {
            return f == null ? 0 : Long.parseUnsignedLong(f);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Field {@code field} (1-based, proc(5)) of /proc/PID/stat, or null when the process is gone. */
    private static String statField(int pid, int field) {
        try {
            String s = Files.readString(proc(pid).resolve("stat"));
            // The fields after the command name, which may hold spaces and parentheses: (comm) state ppid ...
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return f[field - 3];
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** The process group of {@code pid} (field 5 of /proc/PID/stat, proc(5)); 0 when it is gone. */
    static int processGroup(int pid) {
        String f = statField(pid, PGRP_FIELD);
        try {
            return f == null ? 0 : Integer.parseInt(f);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The processes of process group {@code pgid} now (a process that ends meanwhile may be among them). */
    static List<Integer> processGroupMembers(int pgid) {
        List<Integer> members = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> all = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) all::iterator) {
                String name = p.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) continue;
                int pid = Integer.parseInt(name);
                if (processGroup(pid) == pgid) members.add(pid);
            }
        } catch (java.io.IOException | NumberFormatException e) {
            throw new DeviceException("cannot list the processes of group " + pgid + " in /proc: " + e.getMessage(), e);
        }
        return members;
    }

    private static final int PGRP_FIELD = 5;

    /** startstack is field 28 of /proc/PID/stat (1-based; pid and comm are fields 1 and 2). */
    private static final int STARTSTACK_FIELD = 28;
}
