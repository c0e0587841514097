package dev.deja.device.syscall;

import java.util.HashMap;
import java.util.Map;

/**
 * ioctl requests: the {@code _IOC} encoding (direction, type, number, size; the same on x86_64 and
 * aarch64) and explicit schemas for the known requests, most of which predate {@code _IOC} and
 * say nothing in their number.
 */
public final class Ioctls {

    public static final int IOC_NONE = 0;
    /** userspace writes, the kernel reads: an input */
    public static final int IOC_WRITE = 1;
    /** the kernel writes: an output */
    public static final int IOC_READ = 2;

    /** A known request: its name and the bytes the kernel reads and writes through the argument. */
    record Known(String name, int request, int in, int out, boolean scalarArg) {
    }

    private static final Map<Integer, Known> KNOWN = new HashMap<>();

    private static void k(String name, int request, int in, int out) {
        KNOWN.put(request, new Known(name, request, in, out, false));
    }

    /** A request whose third argument is a value, not a pointer. */
    private static void v(String name, int request) {
        KNOWN.put(request, new Known(name, request, 0, 0, true));
    }

    static {
        k("TCGETS", 0x5401, 0, 36);
        k("TCSETS", 0x5402, 36, 0);
        k("TCSETSW", 0x5403, 36, 0);
        k("TCSETSF", 0x5404, 36, 0);
        v("TCSBRK", 0x5409);
        v("TCXONC", 0x540A);
        v("TCFLSH", 0x540B);
        k("TIOCEXCL", 0x540C, 0, 0);
        k("TIOCNXCL", 0x540D, 0, 0);
        v("TIOCSCTTY", 0x540E);
        k("TIOCGPGRP", 0x540F, 0, 4);
        k("TIOCSPGRP", 0x5410, 4, 0);
        k("TIOCOUTQ", 0x5411, 0, 4);
        k("TIOCSTI", 0x5412, 1, 0);
        k("TIOCGWINSZ", 0x5413, 0, 8);
        k("TIOCSWINSZ", 0x5414, 8, 0);
        k("TIOCMGET", 0x5415, 0, 4);
        k("TIOCMBIS", 0x5416, 4, 0);
        k("TIOCMBIC", 0x5417, 4, 0);
        k("TIOCMSET", 0x5418, 4, 0);
        k("FIONREAD", 0x541B, 0, 4);
        k("TIOCPKT", 0x5420, 4, 0);
        k("FIONBIO", 0x5421, 4, 0);
        k("TIOCNOTTY", 0x5422, 0, 0);
        k("TIOCSETD", 0x5423, 4, 0);
        k("TIOCGETD", 0x5424, 0, 4);
        k("TIOCSBRK", 0x5427, 0, 0);
        k("TIOCCBRK", 0x5428, 0, 0);
        k("TIOCGSID", 0x5429, 0, 4);
        k("TCGETS2", 0x802C542A, 0, 44);
        k("TCSETS2", 0x402C542B, 44, 0);
        k("TIOCGPTN", 0x80045430, 0, 4);
        k("TIOCSPTLCK", 0x40045431, 4, 0);
        v("TIOCGPTPEER", 0x5441);
        k("FIONCLEX", 0x5450, 0, 0);
        k("FIOCLEX", 0x5451, 0, 0);
        k("FIOASYNC", 0x5452, 4, 0);
        k("FIOQSIZE", 0x5460, 0, 8);
        k("FIOGETOWN", 0x8903, 0, 4);
        k("FIOSETOWN", 0x8901, 4, 0);
        k("SIOCGIFNAME", 0x8910, 40, 40);
        k("SIOCGIFCONF", 0x8912, 16, 16);
        k("SIOCGIFFLAGS", 0x8913, 40, 40);
        k("SIOCGIFADDR", 0x8915, 40, 40);
        k("SIOCGIFMTU", 0x8921, 40, 40);
        k("SIOCGIFHWADDR", 0x8927, 40, 40);
        k("SIOCGIFINDEX", 0x8933, 40, 40);
        k("FS_IOC_GETFLAGS", 0x80086601, 0, 8);
        k("FS_IOC_SETFLAGS", 0x40086602, 8, 0);
        k("BLKGETSIZE64", 0x80081272, 0, 8);
        k("RNDGETENTCNT", 0x80045200, 0, 4);
        k("FICLONE", 0x40049409, 0, 0);
        k("PERF_EVENT_IOC_ENABLE", 0x2400, 0, 0);
        k("PERF_EVENT_IOC_DISABLE", 0x2401, 0, 0);
    }

    private Ioctls() {
    }

    public static int dir(long request) {
        return (int) (request >>> 30) & 3;
    }

    public static int type(long request) {
        return (int) (request >>> 8) & 0xff;
    }

    public static int number(long request) {
        return (int) request & 0xff;
    }

    public static int size(long request) {
        return (int) (request >>> 16) & 0x3fff;
    }

    static Known known(long request) {
        return KNOWN.get((int) request);
    }

    /** The known request's name, or null. */
    public static String name(long request) {
        Known k = KNOWN.get((int) request);
        return k == null ? null : k.name();
    }

    /** Bytes the kernel reads through the argument (captured at entry). */
    public static int inputSize(long request) {
        Known k = KNOWN.get((int) request);
        if (k != null) return k.in();
        return (dir(request) & IOC_WRITE) != 0 ? size(request) : 0;
    }

    /** Bytes the kernel writes through the argument (captured at exit). */
    public static int outputSize(long request) {
        Known k = KNOWN.get((int) request);
        if (k != null) return k.out();
        return (dir(request) & IOC_READ) != 0 ? size(request) : 0;
    }

    /** True when deja cannot tell what the kernel writes: an unknown request whose direction says nothing. */
    public static boolean unknownWrites(long request) {
        return KNOWN.get((int) request) == null && dir(request) == IOC_NONE;
    }

    /** True when the third argument is a plain value. */
    static boolean scalarArg(long request) {
        Known k = KNOWN.get((int) request);
        return k != null ? k.scalarArg() : false;
    }
}
