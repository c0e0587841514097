package dev.deja.device.syscall;

import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SyscallEvent;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Renders events the way {@code strace -f} 6.x prints them (without the pid prefix), decoding
 * from the event alone: its raw arguments and the memory captured at entry and exit, found by
 * address. Decoding degrades (unknown bits in hex, missing memory as addresses); it never throws.
 */
public final class Renderer {

    private static final int COLUMN = 39;

    private final Arch arch;
    private final int stringLimit;
    private final Schemas schemas;
    private final HexStrings hexStrings;
    private final Detail detail;

    /** strace's -x (strings with a non-printable byte in hex) and -xx (every string in hex). */
    public enum HexStrings { NONE, NON_ASCII, ALL }

    /**
     * How much of each call to decode, per syscall number, as strace's qualifiers choose it.
     *
     * @param raw        -e raw=SET: the arguments undecoded, in hexadecimal, and the result in hexadecimal
     * @param verbose    -e verbose=SET: structures and arrays the arguments point to are decoded
     *                   (otherwise printed as their address; strings and buffers still are)
     * @param abbreviate -e abbrev=SET (-v is abbrev=none): large structures show a subset of their
     *                   members and "...", execve's environment its count, long arrays "..."
     */
    public record Detail(IntPredicate raw, IntPredicate verbose, IntPredicate abbreviate) {
        /** strace's defaults: raw=none, verbose=all, abbrev=all. */
        public static final Detail DEFAULT = new Detail(nr -> false, nr -> true, nr -> true);
    }

    public Renderer(Arch arch) {
        this(arch, 32);
    }

    public Renderer(Arch arch, int stringLimit) {
        this(arch, stringLimit, HexStrings.NONE);
    }

    public Renderer(Arch arch, int stringLimit, HexStrings hexStrings) {
        this(arch, stringLimit, hexStrings, Detail.DEFAULT);
    }

    public Renderer(Arch arch, int stringLimit, HexStrings hexStrings, Detail detail) {
        this.arch = arch;
        this.stringLimit = stringLimit;
        this.schemas = Schemas.of(arch);
        this.hexStrings = hexStrings;
        this.detail = detail;
    }

    /** {@link Decode#quote}, in hex as -x or -xx asks. */
    private void quote(StringBuilder sb, byte[] b, int off, int len, int limit, boolean nulTerminated, boolean hex) {
        Decode.quote(sb, b, off, len, limit, nulTerminated, hex || hexFor(b, off, len, nulTerminated));
    }

