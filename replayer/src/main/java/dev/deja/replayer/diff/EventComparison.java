package dev.deja.replayer.diff;

import dev.deja.device.syscall.ArgKind;
import dev.deja.device.syscall.ArgSpec;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Schema;
import dev.deja.device.syscall.Schemas;
import dev.deja.device.syscall.Signals;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SyscallEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * Compares two events that the alignment paired (same kind, same syscall, same paths) and says what
 * differs, never looking at raw pointer values, and reading ids through the {@link IdMap}.
 */
final class EventComparison {

    /** One thing that differs between a paired A and B event. */
    record Finding(Difference.Kind kind, String detail) {
    }

    private final Schemas schemas;
    private final IdMap ids;
    private final int nrClone;
    private final Set<Integer> synchronisation = new HashSet<>();

    EventComparison(Schemas schemas, IdMap ids) {
        this.schemas = schemas;
        this.ids = ids;
        OptionalInt clone = schemas.table().number("clone");
        this.nrClone = clone.isPresent() ? clone.getAsInt() : -1;
        for (String name : List.of("futex", "futex_waitv", "sched_yield")) {
            schemas.table().number(name).ifPresent(synchronisation::add);
        }
    }

    /**
     * True for calls whose presence, arguments and results follow the threads' timing (a futex word holds a
     * tid or a counter; a wait is skipped when the other thread was quicker): their differences are scheduling.
     */
    boolean synchronisation(Event e) {
        return e instanceof SyscallEvent s && synchronisation.contains(s.nr());
    }

    /**
     * The alignment key of an event: events pair only when their keys are equal. A syscall's key is its
     * number and its path arguments, so that opening another file reads as another call.
     */
    String key(Event e) {
        return switch (e) {
            case SyscallEvent s -> "syscall " + s.nr() + paths(s);
            case SignalEvent s -> "signal " + s.signo();
            case ExitEvent x -> "exit";
            default -> throw new IllegalArgumentException("not aligned: " + e.kind());
        };
    }

    private String paths(SyscallEvent s) {
        Schema schema = schemas.schema(s.nr()).orElse(null);
        if (schema == null) return "";
        StringBuilder sb = new StringBuilder();
        for (MemoryBlock b : s.inputs()) {
            if (b.arg() >= 0 && b.arg() < schema.argCount() && schema.arg(b.arg()).kind() == ArgKind.PATH) {
                sb.append(' ').append(new String(b.data(), StandardCharsets.UTF_8));
            }
        }
        return sb.toString();
    }

    /** The syscall's name ("write"). */
    String name(SyscallEvent s) {
        return schemas.table().name(s.nr());
    }

    /** The descriptor a syscall works on (its first argument, when the schema says it is one), or -1. */
    long descriptor(SyscallEvent s) {
        Schema schema = schemas.schema(s.nr()).orElse(null);
        if (schema == null || schema.argCount() == 0 || schema.arg(0).kind() != ArgKind.FD) return -1;
        return s.arg(0);
    }

    List<Finding> compare(Event a, Event b) {
        return switch (a) {
            case SyscallEvent sa when b instanceof SyscallEvent sb && synchronisation(sa) -> syscalls(sa, sb).stream()
                    .map(f -> f.kind().control() ? new Finding(Difference.Kind.SCHEDULE, f.detail()) : f).toList();
            case SyscallEvent sa when b instanceof SyscallEvent sb -> syscalls(sa, sb);
            case SignalEvent sa when b instanceof SignalEvent sb -> signals(sa, sb);
            case ExitEvent xa when b instanceof ExitEvent xb -> exits(xa, xb);
            default -> throw new IllegalArgumentException("paired events of different kinds: " + a.kind() + ", " + b.kind());
        };
    }

    private List<Finding> syscalls(SyscallEvent a, SyscallEvent b) {
        List<Finding> out = new ArrayList<>();
        String result = resultClass(a, b);
        if (result != null) out.add(new Finding(Difference.Kind.RESULT, result));
        Schema schema = schemas.schema(a.nr()).orElse(null);
        if (schema == null) {
            // Without a model of the call, raw registers may be pointers: only the result is comparable.
            if (result == null && a.returned() && a.result() != b.result()) {
                out.add(new Finding(Difference.Kind.VALUE, "result " + a.result() + " vs " + b.result()));
            }
            return out;
        }
        scalars(schema, a, b, out);
        strings(schema, a, b, out);
        Map<Integer, byte[]> inA = grouped(schema, a.inputs(), true);
        Map<Integer, byte[]> inB = grouped(schema, b.inputs(), true);
        for (int arg : union(inA, inB)) {
            if (!Arrays.equals(inA.get(arg), inB.get(arg))) {
                out.add(new Finding(Difference.Kind.INPUT, dataDetail(arg, inA.get(arg), inB.get(arg))));
            }
        }
        if (result == null && a.returned() && !a.failed()) value(schema, a, b, out);
        Map<Integer, byte[]> outA = grouped(schema, a.outputs(), false);
        Map<Integer, byte[]> outB = grouped(schema, b.outputs(), false);
        for (int arg : union(outA, outB)) {
            if (!Arrays.equals(outA.get(arg), outB.get(arg))) {
                out.add(new Finding(Difference.Kind.OUTPUT, dataDetail(arg, outA.get(arg), outB.get(arg))
                        + field(schema, arg, outA.get(arg), outB.get(arg))));
            }
        }
        return out;
    }