    /** {@link Decode#cstring}, in hex as -x or -xx asks. */
    private void cstring(StringBuilder sb, byte[] b, int limit) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        boolean terminated = n < b.length;
        quote(sb, b, 0, n, limit, false, false);
        if (!terminated && n <= limit) sb.append("...");
    }

    private boolean hexFor(byte[] b, int off, int len, boolean nulTerminated) {
        if (hexStrings == HexStrings.ALL) return true;
        if (hexStrings == HexStrings.NONE) return false;
        for (int i = off; i < off + len && i < b.length; i++) {
            int c = b[i] & 0xff;
            if (c == 0 && nulTerminated) break;
            if ((c < 0x20 && (c < '\t' || c > '\r')) || c >= 0x7f) return true;
        }
        return false;
    }

    // ================================================================ syscalls

    /** "openat(AT_FDCWD, \"/etc/hosts\", O_RDONLY|O_CLOEXEC) = 3". */
    public String render(SyscallEvent e) {
        StringBuilder sb = new StringBuilder(96);
        if (detail.raw().test(e.nr())) {
            Schema s = schemas.get(e.nr());
            raw(sb, e, s == null ? 6 : s.argCount());
            if (sb.length() < COLUMN) sb.append(" ".repeat(COLUMN - sb.length()));
            sb.append(" = ");
            rawResult(sb, e);
            return sb.toString();
        }
        String suffix = null;
        try {
            suffix = call(sb, e);
        } catch (RuntimeException ex) {
            // never fail: fall back to raw arguments
            sb.setLength(0);
            raw(sb, e, 6);
        }
        if (sb.length() < COLUMN) sb.append(" ".repeat(COLUMN - sb.length()));
        sb.append(" = ");
        result(sb, e, suffix);
        return sb.toString();
    }

    /** -e raw=: the result in hexadecimal (strace's "= 0x3"), an error still by name. */
    private static void rawResult(StringBuilder sb, SyscallEvent e) {
        if (!e.returned()) {
            sb.append('?');
        } else if (e.failed()) {
            int errno = (int) -e.result();
            sb.append(Errno.restart(errno) ? "? " : "-1 ").append(Errno.name(errno)).append(" (")
                    .append(Errno.message(errno)).append(')');
        } else {
            sb.append(Decode.hex(e.result()));
        }
    }

    /**
     * A call as strace shows one it stops following at its entry: "name(args" without the closing
     * parenthesis and result; the caller adds " <unfinished ...>" or " <detached ...>".
     */
    public String renderEntry(SyscallEvent e) {
        String line = render(e);
        int eq = line.lastIndexOf(" = ");
        String call = (eq < 0 ? line : line.substring(0, eq)).stripTrailing();
        return call.endsWith(")") ? call.substring(0, call.length() - 1) : call;
    }

    private final class Ctx {
        final SyscallEvent e;
        final List<MemoryBlock> in;
        final List<MemoryBlock> out;
        final boolean ok;
        /** -e verbose=: structures are decoded; -e abbrev=: they are shortened. */
        final boolean verbose;
        final boolean abbrev;

        Ctx(SyscallEvent e) {
            this.e = e;
            this.in = e.inputs();
            this.out = e.outputs();
            this.ok = e.returned() && !e.failed();
            this.verbose = detail.verbose().test(e.nr());
            this.abbrev = detail.abbreviate().test(e.nr());
        }

        long a(int i) {
            return e.arg(i);
        }
    }

    private void raw(StringBuilder sb, SyscallEvent e, int n) {
        sb.append(schemas.table().name(e.nr())).append('(');
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(", ");
            sb.append(Decode.hex(e.arg(i)));
        }
        sb.append(')');
    }

    /** Appends "name(args)"; returns a result annotation or null. */
    private String call(StringBuilder sb, SyscallEvent e) {
        Schema s = schemas.get(e.nr());
        String name = schemas.table().name(e.nr());
        if (s == null) {
            raw(sb, e, 6);
            return null;
        }
        Ctx c = new Ctx(e);
        sb.append(name).append('(');
        switch (name) {
            case "clone" -> {
                clone(sb, c);
                sb.append(')');
                return null;
            }
            case "clone3" -> {
                if (c.verbose) clone3(sb, c);
                else sb.append(Decode.ptr(c.a(0))).append(", ").append(Long.toUnsignedString(c.a(1)));
                sb.append(')');
                return null;
            }
            case "execve", "execveat" -> {
                int base = name.equals("execve") ? 0 : 1;
                if (base == 1) sb.append(dirfd(c.a(0))).append(", ");
                path(sb, c, base);
                sb.append(", ");
                if (c.verbose) strv(sb, c, base + 1, false);
                else sb.append(Decode.ptr(c.a(base + 1)));
                sb.append(", ");
                if (c.verbose) strv(sb, c, base + 2, true);
                else sb.append(Decode.ptr(c.a(base + 2)));
                if (base == 1) sb.append(", ").append(Xlat.get("at", arch).flags(c.a(4)));
                sb.append(')');
                return null;
            }
            default -> {
            }
        }
        int n = visibleArgs(name, s, c);
        String annotation = null;
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(", ");
            String a = arg(sb, c, s, i);
            if (a == SKIP_REST) break;
            if (a != null) annotation = a;
        }
        sb.append(')');
        return annotation;
    }

    /** How many arguments strace shows: fewer for calls whose last arguments depend on a mode. */
    private int visibleArgs(String name, Schema s, Ctx c) {
        int n = s.argCount();
        switch (name) {
            case "open", "openat" -> {
                int flagsArg = name.equals("open") ? 1 : 2;
                long f = c.a(flagsArg);
                long tmpfile = Xlat.get("open", arch).value("O_TMPFILE");
                if ((f & 0100) == 0 && (f & tmpfile) != tmpfile) return n - 1;
            }
            case "fcntl" -> {
                int cmd = (int) c.a(1);
                if (cmd == 1 || cmd == 3 || cmd == 9 || cmd == 11 || cmd == 1025 || cmd == 1032 || cmd == 1034) return 2;
            }
            case "ioctl" -> {
                String known = Ioctls.name(c.a(1));
                if (known != null && Ioctls.inputSize(c.a(1)) == 0 && Ioctls.outputSize(c.a(1)) == 0
                        && !Ioctls.scalarArg(c.a(1))) return 2;
            }
            case "futex" -> {
                int cmd = (int) c.a(1) & 127;
                return switch (cmd) {
                    case 1, 7, 8 -> 3;                // WAKE, UNLOCK_PI, TRYLOCK_PI
                    case 0 -> 4;                      // WAIT
                    case 9 -> 6;                      // WAIT_BITSET: shown without uaddr2
                    case 10 -> 6;
                    default -> 6;
                };
            }
            case "prctl" -> {
                int op = (int) c.a(0);
                if (op == 15 || op == 16 || op == 1 || op == 4 || op == 8 || op == 38 || op == 36 || op == 24
                        || op == 23 || op == 26) return 2;
                if (op == 2 || op == 3 || op == 7 || op == 21 || op == 39 || op == 37 || op == 25 || op == 42) {
                    return op == 2 || op == 37 || op == 25 ? 2 : 1;
                }
            }
            default -> {
            }
        }
        return n;
    }

    /** Appends argument i; returns a result annotation (poll's revents, select's sets) or null. */
    private String arg(StringBuilder sb, Ctx c, Schema s, int i) {
        ArgSpec a = s.arg(i);
        long v = c.a(i);
        if (!c.verbose && dereferences(a.kind(), c)) {
            sb.append(Decode.ptr(v));
            return null;
        }
        switch (a.kind()) {
            case INT -> sb.append((int) v);
            case LONG -> sb.append(v);
            case ULONG -> sb.append(Long.toUnsignedString(v));
            case HEX -> sb.append(Decode.hex(v));
            case OCT -> sb.append(Decode.octal(v & 0xffffffffL));
            case PTR -> sb.append(Decode.ptr(v));
            case FD, PID -> sb.append((int) v);
            case DIRFD -> sb.append(dirfd(v));
            case SIG -> sb.append(sig((int) v));
            case MODE -> sb.append(Decode.mode(v & 0xffffffffL, s.name().startsWith("mknod")));
            case FLAGS -> flags(sb, a.name(), v, s.name());
            case ENUM -> {
                if (a.name().equals("ipproto") && (int) c.a(0) != 2 && (int) c.a(0) != 10) sb.append((int) v);
                else enumArg(sb, a.name(), v);
            }
            case PATH -> path(sb, c, i);
            case STR -> {
                byte[] b = Bytes.at(c.in, v);
                if (b == null) sb.append(Decode.ptr(v));
                else cstring(sb, b, stringLimit);
            }
            case IBUF -> buffer(sb, c.in, v, c.a(a.n()), false);
            case OBUF -> {
                long filled = Math.min(c.a(a.n()), c.e.result());
                if (!c.ok) sb.append(Decode.ptr(v));
                else if (v != 0 && filled <= 0) sb.append("\"\"");   // read at EOF: strace shows ""
                else buffer(sb, c.out, v, filled, s.name().equals("getrandom"));
                if (c.ok && s.name().equals("sched_getaffinity")) {
                    byte[] b = Bytes.at(c.out, v);
                    if (b != null) {
                        sb.setLength(sb.lastIndexOf(", ") + 2);
                        cpuSet(sb, b);
                    }
                }
            }
            case OSTR -> {
                byte[] b = c.ok ? Bytes.at(c.out, v) : null;
                if (b == null) sb.append(Decode.ptr(v));
                else quote(sb, b, 0, b.length, s.name().equals("getcwd") ? Integer.MAX_VALUE : stringLimit,
                        s.name().equals("getcwd"), false);
            }
            case OPAGES -> {
                // as strace: each page's residency bit
                byte[] b = c.ok ? Bytes.at(c.out, v) : null;
                if (b == null) {
                    sb.append(Decode.ptr(v));
                } else {
                    sb.append('[');
                    int shown = c.abbrev ? Math.min(b.length, stringLimit) : b.length;
                    for (int k = 0; k < shown; k++) sb.append(k > 0 ? ", " : "").append(b[k] & 1);
                    sb.append(b.length > shown ? ", ...]" : "]");
                }
            }
            case OBUFARG, OLEN -> {
                byte[] b = c.ok ? Bytes.at(c.out, v) : null;
                if (b == null) sb.append(Decode.ptr(v));
                else if (b.length == 4 && s.name().equals("getsockopt")) sb.append('[').append(Bytes.i32(b, 0)).append(']');
                else quote(sb, b, 0, b.length, stringLimit, false, false);
            }
            case IN, CIN -> struct(sb, a.name(), v, Bytes.at(c.in, v), c);
            case OUT -> struct(sb, a.name(), v, c.ok ? Bytes.at(c.out, v) : null, c);
            case IO -> {
                struct(sb, a.name(), v, Bytes.at(c.in, v), c);
                if (c.ok && (s.name().equals("select") || s.name().equals("pselect6"))) return null;
            }
            case INARR -> array(sb, a.name(), v, Bytes.at(c.in, v));
            case OUTARR, OUTRET -> {
                if (s.name().startsWith("epoll_") && c.ok) {
                    array(sb, a.name(), v, Bytes.at(c.out, v) == null && c.e.result() == 0 ? new byte[0] : Bytes.at(c.out, v));
                } else {
                    array(sb, a.name(), v, c.ok ? Bytes.at(c.out, v) : null);
                }
            }
            case IOARR -> {
                array(sb, a.name(), v, Bytes.at(c.in, v));
                if (a.name().equals("pollfd") && c.e.returned() && !c.e.failed()) return pollResult(c, v);
            }
            case SAIN -> sockaddr(sb, v, Bytes.at(c.in, v), (int) c.a(a.n()));
            case SAOUT -> {
                byte[] b = c.ok ? Bytes.at(c.out, v) : null;
                if (b == null) sb.append(Decode.ptr(v));
                else sockaddr(sb, v, b, b.length);
            }
            case SLEN -> {
                byte[] before = Bytes.at(c.in, v);
                byte[] after = c.ok ? Bytes.at(c.out, v) : null;
                if (before == null || before.length < 4) sb.append(Decode.ptr(v));
                else {
                    sb.append('[').append(Bytes.u32(before, 0));
                    if (after != null && after.length >= 4 && Bytes.u32(after, 0) != Bytes.u32(before, 0)) {
                        sb.append(" => ").append(Bytes.u32(after, 0));
                    }
                    sb.append(']');
                }
            }
            case IOVIN -> iovec(sb, c, v, (int) Math.min(c.a(a.n()), MemoryCapture.MAX_IOV), c.in, -1);
            case IOVOUT -> iovec(sb, c, v, (int) Math.min(c.a(a.n()), MemoryCapture.MAX_IOV), c.out,
                    c.ok ? c.e.result() : 0);
            case MSGIN, MSGOUT -> msghdr(sb, c, v, a.kind() == ArgKind.MSGOUT);
            case MMSGIN, MMSGOUT -> sb.append(Decode.ptr(v));
            case STRV -> strv(sb, c, i, false);
            case SIGSET -> sigset(sb, Bytes.at(c.in, v), v);
            case INODES -> nodeMask(sb, Bytes.at(c.in, v), v);
            case ONODES -> nodeMask(sb, c.ok ? Bytes.at(c.out, v) : null, v);
            case OSIGSET -> sigset(sb, c.ok ? Bytes.at(c.out, v) : null, v);
            case FDPAIR -> {
                byte[] b = c.ok ? Bytes.at(c.out, v) : null;
                if (b == null || b.length < 8) sb.append(Decode.ptr(v));
                else sb.append('[').append(Bytes.i32(b, 0)).append(", ").append(Bytes.i32(b, 4)).append(']');
            }
            case DENTS -> {
                sb.append(Decode.ptr(v));
                byte[] b = c.ok ? Bytes.at(c.out, v) : null;
                if (b == null && c.ok && c.e.result() == 0) b = new byte[0];   // end of directory
                if (b != null) {
                    int count = 0;
                    for (int off = 0; off + 19 <= b.length; count++) {
                        int reclen = Bytes.u16(b, off + 16);
                        if (reclen <= 0) break;
                        off += reclen;
                    }
                    sb.append(" /* ").append(count).append(count == 1 ? " entry */" : " entries */");
                }
            }
            case FDSET -> {
                byte[] b = Bytes.at(c.in, v);
                fdset(sb, v, b, (int) c.a(0));
                if (i == 1 && c.ok) return selectResult(c);
            }
            case WSTATUS -> {
                byte[] b = c.ok ? Bytes.at(c.out, v) : null;
                if (b == null || b.length < 4) sb.append(Decode.ptr(v));
                else sb.append("[{").append(waitStatus(Bytes.i32(b, 0))).append("}]");
            }
            case FILEHANDLE -> sb.append(Decode.ptr(v));
            case IOCTLREQ -> sb.append(ioctlName(v));
            case IOCTLARG -> ioctlArg(sb, c, v);
            case FCNTLCMD -> sb.append(Xlat.get("fcntl", arch).enumName((int) v));
            case FCNTLARG -> fcntlArg(sb, c, v);
            case FUTEXOP -> futexOp(sb, (int) v);
            case FUTEXVAL2 -> {
                int cmd = (int) c.a(1) & 127;
                if (Decode.futexHasTimeout((int) c.a(1))) struct(sb, "timespec", v, Bytes.at(c.in, v), c);
                else sb.append(Long.toUnsignedString(v & 0xffffffffL));
                if (cmd == 9 || cmd == 10) {
                    // strace shows WAIT_BITSET/WAKE_BITSET without uaddr2: uaddr, op, val, timeout, val3
                    sb.append(", ");
                    long val3 = c.a(5) & 0xffffffffL;
                    sb.append(val3 == 0xffffffffL ? "FUTEX_BITSET_MATCH_ANY" : Decode.hex(val3));
                    return SKIP_REST;
                }
            }
            case PRCTLOP -> sb.append(Xlat.get("prctl", arch).enumName((int) v));
            case PRCTLARG -> {
                int op = (int) c.a(0);
                if (op == 15) {
                    byte[] b = Bytes.at(c.in, v);
                    if (b == null) sb.append(Decode.ptr(v));
                    else cstring(sb, b, 16);
                } else if (op == 16) {
                    byte[] b = c.ok ? Bytes.at(c.out, v) : null;
                    if (b == null) sb.append(Decode.ptr(v));
                    else cstring(sb, b, 16);
                } else if (op == 1) {
                    sb.append(sig((int) v));
                } else if (op == 2) {
                    sb.append(Decode.ptr(v));
                } else {
                    sb.append(Long.toUnsignedString(v));
                }
            }
            case ARCHPRCTLOP -> sb.append(Xlat.get("archprctl", arch).enumName((int) v));
            case ARCHPRCTLARG -> {
                byte[] b = c.ok ? Bytes.at(c.out, v) : null;
                if (b != null && b.length == 8) sb.append('[').append(Decode.hex(Bytes.i64(b, 0))).append(']');
                else sb.append(Decode.hex(v));
            }
        }
        return null;
    }

    /** A NUMA node mask as strace prints it: every word, "%#0*lx" of 16 (a zero word has no 0x). */
    private static void nodeMask(StringBuilder sb, byte[] b, long addr) {
        if (b == null || b.length < 8) {
            sb.append(Decode.ptr(addr));
            return;
        }
        sb.append('[');
        for (int off = 0; off + 8 <= b.length; off += 8) {
            if (off > 0) sb.append(", ");
            long w = Bytes.i64(b, off);
            sb.append(w == 0 ? "0000000000000000" : String.format("%#016x", w));
        }
        sb.append(']');
    }

    /**
     * Whether an argument of this kind is memory strace reads with umove_or_printaddr (structures,
     * arrays, numbers behind a pointer): printed as its address when the call is not in -e verbose=.
     * Strings and data buffers are not among them.
     */
    private static boolean dereferences(ArgKind k, Ctx c) {
        return switch (k) {
            case IN, CIN, OUT, IO, INARR, OUTARR, OUTRET, IOARR, SAIN, SAOUT, SLEN, IOVIN, IOVOUT, MSGIN, MSGOUT,
                 STRV, SIGSET, OSIGSET, FDPAIR, DENTS, FDSET, WSTATUS, OPAGES, ARCHPRCTLARG, INODES, ONODES -> true;
            case IOCTLARG -> !Ioctls.scalarArg(c.a(1)) && Ioctls.name(c.a(1)) != null;
            case FCNTLARG -> switch ((int) c.a(1)) {
                case 5, 6, 7, 36, 37, 38 -> true;
                default -> false;
            };
            case FUTEXVAL2 -> Decode.futexHasTimeout((int) c.a(1));
            default -> false;
        };
    }

    /** Marker: the argument printed the rest of the list itself. */
    private static final String SKIP_REST = new String("skip");

    // ---------------------------------------------------------------- results

    private void result(StringBuilder sb, SyscallEvent e, String annotation) {
        if (!e.returned()) {
            sb.append('?');
            return;
        }
        Schema s = schemas.get(e.nr());
        String ret = s == null ? "d" : s.ret();
        long r = e.result();
        if (e.failed()) {
            int errno = (int) -r;
            sb.append(Errno.restart(errno) ? "? " : "-1 ").append(Errno.name(errno)).append(" (")
                    .append(Errno.message(errno)).append(')');
            return;
        }
        if (s != null && s.name().equals("fcntl")) {
            int cmd = (int) e.arg(1);
            if (cmd == 3 || (cmd == 1 && r != 0)) {
                // F_GETFL, F_GETFD: "0x8002 (flags O_RDWR|O_LARGEFILE)"
                sb.append(Decode.hex(r)).append(" (flags ");
                if (cmd == 1) sb.append(Xlat.get("fdflags", arch).flags(r));
                else flags(sb, "open", r, "fcntl");
                sb.append(')');
                return;
            }
        }
        if (s != null && s.name().equals("time")) {
            sb.append(r).append(" (").append(Decode.time(r)).append(')');
            return;
        }
        switch (ret) {
            case "x" -> sb.append(Decode.hex(r));
            case "o" -> sb.append(Decode.octal(r));
            case "u" -> sb.append(Long.toUnsignedString(r));
            case "none" -> sb.append('?');
            default -> sb.append(r);
        }
        if (annotation != null && annotation != SKIP_REST) sb.append(' ').append(annotation);
        else if (r == 0 && s != null && (s.name().equals("poll") || s.name().equals("ppoll")
                || s.name().equals("select") || s.name().equals("pselect6"))) sb.append(" (Timeout)");
    }

    private String pollResult(Ctx c, long v) {
        byte[] b = Bytes.at(c.out, v);
        if (b == null || c.e.result() <= 0) return null;
        StringBuilder sb = new StringBuilder("([");
        boolean first = true;
        Xlat.Table t = Xlat.get("poll", arch);
        for (int off = 0; off + 8 <= b.length; off += 8) {
            int rev = Bytes.u16(b, off + 6);
            if (rev == 0) continue;
            if (!first) sb.append(", ");
            first = false;
            sb.append("{fd=").append(Bytes.i32(b, off)).append(", revents=").append(t.flags(rev)).append('}');
        }
        return sb.append("])").toString();
    }

    private String selectResult(Ctx c) {
        if (c.e.result() <= 0) return null;
        StringBuilder sb = new StringBuilder("(");
        String[] labels = {"in", "out", "except"};
        boolean first = true;
        for (int k = 0; k < 3; k++) {
            long p = c.a(1 + k);
            byte[] b = Bytes.at(c.out, p);
            if (b == null) continue;
            StringBuilder set = new StringBuilder();
            fdset(set, p, b, (int) c.a(0));
            if (set.toString().equals("[]")) continue;
            if (!first) sb.append(", ");
            first = false;
            sb.append(labels[k]).append(' ').append(set);
        }
        long tp = c.a(4);
        byte[] t = Bytes.at(c.out, tp);
        if (t != null) {
            if (!first) sb.append(", ");
            sb.append("left ");
            struct(sb, schemas.table().name(c.e.nr()).equals("select") ? "timeval" : "timespec", tp, t, c);
        }
        return sb.append(')').toString();
    }

    // ---------------------------------------------------------------- pieces

    private String dirfd(long v) {
        return (int) v == AtFlags.AT_FDCWD ? "AT_FDCWD" : Integer.toString((int) v);
    }

    private static String sig(int s) {
        return s == 0 ? "0" : Signals.name(s);
    }

    private void flags(StringBuilder sb, String table, long v, String syscall) {
        switch (table) {
            case "open" -> {
                int acc = (int) (v & 3);
                if (syscall.equals("dup3") || syscall.equals("pipe2") || syscall.equals("open_by_handle_at")) {
                    // these take only O_CLOEXEC-like flags: strace prints no access mode for them
                    long rest = v & ~3L;
                    if (rest == 0 && acc == 0) sb.append('0');
                    else Xlat.get("open", arch).appendFlags(sb, rest);
                    return;
                }
                sb.append(switch (acc) {
                    case 0 -> "O_RDONLY";
                    case 1 -> "O_WRONLY";
                    case 2 -> "O_RDWR";
                    default -> "O_ACCMODE";
                });
                appendMoreFlags(sb, Xlat.get("open", arch), v & ~3L);
            }
            case "socktype" -> {
                sb.append(Xlat.get("socktype", arch).enumName(v & 0xf));
                appendMoreFlags(sb, Xlat.get("sockflags", arch), v & ~0xfL);
            }
            case "clone" -> {
                int mark = sb.length();
                Xlat.get("clone", arch).appendFlags(sb, v & ~0xffL);
                if ((v & 0xff) != 0) {
                    if (sb.length() > mark) sb.append('|');
                    sb.append(sig((int) (v & 0xff)));
                }
                if (sb.length() == mark) sb.append('0');
            }
            case "access" -> {
                if (v == 0) sb.append("F_OK");
                else sb.append(Xlat.get("access", arch).flags(v));
            }
            default -> {
                Xlat.Table t = Xlat.get(table, arch);
                if (table.equals("at") && syscall.equals("statx")) {
                    // AT_STATX_SYNC_AS_STAT is 0: strace shows it explicitly
                    long sync = v & 0x6000;
                    sb.append(sync == 0 ? "AT_STATX_SYNC_AS_STAT" : sync == 0x2000 ? "AT_STATX_FORCE_SYNC"
                            : sync == 0x4000 ? "AT_STATX_DONT_SYNC" : "AT_STATX_SYNC_TYPE");
                    appendMoreFlags(sb, t, v & ~0x6000L);
                    return;
                }
                if (table.equals("statxmask") && (v & 0x7ff) != 0x7ff) {
                    // print the individual bits, not BASIC_STATS
                    sb.append(flagsWithout(t, v, "STATX_BASIC_STATS"));
                    return;
                }
                sb.append(t.flags(v));
            }
        }
    }

    private static String flagsWithout(Xlat.Table t, long v, String skip) {
        if (v == 0) return "0";
        StringBuilder sb = new StringBuilder();
        long rest = v;
        for (int i = 0; i < t.values.length && rest != 0; i++) {
            if (t.names[i].equals(skip)) continue;
            long f = t.values[i];
            if (f != 0 && (rest & f) == f) {
                if (!sb.isEmpty()) sb.append('|');
                sb.append(t.names[i]);
                rest &= ~f;
            }
        }
        if (rest != 0) sb.append(sb.isEmpty() ? "" : "|").append("0x").append(Long.toHexString(rest));
        return sb.toString();
    }

    private void enumArg(StringBuilder sb, String table, long v) {
        Xlat.Table t = Xlat.get(table, arch);
        long key = table.equals("rusage") || table.equals("clock") || table.equals("af") ? (int) v : v;
        sb.append(t.enumName(key));
    }

    private void path(StringBuilder sb, Ctx c, int i) {
        long v = c.a(i);
        byte[] b = Bytes.at(c.in, v);
        if (b == null) sb.append(Decode.ptr(v));
        else cstring(sb, b, MemoryCapture.PATH_MAX);
    }

    private void buffer(StringBuilder sb, List<MemoryBlock> blocks, long p, long len, boolean hex) {
        if (p == 0) {
            sb.append("NULL");
            return;
        }
        byte[] b = Bytes.at(blocks, p);
        if (b == null) {
            sb.append(Decode.ptr(p));
            return;
        }
        int n = (int) Math.min(b.length, Math.max(len, 0));
        quote(sb, b, 0, n, stringLimit, false, hex);
        if (n <= stringLimit && len > n && b.length < len) sb.append("...");
    }

    private void strv(StringBuilder sb, Ctx c, int i, boolean env) {
        long p = c.a(i);
        byte[] ptrs = Bytes.at(c.in, p);
        if (ptrs == null) {
            sb.append(Decode.ptr(p));
            return;
        }
        int count = 0;
        for (int off = 0; off + 8 <= ptrs.length && Bytes.i64(ptrs, off) != 0; off += 8) count++;
        if (env && c.abbrev) {
            sb.append(Decode.ptr(p)).append(" /* ").append(count).append(count == 1 ? " var */" : " vars */");
            return;
        }
        sb.append('[');
        for (int k = 0; k < count; k++) {
            if (k > 0) sb.append(", ");
            if (k >= stringLimit && c.abbrev) {
                sb.append("...");
                break;
            }
            long s = Bytes.i64(ptrs, k * 8);
            byte[] str = Bytes.at(c.in, s);
            if (str == null) sb.append(Decode.ptr(s));
            else cstring(sb, str, stringLimit);
        }
        sb.append(']');
    }

    private void sigset(StringBuilder sb, byte[] b, long p) {
        if (b == null) sb.append(Decode.ptr(p));
        else sb.append(Signals.mask(b, 0, b.length));
    }

    private static void cpuSet(StringBuilder sb, byte[] b) {
        sb.append('[');
        boolean first = true;
        for (int cpu = 0; cpu < b.length * 8; cpu++) {
            if ((b[cpu / 8] >> (cpu % 8) & 1) != 0) {
                if (!first) sb.append(' ');
                first = false;
                sb.append(cpu);
            }
        }
        sb.append(']');
    }

    private static void fdset(StringBuilder sb, long p, byte[] b, int nfds) {
        if (p == 0) {
            sb.append("NULL");
            return;
        }
        if (b == null) {
            sb.append(Decode.ptr(p));
            return;
        }
        sb.append('[');
        boolean first = true;
        for (int fd = 0; fd < Math.min(nfds, b.length * 8); fd++) {
            if ((b[fd / 8] >> (fd % 8) & 1) != 0) {
                if (!first) sb.append(' ');
                first = false;
                sb.append(fd);
            }
        }
        sb.append(']');
    }

    static String waitStatus(int s) {
        int sig = s & 0x7f;
        if (sig == 0) return "WIFEXITED(s) && WEXITSTATUS(s) == " + ((s >> 8) & 0xff);
        if (sig == 0x7f) return "WIFSTOPPED(s) && WSTOPSIG(s) == " + Signals.name((s >> 8) & 0xff)
                + ((s >> 16) != 0 ? " && s >> 16 == " + (s >> 16) : "");
        if (s == 0xffff) return "WIFCONTINUED(s)";
        return "WIFSIGNALED(s) && WTERMSIG(s) == " + Signals.name(sig) + ((s & 0x80) != 0 ? " && WCOREDUMP(s)" : "");
    }

    private void clone(StringBuilder sb, Ctx c) {
        long flags = c.a(0);
        boolean x86 = arch == Arch.X86_64;
        long stack = c.a(1);
        long ptid = c.a(2);
        long ctid = x86 ? c.a(3) : c.a(4);
        long tls = x86 ? c.a(4) : c.a(3);
        sb.append("child_stack=").append(Decode.ptr(stack)).append(", flags=");
        flags(sb, "clone", flags, "clone");
        if ((flags & (0x00100000L | 0x00001000L)) != 0) sb.append(", parent_tid=").append(Decode.ptr(ptid));
        if ((flags & (0x00200000L | 0x01000000L)) != 0) sb.append(", child_tidptr=").append(Decode.ptr(ctid));
        if ((flags & 0x00080000L) != 0) sb.append(", tls=").append(Decode.ptr(tls));
    }

    /** clone3's struct clone_args, after strace's SYS_FUNC(clone3); the child's tid at exit as parent_tid. */
    private void clone3(StringBuilder sb, Ctx c) {
        long p = c.a(0);
        long size = c.a(1);
        byte[] b = Bytes.at(c.in, p);
        if (b == null || size < 64 || b.length < 64) {
            sb.append(Decode.ptr(p)).append(", ").append(Long.toUnsignedString(size));
            return;
        }
        long flags = Bytes.i64(b, 0);
        long exitSignal = Bytes.i64(b, 32);
        sb.append("{flags=");
        Xlat.get("clone", arch).appendFlags(sb, flags);
        if (flags == 0) sb.append('0');
        if ((flags & 0x00001000L) != 0) sb.append(", pidfd=").append(Decode.ptr(Bytes.i64(b, 8)));
        if ((flags & (0x01000000L | 0x00200000L)) != 0) sb.append(", child_tid=").append(Decode.ptr(Bytes.i64(b, 16)));
        if ((flags & 0x00100000L) != 0) sb.append(", parent_tid=").append(Decode.ptr(Bytes.i64(b, 24)));
        sb.append(", exit_signal=");
        if (Long.compareUnsigned(exitSignal, Integer.MAX_VALUE) < 0) sb.append(sig((int) exitSignal));
        else sb.append(Long.toUnsignedString(exitSignal));
        sb.append(", stack=").append(Decode.ptr(Bytes.i64(b, 40))).append(", stack_size=")
                .append(Decode.hex(Bytes.i64(b, 48)));
        if ((flags & 0x00080000L) != 0) sb.append(", tls=").append(Decode.ptr(Bytes.i64(b, 56)));
        if (b.length >= 80) {
            long setTid = Bytes.i64(b, 64);
            long setTidSize = Bytes.i64(b, 72);
            if (setTid != 0 || setTidSize != 0) {
                sb.append(", set_tid=").append(Decode.ptr(setTid)).append(", set_tid_size=")
                        .append(Long.toUnsignedString(setTidSize));
            }
        }
        if (b.length >= 88 && (Bytes.i64(b, 80) != 0 || (flags & 0x200000000L) != 0)) {
            sb.append(", cgroup=").append(Long.toUnsignedString(Bytes.i64(b, 80)));
        }
        sb.append('}');
        // CLONE_PARENT_SETTID: the kernel stored the child's tid, which is also the result
        if (c.ok && (flags & 0x00100000L) != 0) sb.append(" => {parent_tid=[").append(c.e.result()).append("]}");
        sb.append(", ").append(Long.toUnsignedString(size));
    }

    private String ioctlName(long req) {
        String n = Ioctls.name(req);
        if (n != null) return n;
        int dir = Ioctls.dir(req);
        String d = switch (dir) {
            case 0 -> "_IOC_NONE";
            case 1 -> "_IOC_WRITE";
            case 2 -> "_IOC_READ";
            default -> "_IOC_READ|_IOC_WRITE";
        };
        return "_IOC(" + d + ", " + Decode.hex(Ioctls.type(req)) + ", " + Decode.hex(Ioctls.number(req)) + ", "
                + Decode.hex(Ioctls.size(req)) + ")";
    }

    private void ioctlArg(StringBuilder sb, Ctx c, long v) {
        long req = c.a(1);
        if (Ioctls.scalarArg(req)) {
            sb.append((int) v);
            return;
        }
        String n = Ioctls.name(req);
        byte[] out = c.ok ? Bytes.at(c.out, v) : null;
        byte[] in = Bytes.at(c.in, v);
        if (n != null) {
            switch (n) {
                case "TCGETS", "TCSETS", "TCSETSW", "TCSETSF", "TCGETS2", "TCSETS2", "TCSETSW2", "TCSETSF2" -> {
                    byte[] b = n.startsWith("TCGETS") ? out : in;
                    if (b != null && b.length >= 16) {
                        termios(sb, b, c.abbrev);
                        return;
                    }
                }
                case "TIOCGWINSZ", "TIOCSWINSZ" -> {
                    byte[] b = n.equals("TIOCGWINSZ") ? out : in;
                    if (b != null && b.length >= 8) {
                        sb.append("{ws_row=").append(Bytes.u16(b, 0)).append(", ws_col=").append(Bytes.u16(b, 2))
                                .append(", ws_xpixel=").append(Bytes.u16(b, 4)).append(", ws_ypixel=")
                                .append(Bytes.u16(b, 6)).append('}');
                        return;
                    }
                }
                default -> {
                    byte[] b = out != null ? out : in;
                    if (b != null && b.length == 4) {
                        sb.append('[').append(Bytes.i32(b, 0)).append(']');
                        return;
                    }
                }
            }
            sb.append(Decode.ptr(v));
            return;
        }
        sb.append(Decode.hex(v));   // an unknown request: strace prints the raw argument
    }

    /**
     * The flags of a struct termios, abbreviated as strace prints it by default: "{c_iflag=ICRNL|IXON,
     * c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|..., ...}".
     * Like strace 6.1, empty flag sets print nothing and c_oflag/c_cflag keep their trailing '|'.
     */
    private void termios(StringBuilder sb, byte[] b, boolean abbrev) {
        long iflag = Bytes.u32(b, 0);
        long oflag = Bytes.u32(b, 4);
        long cflag = Bytes.u32(b, 8);
        long lflag = Bytes.u32(b, 12);
        sb.append("{c_iflag=");
        Xlat.get("termiflag", arch).appendFlags(sb, iflag);
        sb.append(", c_oflag=");
        String[][] delays = {{"NL", "0400"}, {"CR", "03000"}, {"TAB", "014000"}, {"BS", "020000"}, {"VT", "040000"},
                {"FF", "0100000"}};
        for (String[] d : delays) {
            long mask = Long.parseLong(d[1], 8);
            long val = (oflag & mask) / Long.lowestOneBit(mask);
            sb.append(d[0]).append(val).append('|');
            oflag &= ~mask;
        }
        Xlat.get("termoflag", arch).appendFlags(sb, oflag);
        sb.append(", c_cflag=").append(baud(cflag & 010017));
        if ((cflag & 002003600000L) != 0) sb.append('|').append(baud((cflag & 002003600000L) >> 16)).append("<<IBSHIFT");
        sb.append("|CS").append(5 + ((cflag & 060) >> 4)).append('|');
        Xlat.get("termcflag", arch).appendFlags(sb, cflag & ~(010017L | 002003600000L | 060L));
        sb.append(", c_lflag=");
        Xlat.get("termlflag", arch).appendFlags(sb, lflag);
        if (abbrev || b.length < 17 + 19) {
            sb.append(", ...}");
            return;
        }
        // -v: the line discipline and the control characters, as strace's print_termios
        int line = b[16] & 0xff;
        sb.append(", c_line=").append(line == 0 ? "N_TTY" : Integer.toString(line)).append(", c_cc=[");
        String[] cc = {"VINTR", "VQUIT", "VERASE", "VKILL", "VEOF", "VTIME", "VMIN", "VSWTC", "VSTART", "VSTOP", "VSUSP",
                "VEOL", "VREPRINT", "VDISCARD", "VWERASE", "VLNEXT", "VEOL2"};
        for (int k = 0; k < 19; k++) {
            if (k > 0) sb.append(", ");
            sb.append('[').append(k < cc.length ? cc[k] : Integer.toString(k)).append("]=").append(Decode.hex(b[17 + k] & 0xff));
        }
        sb.append("]}");
    }

    private String baud(long v) {
        String n = Xlat.get("baud", arch).lookup(v);
        return n != null ? n : "B???";
    }

    private void fcntlArg(StringBuilder sb, Ctx c, long v) {
        int cmd = (int) c.a(1);
        switch (cmd) {
            case 2 -> sb.append(Xlat.get("fdflags", arch).flags(v));
            case 4 -> flags(sb, "open", v, "fcntl");
            case 10 -> sb.append(sig((int) v));
            case 5, 6, 7, 36, 37, 38 -> {
                byte[] b = cmd == 5 || cmd == 36 ? (c.ok ? Bytes.at(c.out, v) : null) : Bytes.at(c.in, v);
                if (b == null) b = Bytes.at(c.in, v);
                if (b == null || b.length < 32) {
                    sb.append(Decode.ptr(v));
                    return;
                }
                int type = Bytes.u16(b, 0);
                String tn = type == 0 ? "F_RDLCK" : type == 1 ? "F_WRLCK" : type == 2 ? "F_UNLCK" : Integer.toString(type);
                sb.append("{l_type=").append(tn).append(", l_whence=")
                        .append(Xlat.get("seek", arch).enumName(Bytes.u16(b, 2))).append(", l_start=")
                        .append(Bytes.i64(b, 8)).append(", l_len=").append(Bytes.i64(b, 16));
                if (cmd == 5 || cmd == 36) sb.append(", l_pid=").append(Bytes.i32(b, 24));
                sb.append('}');
            }
            default -> sb.append((int) v);
        }
    }

    private void futexOp(StringBuilder sb, int op) {
        int cmd = op & 127;
        String name = Xlat.get("futexop", arch).lookup(cmd);
        if (name == null) {
            sb.append(Decode.hex(op & 0xffffffffL));
            return;
        }
        sb.append(name);
        if ((op & 128) != 0) sb.append("_PRIVATE");
        if ((op & 256) != 0) sb.append("|FUTEX_CLOCK_REALTIME");
        int rest = op & ~(127 | 128 | 256);
        if (rest != 0) sb.append('|').append(Decode.hex(rest));
    }

    // ---------------------------------------------------------------- structs

    private void array(StringBuilder sb, String struct, long p, byte[] b) {
        if (p == 0) {
            sb.append("NULL");
            return;
        }
        if (b == null) {
            sb.append(Decode.ptr(p));
            return;
        }
        int size = Structs.size(struct, arch);
        sb.append('[');
        for (int off = 0, k = 0; off + size <= b.length; off += size, k++) {
            if (k > 0) sb.append(", ");
            if (k >= 1024) {
                sb.append("...");
                break;
            }
            switch (struct) {
                case "pollfd" -> sb.append("{fd=").append(Bytes.i32(b, off)).append(", events=")
                        .append(Xlat.get("poll", arch).flags(Bytes.u16(b, off + 4))).append('}');
                case "epoll_event" -> epollEvent(sb, b, off);
                case "u32", "int" -> sb.append(Bytes.i32(b, off));
                default -> sb.append("...");
            }
        }
        sb.append(']');
    }

    private void epollEvent(StringBuilder sb, byte[] b, int off) {
        long data = Bytes.i64(b, off + (arch == Arch.X86_64 ? 4 : 8));
        sb.append("{events=").append(Xlat.get("epoll", arch).flags(Bytes.u32(b, off))).append(", data={u32=")
                .append(Long.toUnsignedString(data & 0xffffffffL)).append(", u64=").append(Long.toUnsignedString(data))
                .append("}}");
    }

    private static void timespec(StringBuilder sb, byte[] b, int off, String frac) {
        sb.append("{tv_sec=").append(Bytes.i64(b, off)).append(", ").append(frac).append('=')
                .append(Bytes.i64(b, off + 8)).append('}');
    }

    /** Appends struct name at p from bytes b (null: not captured, shown as its address). */
    private void struct(StringBuilder sb, String name, long p, byte[] b, Ctx c) {
        if (p == 0) {
            sb.append("NULL");
            return;
        }
        if (b == null || (Structs.known(name) && b.length < Structs.size(name, arch) && !name.equals("cloneargs")
                && !name.equals("openhow"))) {
            sb.append(Decode.ptr(p));
            return;
        }
        switch (name) {
            case "timespec" -> timespec(sb, b, 0, "tv_nsec");
            case "timeval" -> timespec(sb, b, 0, "tv_usec");
            case "timespec2" -> {
                sb.append('[');
                timespec(sb, b, 0, "tv_nsec");
                sb.append(", ");
                timespec(sb, b, 16, "tv_nsec");
                sb.append(']');
            }
            case "timezone" -> sb.append("{tz_minuteswest=").append(Bytes.i32(b, 0)).append(", tz_dsttime=")
                    .append(Bytes.i32(b, 4)).append('}');
            case "itimerspec", "itimerval" -> {
                String frac = name.equals("itimerspec") ? "tv_nsec" : "tv_usec";
                sb.append("{it_interval=");
                timespec(sb, b, 0, frac);
                sb.append(", it_value=");
                timespec(sb, b, 16, frac);
                sb.append('}');
            }
            case "stat" -> {
                if (c.abbrev) stat(sb, b);
                else statFull(sb, b);
            }
            case "statx" -> {
                if (c.abbrev) {
                    sb.append("{stx_mask=").append(Xlat.get("statxmask", arch).flags(Bytes.u32(b, 0)))
                            .append(", stx_attributes=").append(Decode.hex(Bytes.i64(b, 8)))
                            .append(", stx_mode=").append(Decode.mode(Bytes.u16(b, 28), true))
                            .append(", stx_size=").append(Bytes.i64(b, 40)).append(", ...}");
                } else {
                    statxFull(sb, b);
                }
            }
            case "utsname" -> {
                String[] fields = {"sysname", "nodename", "release", "version", "machine", "domainname"};
                sb.append('{');
                for (int k = 0; k < (c.abbrev ? 2 : fields.length); k++) {
                    if (k > 0) sb.append(", ");
                    sb.append(fields[k]).append('=');
                    quote(sb, b, 65 * k, 65, Integer.MAX_VALUE, true, false);
                }
                sb.append(c.abbrev ? ", ...}" : "}");
            }
            case "rlimit" -> {
                String inf = schemas.table().name(c.e.nr()).equals("prlimit64") ? "RLIM64_INFINITY" : "RLIM_INFINITY";
                sb.append("{rlim_cur=").append(Decode.rlim(Bytes.i64(b, 0), inf)).append(", rlim_max=")
                        .append(Decode.rlim(Bytes.i64(b, 8), inf)).append('}');
            }
            case "sigaction" -> sigaction(sb, b);
            case "rusage" -> {
                sb.append("{ru_utime=");
                timespec(sb, b, 0, "tv_usec");
                sb.append(", ru_stime=");
                timespec(sb, b, 16, "tv_usec");
                if (c.abbrev) {
                    sb.append(", ...}");
                } else {
                    String[] longs = {"ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss", "ru_minflt", "ru_majflt", "ru_nswap",
                            "ru_inblock", "ru_oublock", "ru_msgsnd", "ru_msgrcv", "ru_nsignals", "ru_nvcsw", "ru_nivcsw"};
                    for (int k = 0; k < longs.length; k++) sb.append(", ").append(longs[k]).append('=').append(Bytes.i64(b, 32 + 8 * k));
                    sb.append('}');
                }
            }
            case "tms" -> sb.append("{tms_utime=").append(Bytes.i64(b, 0)).append(", tms_stime=").append(Bytes.i64(b, 8))
                    .append(", tms_cutime=").append(Bytes.i64(b, 16)).append(", tms_cstime=").append(Bytes.i64(b, 24))
                    .append('}');
            case "sysinfo" -> sb.append("{uptime=").append(Bytes.i64(b, 0)).append(", loads=[")
                    .append(Long.toUnsignedString(Bytes.i64(b, 8))).append(", ")
                    .append(Long.toUnsignedString(Bytes.i64(b, 16))).append(", ")
                    .append(Long.toUnsignedString(Bytes.i64(b, 24))).append("], totalram=")
                    .append(Long.toUnsignedString(Bytes.i64(b, 32))).append(", freeram=")
                    .append(Long.toUnsignedString(Bytes.i64(b, 40))).append(", sharedram=")
                    .append(Long.toUnsignedString(Bytes.i64(b, 48))).append(", bufferram=")
                    .append(Long.toUnsignedString(Bytes.i64(b, 56))).append(", totalswap=")
                    .append(Long.toUnsignedString(Bytes.i64(b, 64))).append(", freeswap=")
                    .append(Long.toUnsignedString(Bytes.i64(b, 72))).append(", procs=").append(Bytes.u16(b, 80))
                    .append(", totalhigh=").append(Long.toUnsignedString(Bytes.i64(b, 88))).append(", freehigh=")
                    .append(Long.toUnsignedString(Bytes.i64(b, 96))).append(", mem_unit=").append(Bytes.u32(b, 104))
                    .append('}');
            case "epoll_event" -> epollEvent(sb, b, 0);
            case "stack" -> sb.append("{ss_sp=").append(Decode.ptr(Bytes.i64(b, 0))).append(", ss_flags=")
                    .append(Bytes.i32(b, 8) == 0 ? "0" : Bytes.i32(b, 8) == 1 ? "SS_ONSTACK" : Bytes.i32(b, 8) == 2
                            ? "SS_DISABLE" : Decode.hex(Bytes.i32(b, 8)))
                    .append(", ss_size=").append(Long.toUnsignedString(Bytes.i64(b, 16))).append('}');
            case "int", "u32" -> sb.append('[').append(name.equals("int") ? Bytes.i32(b, 0) : Bytes.u32(b, 0)).append(']');
            case "long" -> sb.append('[').append(Bytes.i64(b, 0)).append(']');
            case "schedparam" -> sb.append("[").append(Bytes.i32(b, 0)).append(']');
            case "siginfo" -> siginfo(sb, b);
            case "sigsetpack" -> {
                long set = Bytes.i64(b, 0);
                long len = Bytes.i64(b, 8);
                sb.append('{');
                byte[] mask = Bytes.at(c.in, set);
                if (set == 0) sb.append("NULL");
                else if (mask == null) sb.append(Decode.ptr(set));
                else sb.append(Signals.mask(mask, 0, mask.length));
                sb.append(", ").append(len).append('}');
            }
            default -> sb.append(Decode.ptr(p));
        }
    }

    private void stat(StringBuilder sb, byte[] b) {
        boolean x86 = arch == Arch.X86_64;
        long mode = Bytes.u32(b, x86 ? 24 : 16);
        long rdev = Bytes.i64(b, x86 ? 40 : 32);
        long size = Bytes.i64(b, 48);
        sb.append("{st_mode=").append(Decode.mode(mode, true));
        long type = mode & 0170000;
        if (type == 0020000 || type == 0060000) sb.append(", st_rdev=").append(Decode.dev(rdev));
        else sb.append(", st_size=").append(size);
        sb.append(", ...}");
    }

    /** -v: every member of struct stat, as strace's print_struct_stat without abbreviation. */
    private void statFull(StringBuilder sb, byte[] b) {
        boolean x86 = arch == Arch.X86_64;
        long mode = Bytes.u32(b, x86 ? 24 : 16);
        long nlink = x86 ? Bytes.i64(b, 16) : Bytes.u32(b, 20);
        long rdev = Bytes.i64(b, x86 ? 40 : 32);
        sb.append("{st_dev=").append(Decode.dev(Bytes.i64(b, 0))).append(", st_ino=").append(Long.toUnsignedString(Bytes.i64(b, 8)))
                .append(", st_mode=").append(Decode.mode(mode, true)).append(", st_nlink=").append(Long.toUnsignedString(nlink))
                .append(", st_uid=").append(Bytes.u32(b, x86 ? 28 : 24)).append(", st_gid=").append(Bytes.u32(b, x86 ? 32 : 28))
                .append(", st_blksize=").append(x86 ? Bytes.i64(b, 56) : Bytes.i32(b, 56))
                .append(", st_blocks=").append(Bytes.i64(b, 64));
        long type = mode & 0170000;
        if (type == 0020000 || type == 0060000) sb.append(", st_rdev=").append(Decode.dev(rdev));
        else sb.append(", st_size=").append(Bytes.i64(b, 48));
        String[] times = {"st_atime", "st_mtime", "st_ctime"};
        for (int k = 0; k < 3; k++) {
            long sec = Bytes.i64(b, 72 + 16 * k);
            long nsec = Bytes.i64(b, 80 + 16 * k);
            sb.append(", ").append(times[k]).append('=').append(sec).append(" /* ").append(Decode.time(sec, nsec)).append(" */, ")
                    .append(times[k]).append("_nsec=").append(nsec);
        }
        sb.append('}');
    }

    /** -v: every member of struct statx, as strace prints it without abbreviation. */
    private void statxFull(StringBuilder sb, byte[] b) {
        sb.append("{stx_mask=").append(Xlat.get("statxmask", arch).flags(Bytes.u32(b, 0)))
                .append(", stx_blksize=").append(Bytes.u32(b, 4))
                .append(", stx_attributes=").append(Xlat.get("statxattr", arch).flags(Bytes.i64(b, 8)))
                .append(", stx_nlink=").append(Bytes.u32(b, 16)).append(", stx_uid=").append(Bytes.u32(b, 20))
                .append(", stx_gid=").append(Bytes.u32(b, 24)).append(", stx_mode=").append(Decode.mode(Bytes.u16(b, 28), true))
                .append(", stx_ino=").append(Long.toUnsignedString(Bytes.i64(b, 32)))
                .append(", stx_size=").append(Long.toUnsignedString(Bytes.i64(b, 40)))
                .append(", stx_blocks=").append(Long.toUnsignedString(Bytes.i64(b, 48)))
                .append(", stx_attributes_mask=").append(Xlat.get("statxattr", arch).flags(Bytes.i64(b, 56)));
        String[] times = {"stx_atime", "stx_btime", "stx_ctime", "stx_mtime"};
        for (int k = 0; k < 4; k++) {
            long sec = Bytes.i64(b, 64 + 16 * k);
            long nsec = Bytes.u32(b, 72 + 16 * k);
            sb.append(", ").append(times[k]).append("={tv_sec=").append(sec).append(", tv_nsec=").append(nsec).append('}');
            if (sec != 0 || nsec != 0) sb.append(" /* ").append(Decode.time(sec, nsec)).append(" */");
        }
        sb.append(", stx_rdev_major=").append(Bytes.u32(b, 128)).append(", stx_rdev_minor=").append(Bytes.u32(b, 132))
                .append(", stx_dev_major=").append(Bytes.u32(b, 136)).append(", stx_dev_minor=").append(Bytes.u32(b, 140));
        if ((Bytes.u32(b, 0) & 0x1000) != 0) sb.append(", stx_mnt_id=").append(Decode.hex(Bytes.i64(b, 144)));
        sb.append('}');
    }

    private void sigaction(StringBuilder sb, byte[] b) {
        long handler = Bytes.i64(b, 0);
        long flags = Bytes.i64(b, 8);
        long restorer = Bytes.i64(b, 16);
        sb.append("{sa_handler=").append(handler == 0 ? "SIG_DFL" : handler == 1 ? "SIG_IGN" : Decode.ptr(handler))
                .append(", sa_mask=").append(Signals.mask(b, 24, 8)).append(", sa_flags=")
                .append(Xlat.get("saflags", arch).flags(flags));
        if ((flags & 0x04000000L) != 0) sb.append(", sa_restorer=").append(Decode.ptr(restorer));
        sb.append('}');
    }

    private void sockaddr(StringBuilder sb, long p, byte[] b, int len) {
        if (p == 0) {
            sb.append("NULL");
            return;
        }
        if (b == null || b.length < 2) {
            sb.append(Decode.ptr(p));
            return;
        }
        int n = Math.min(len, b.length);
        int family = Bytes.u16(b, 0);
        sb.append("{sa_family=").append(Xlat.get("af", arch).enumName(family));
        switch (family) {
            case 1 -> {
                if (n > 2) {
                    sb.append(", sun_path=");
                    if (b[2] == 0 && n > 3) {
                        sb.append('@');
                        quote(sb, b, 3, n - 3, Integer.MAX_VALUE, false, false);
                    } else {
                        quote(sb, b, 2, n - 2, Integer.MAX_VALUE, true, false);
                    }
                }
            }
            case 2 -> {
                if (n >= 8) {
                    sb.append(", sin_port=htons(").append((b[2] & 0xff) << 8 | (b[3] & 0xff)).append("), sin_addr=inet_addr(\"")
                            .append(b[4] & 0xff).append('.').append(b[5] & 0xff).append('.').append(b[6] & 0xff)
                            .append('.').append(b[7] & 0xff).append("\")");
                }
            }
            case 10 -> {
                if (n >= 24) {
                    sb.append(", sin6_port=htons(").append((b[2] & 0xff) << 8 | (b[3] & 0xff)).append("), sin6_flowinfo=htonl(")
                            .append(Integer.reverseBytes(Bytes.i32(b, 4)) & 0xffffffffL).append("), inet_pton(AF_INET6, \"")
                            .append(inet6(b, 8)).append("\", &sin6_addr)");
                    if (n >= 28) sb.append(", sin6_scope_id=").append(Bytes.u32(b, 24));
                }
            }
            default -> {
                if (n > 2) {
                    sb.append(", sa_data=");
                    quote(sb, b, 2, n - 2, stringLimit, false, false);
                }
            }
        }
        sb.append('}');
    }

    private static String inet6(byte[] b, int off) {
        try {
            byte[] a = java.util.Arrays.copyOfRange(b, off, off + 16);
            String s = java.net.InetAddress.getByAddress(a).getHostAddress();
            // Java prints the long form; strace prints the compressed one
            return compress6(a, s);
        } catch (java.net.UnknownHostException e) {
            return "?";
        }
    }

    private static String compress6(byte[] a, String fallback) {
        int[] w = new int[8];
        for (int i = 0; i < 8; i++) w[i] = (a[2 * i] & 0xff) << 8 | (a[2 * i + 1] & 0xff);
        if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0xffff) {
            return "::ffff:" + (a[12] & 0xff) + "." + (a[13] & 0xff) + "." + (a[14] & 0xff) + "." + (a[15] & 0xff);
        }
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (w[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && w[j] == 0) j++;
            if (j - i > bestLen && j - i >= 2) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (!sb.isEmpty() && sb.charAt(sb.length() - 1) != ':') sb.append(':');
            sb.append(Integer.toHexString(w[i]));
        }
        return sb.isEmpty() ? fallback : sb.toString();
    }

    private void iovec(StringBuilder sb, Ctx c, long p, int count, List<MemoryBlock> data, long filled) {
        byte[] iov = Bytes.at(c.in, p);
        if (p == 0) {
            sb.append("NULL");
            return;
        }
        if (iov == null) {
            sb.append(Decode.ptr(p));
            return;
        }
        boolean ok = filled >= 0 || data == c.in;
        long left = filled;
        sb.append('[');
        for (int k = 0; k < count && (k + 1) * 16 <= iov.length; k++) {
            if (k > 0) sb.append(", ");
            long base = Bytes.i64(iov, k * 16);
            long len = Bytes.i64(iov, k * 16 + 8);
            sb.append("{iov_base=");
            long show = data == c.in ? len : Math.min(len, Math.max(left, 0));
            byte[] b = ok && (data == c.in || c.ok) ? Bytes.at(data, base) : null;
            if (b == null || (data != c.in && show <= 0 && !c.ok)) sb.append(Decode.ptr(base));
            else if (data != c.in && show <= 0) sb.append("\"\"");
            else buffer(sb, data, base, show, false);
            sb.append(", iov_len=").append(Long.toUnsignedString(len)).append('}');
            if (data != c.in) left -= show;
        }
        sb.append(']');
    }

    private void msghdr(StringBuilder sb, Ctx c, long p, boolean recv) {
        byte[] h = recv && c.ok ? Bytes.at(c.out, p) : null;
        byte[] entry = Bytes.at(c.in, p);
        if (h == null) h = entry;
        if (h == null || h.length < 56 || (recv && !c.ok)) {
            sb.append(Decode.ptr(p));
            return;
        }
        long name = Bytes.i64(h, 0);
        int nameLen = Bytes.i32(h, 8);
        long iov = Bytes.i64(h, 16);
        long iovLen = Bytes.i64(h, 24);
        long ctl = Bytes.i64(h, 32);
        long ctlLen = Bytes.i64(h, 40);
        int flags = Bytes.i32(h, 48);
        List<MemoryBlock> data = recv ? c.out : c.in;
        sb.append("{msg_name=");
        if (name == 0) sb.append("NULL");
        else sockaddr(sb, name, Bytes.at(data, name), nameLen);
        sb.append(", msg_namelen=").append(nameLen).append(", msg_iov=");
        iovec(sb, c, iov, (int) Math.min(iovLen, MemoryCapture.MAX_IOV), data, recv ? c.e.result() : -1);
        sb.append(", msg_iovlen=").append(iovLen);
        if (ctlLen > 0) {
            sb.append(", msg_control=");
            cmsgs(sb, ctl, Bytes.at(data, ctl), ctlLen);
        }
        sb.append(", msg_controllen=").append(ctlLen).append(", msg_flags=")
                .append(Xlat.get("msg", arch).flags(flags & 0xffffffffL)).append('}');
    }

    /** Control messages: "[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[6]}]". */
    private void cmsgs(StringBuilder sb, long p, byte[] b, long controlLen) {
        final int hdr = 16;   // struct cmsghdr on a 64-bit ABI: len (8), level, type
        if (b == null || controlLen < hdr) {
            sb.append(Decode.ptr(p));
            return;
        }
        int left = (int) Math.min(b.length, controlLen);
        int off = 0;
        sb.append('[');
        while (left >= hdr) {
            long len = Bytes.i64(b, off);
            int level = Bytes.i32(b, off + 8);
            int type = Bytes.i32(b, off + 12);
            if (off > 0) sb.append(", ");
            sb.append("{cmsg_len=").append(Long.toUnsignedString(len)).append(", cmsg_level=")
                    .append(Xlat.get("sollevel", arch).enumName(level)).append(", cmsg_type=");
            long seen = Long.compareUnsigned(len, left) > 0 ? left : len;
            int dataLen = (int) Math.max(0, seen - hdr);
            if (level == 1) {
                sb.append(Xlat.get("scm", arch).enumName(type));
                cmsgData(sb, type, b, off + hdr, dataLen);
            } else {
                sb.append(Decode.hex(type & 0xffffffffL));
            }
            sb.append('}');
            if (Long.compareUnsigned(len, hdr) < 0) {
                left -= hdr;
                break;
            }
            long step = (len + 7) & ~7L;
            if (Long.compareUnsigned(step, left) >= 0) {
                left = 0;
                break;
            }
            off += (int) step;
            left -= (int) step;
        }
        if (left > 0) sb.append(", ... /* ").append(Decode.ptr(p + off)).append(" */");
        sb.append(']');
    }

    private void cmsgData(StringBuilder sb, int type, byte[] b, int off, int len) {
        switch (type) {
            case 1 -> {   // SCM_RIGHTS: descriptors
                if (len < 4) return;
                sb.append(", cmsg_data=[");
                for (int k = 0; k + 4 <= len; k += 4) {
                    if (k > 0) sb.append(", ");
                    sb.append(Bytes.i32(b, off + k));
                }
                sb.append(']');
            }
            case 2 -> {   // SCM_CREDENTIALS: struct ucred
                if (len < 12) return;
                sb.append(", cmsg_data={pid=").append(Bytes.i32(b, off)).append(", uid=").append(Bytes.u32(b, off + 4))
                        .append(", gid=").append(Bytes.u32(b, off + 8)).append('}');
            }
            case 3 -> {   // SCM_SECURITY: a context string
                if (len < 1) return;
                sb.append(", cmsg_data=");
                quote(sb, b, off, len, stringLimit, false, false);
            }
            default -> {
            }
        }
    }

    // ================================================================ signals and exits

    /** "--- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=42, si_uid=0} ---". */
    public String renderSignal(SignalEvent e) {
        StringBuilder sb = new StringBuilder("--- ").append(Signals.name(e.signo())).append(' ');
        byte[] si = e.siginfo();
        try {
            if (si.length >= 48) siginfo(sb, si);
            else siginfoFields(sb, e.signo(), e.code(), e.senderPid(), e.senderUid());
        } catch (RuntimeException ex) {
            sb.append("{si_signo=").append(Signals.name(e.signo())).append('}');
        }
        return sb.append(" ---").toString();
    }

    private void siginfoFields(StringBuilder sb, int signo, int code, int pid, int uid) {
        sb.append("{si_signo=").append(Signals.name(signo)).append(", si_code=").append(siCode(signo, code))
                .append(", si_pid=").append(pid).append(", si_uid=").append(uid).append('}');
    }

    private String siCode(int signo, int code) {
        String n = null;
        if (code > 0 && code < 0x80) {
            String table = switch (signo) {
                case 17 -> "cldcode";
                case 11 -> "segvcode";
                case 7 -> "buscode";
                case 8 -> "fpecode";
                case 4 -> "illcode";
                case 5 -> "trapcode";
                case 29 -> "pollcode";
                default -> null;
            };
            if (table != null) n = Xlat.get(table, arch).lookup(code);
        }
        if (n == null) n = Xlat.get("sicode", arch).lookup(code);
        return n != null ? n : Integer.toString(code);
    }

    private void siginfo(StringBuilder sb, byte[] b) {
        int signo = Bytes.i32(b, 0);
        int errno = Bytes.i32(b, 4);
        int code = Bytes.i32(b, 8);
        sb.append("{si_signo=").append(Signals.name(signo)).append(", si_code=").append(siCode(signo, code));
        if (errno != 0) sb.append(", si_errno=").append(Errno.name(errno));
        if (code <= 0 || code == 0x80) {
            if (code == -2) { // SI_TIMER
                sb.append(", si_timerid=").append(Decode.hex(Bytes.u32(b, 16))).append(", si_overrun=")
                        .append(Bytes.i32(b, 20));
            } else if (code != 0x80) {
                sb.append(", si_pid=").append(Bytes.i32(b, 16)).append(", si_uid=").append(Bytes.u32(b, 20));
                if (code == -1 || code == -3) {
                    sb.append(", si_int=").append(Bytes.i32(b, 24)).append(", si_ptr=").append(Decode.ptr(Bytes.i64(b, 24)));
                }
            }
        } else if (signo == 17) {
            sb.append(", si_pid=").append(Bytes.i32(b, 16)).append(", si_uid=").append(Bytes.u32(b, 20))
                    .append(", si_status=");
            int status = Bytes.i32(b, 24);
            if (code == 1) sb.append(status);
            else sb.append(Signals.name(status));
            sb.append(", si_utime=");
            clockTicks(sb, Bytes.i64(b, 32));
            sb.append(", si_stime=");
            clockTicks(sb, Bytes.i64(b, 40));
        } else if (signo == 11 || signo == 7 || signo == 8 || signo == 4 || signo == 5) {
            sb.append(", si_addr=").append(Decode.ptr(Bytes.i64(b, 16)));
        } else if (signo == 29) {
            sb.append(", si_band=").append(Bytes.i64(b, 16)).append(", si_fd=").append(Bytes.i32(b, 24));
        }
        sb.append('}');
    }

    /** A clock_t count: "150 /* 1.50 s *&#47;" (USER_HZ is 100 on Linux), a bare 0. */
    private static void clockTicks(StringBuilder sb, long ticks) {
        sb.append(ticks);
        if (ticks > 0) sb.append(" /* ").append(ticks / 100).append('.').append(String.format("%02d", ticks % 100)).append(" s */");
    }

    /** "+++ exited with 0 +++" / "+++ killed by SIGKILL +++" / "+++ killed by SIGSEGV (core dumped) +++". */
    public String renderExit(ExitEvent e) {
        if (e.killed()) {
            return "+++ killed by " + Signals.name(e.termSignal()) + (e.coreDumped() ? " (core dumped)" : "") + " +++";
        }
        return "+++ exited with " + e.exitCode() + " +++";
    }

    /** After a symbol already written: "|" and the flags of {@code rest}, if any (no doubled "|"). */
    private static void appendMoreFlags(StringBuilder sb, Xlat.Table table, long rest) {
        if (rest == 0) return;
        sb.append('|');
        int mark = sb.length();
        table.appendFlags(sb, rest);
        if (sb.length() > mark && sb.charAt(mark) == '|') sb.deleteCharAt(mark);
    }
}