    /** Null when both returned and both succeeded or failed alike. */
    private static String resultClass(SyscallEvent a, SyscallEvent b) {
        if (a.returned() != b.returned()) {
            return a.returned() ? "returned in A only" : "returned in B only";
        }
        if (!a.returned()) return null;
        if (a.failed() != b.failed()) return outcome(a) + " vs " + outcome(b);
        if (a.failed() && a.result() != b.result()) return outcome(a) + " vs " + outcome(b);
        return null;
    }

    private static String outcome(SyscallEvent e) {
        return e.failed() ? Errno.name((int) -e.result()) : "success";
    }

    private void scalars(Schema schema, SyscallEvent a, SyscallEvent b, List<Finding> out) {
        for (int i = 0; i < schema.argCount(); i++) {
            ArgKind k = schema.arg(i).kind();
            if (k.memory() || k == ArgKind.PTR) continue;
            if (a.nr() == nrClone && i == 4) continue; // clone's tls is an address in practice
            long va = a.arg(i);
            long vb = b.arg(i);
            if (k == ArgKind.PID) {
                switch (ids.match(va, vb)) {
                    case SAME -> { }
                    case OTHER -> out.add(new Finding(Difference.Kind.ARGS, argDetail(i, va, vb) + " (other tasks)"));
                    case FOREIGN -> out.add(new Finding(Difference.Kind.ID, argDetail(i, va, vb)));
                }
            } else if (va != vb) {
                boolean size = sizes(schema, i);
                out.add(new Finding(size ? Difference.Kind.INPUT : Difference.Kind.ARGS,
                        argDetail(i, va, vb) + (size ? " (a buffer size)" : "")));
            }
        }
    }

    /** True when argument {@code i} bounds or counts a memory argument (write's count, read's size). */
    private static boolean sizes(Schema schema, int i) {
        for (ArgSpec s : schema.args()) if (s.kind().memory() && s.n() == i) return true;
        return false;
    }

    private static void strings(Schema schema, SyscallEvent a, SyscallEvent b, List<Finding> out) {
        for (int i = 0; i < schema.argCount(); i++) {
            if (schema.arg(i).kind() != ArgKind.STR) continue;
            byte[] sa = block(a.inputs(), i);
            byte[] sb = block(b.inputs(), i);
            if (!Arrays.equals(sa, sb)) {
                out.add(new Finding(Difference.Kind.PATH, "argument " + (i + 1) + ": " + text(sa) + " vs " + text(sb)));
            }
        }
    }

    private void value(Schema schema, SyscallEvent a, SyscallEvent b, List<Finding> out) {
        switch (schema.ret()) {
            case "x" -> { } // an address: mmap, brk
            case "pid" -> {
                if (ids.match(a.result(), b.result()) != IdMap.Match.SAME) {
                    out.add(new Finding(Difference.Kind.ID, "result " + a.result() + " vs " + b.result()));
                }
            }
            default -> {
                if (a.result() != b.result()) {
                    out.add(new Finding(Difference.Kind.VALUE, "result " + a.result() + " vs " + b.result()));
                }
            }
        }
    }

    private List<Finding> signals(SignalEvent a, SignalEvent b) {
        List<Finding> out = new ArrayList<>();
        if (a.delivered() != b.delivered()) {
            out.add(new Finding(Difference.Kind.SIGNAL, (a.delivered() ? "delivered" : "suppressed") + " vs "
                    + (b.delivered() ? "delivered" : "suppressed")));
        }
        if (a.code() != b.code()) {
            out.add(new Finding(Difference.Kind.SIGNAL, "si_code " + a.code() + " vs " + b.code()));
        }
        if (ids.match(a.senderPid(), b.senderPid()) != IdMap.Match.SAME) {
            out.add(new Finding(Difference.Kind.ID, "sender " + a.senderPid() + " vs " + b.senderPid()));
        }
        return out;
    }

    private static List<Finding> exits(ExitEvent a, ExitEvent b) {
        // A thread that is not the last reports the status of the exit_group that ended it, if one did: its own
        // exit is its exit call, compared already.
        if (!a.processExit() && !b.processExit()) return List.of();
        if (a.processExit() == b.processExit() && a.exitCode() == b.exitCode() && a.termSignal() == b.termSignal()
                && a.coreDumped() == b.coreDumped()) {
            return List.of();
        }
        return List.of(new Finding(Difference.Kind.EXIT, ending(a) + " vs " + ending(b)));
    }

    private static String ending(ExitEvent x) {
        String who = x.processExit() ? "" : "thread ";
        if (x.killed()) return who + "killed by " + Signals.name(x.termSignal()) + (x.coreDumped() ? " (core dumped)" : "");
        return who + "exit " + x.exitCode();
    }

    /**
     * The bytes of each argument's blocks, concatenated in order; nested blocks (iovec buffers, argv
     * strings) under -1. Inputs leave out paths and strings (the key and {@link #strings} cover them).
     */
    private static Map<Integer, byte[]> grouped(Schema schema, List<MemoryBlock> blocks, boolean inputs) {
        Map<Integer, ByteArrayOutputStream> bytes = new TreeMap<>();
        for (MemoryBlock b : blocks) {
            if (inputs && b.arg() >= 0 && b.arg() < schema.argCount()) {
                ArgKind k = schema.arg(b.arg()).kind();
                if (k == ArgKind.PATH || k == ArgKind.STR) continue;
            }
            bytes.computeIfAbsent(b.arg(), x -> new ByteArrayOutputStream()).writeBytes(b.data());
        }
        Map<Integer, byte[]> out = new TreeMap<>();
        bytes.forEach((k, v) -> out.put(k, v.toByteArray()));
        return out;
    }

    private static byte[] block(List<MemoryBlock> blocks, int arg) {
        for (MemoryBlock b : blocks) if (b.arg() == arg) return b.data();
        return null;
    }

    private static List<Integer> union(Map<Integer, byte[]> a, Map<Integer, byte[]> b) {
        TreeMap<Integer, Boolean> keys = new TreeMap<>();
        a.keySet().forEach(k -> keys.put(k, true));
        b.keySet().forEach(k -> keys.put(k, true));
        return List.copyOf(keys.keySet());
    }

    private static String argDetail(int i, long a, long b) {
        return "argument " + (i + 1) + ": " + a + " vs " + b;
    }

    /** x86_64 and aarch64 struct stat: the field at each offset, so a difference names what differs. */
    private static final String[][] STAT_FIELDS_X86 = {{"0", "st_dev"}, {"8", "st_ino"}, {"16", "st_nlink"},
            {"24", "st_mode"}, {"28", "st_uid"}, {"32", "st_gid"}, {"36", "padding"}, {"40", "st_rdev"}, {"48", "st_size"},
            {"56", "st_blksize"}, {"64", "st_blocks"}, {"72", "st_atime"}, {"80", "st_atime_nsec"}, {"88", "st_mtime"},
            {"96", "st_mtime_nsec"}, {"104", "st_ctime"}, {"112", "st_ctime_nsec"}, {"120", "reserved"}};
    private static final String[][] STATX_FIELDS = {{"0", "stx_mask"}, {"4", "stx_blksize"}, {"8", "stx_attributes"},
            {"16", "stx_nlink"}, {"20", "stx_uid"}, {"24", "stx_gid"}, {"28", "stx_mode"}, {"32", "stx_ino"},
            {"40", "stx_size"}, {"48", "stx_blocks"}, {"56", "stx_attributes_mask"}, {"64", "stx_atime"},
            {"80", "stx_btime"}, {"96", "stx_ctime"}, {"112", "stx_mtime"}, {"128", "stx_rdev_major"},
            {"132", "stx_rdev_minor"}, {"136", "stx_dev_major"}, {"140", "stx_dev_minor"}, {"144", "later fields"}};

    /**
     * For a stat or statx output, the names of the fields that differ (" in st_atime, st_mtime"): strace's
     * line shows only some of them, so two lines that read the same still say where they differ.
     */
    private String field(Schema schema, int arg, byte[] a, byte[] b) {
        if (a == null || b == null || a.length != b.length || arg < 0 || arg >= schema.argCount()) return "";
        String struct = schema.arg(arg).name();
        String[][] fields = "stat".equals(struct) && schemas.arch() == dev.deja.device.syscall.Arch.X86_64 ? STAT_FIELDS_X86
                : "statx".equals(struct) ? STATX_FIELDS : null;
        if (fields == null) return "";
        java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
        for (int at = 0; at < a.length; at++) {
            if (a[at] == b[at]) continue;
            String name = fields[0][1];
            for (String[] f : fields) if (Integer.parseInt(f[0]) <= at) name = f[1];
            names.add(name);
        }
        return names.isEmpty() ? "" : " in " + String.join(", ", names);
    }

    private static String dataDetail(int arg, byte[] a, byte[] b) {
        String where = arg < 0 ? "memory reached through pointers" : "argument " + (arg + 1);
        if (a == null || b == null) return where + ": present in " + (a == null ? "B" : "A") + " only";
        if (a.length != b.length) return where + ": " + a.length + " vs " + b.length + " bytes";
        int at = 0;
        while (at < a.length && a[at] == b[at]) at++;
        return where + ": " + a.length + (a.length == 1 ? " byte" : " bytes") + ", first difference at byte " + at;
    }

    private static String text(byte[] s) {
        if (s == null) return "(none)";
        int end = 0;
        while (end < s.length && s[end] != 0) end++;
        return '"' + new String(s, 0, end, StandardCharsets.UTF_8) + '"';
    }
}
