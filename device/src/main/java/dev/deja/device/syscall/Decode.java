package dev.deja.device.syscall;

/** Formatting helpers shared by the renderer, after strace's printers; they degrade, never throw. */
final class Decode {

    private Decode() {
    }

    // ---------------------------------------------------------------- argument-dependent sizes

    /** FUTEX_WAIT, FUTEX_LOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_LOCK_PI2 take a timespec. */
    static boolean futexHasTimeout(int op) {
        int cmd = op & 127;
        return cmd == 0 || cmd == 6 || cmd == 9 || cmd == 11 || cmd == 13;
    }

    /** Bytes fcntl's third argument points at for cmd (struct flock, f_owner_ex), else 0. */
    static int fcntlArgSize(int cmd) {
        return switch (cmd) {
            case 5, 6, 7, 36, 37, 38 -> 32; // F_GETLK, F_SETLK, F_SETLKW, F_OFD_*: struct flock
            case 15, 16 -> 8;               // F_SETOWN_EX, F_GETOWN_EX
            case 17 -> 8;                   // F_GETOWNER_UIDS
            default -> 0;
        };
    }

    static boolean fcntlWrites(int cmd) {
        return cmd == 5 || cmd == 36 || cmd == 16 || cmd == 17;
    }

    // ---------------------------------------------------------------- strings

    /**
     * Quotes bytes the way strace does: printable ASCII as is, \t \n \v \f \r \" \\ escaped, other
     * bytes in octal (three digits when a digit follows). Stops at the first NUL when
     * {@code nulTerminated}; appends "..." after the quote when cut at {@code limit}.
     */
    static void quote(StringBuilder sb, byte[] b, int off, int len, int limit, boolean nulTerminated, boolean hex) {
        int end = off + len;
        if (nulTerminated) {
            for (int i = off; i < end; i++) {
                if (b[i] == 0) {
                    end = i;
                    break;
                }
            }
        }
        int shown = Math.min(end - off, Math.max(limit, 0));
        sb.append('"');
        for (int i = off; i < off + shown; i++) {
            int c = b[i] & 0xff;
            if (hex) {
                sb.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
                continue;
            }
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\t' -> sb.append("\\t");
                case '\n' -> sb.append("\\n");
                case 0x0b -> sb.append("\\v");
                case '\f' -> sb.append("\\f");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c >= 0x20 && c < 0x7f) {
                        sb.append((char) c);
                    } else {
                        boolean digitNext = i + 1 < off + shown && b[i + 1] >= '0' && b[i + 1] <= '7';
                        sb.append('\\');
                        if (digitNext || c >= 0100) {
                            sb.append((char) ('0' + (c >> 6))).append((char) ('0' + ((c >> 3) & 7)))
                                    .append((char) ('0' + (c & 7)));
                        } else if (c >= 010) {
                            sb.append((char) ('0' + (c >> 3))).append((char) ('0' + (c & 7)));
                        } else {
                            sb.append((char) ('0' + c));
                        }
                    }
                }
            }
        }
        sb.append('"');
        if (shown < end - off) sb.append("...");
    }

    /** A captured NUL-terminated string: "..." appended when it was cut (no NUL captured) or longer than limit. */
    static void cstring(StringBuilder sb, byte[] b, int limit) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        boolean terminated = n < b.length;
        quote(sb, b, 0, n, limit, false, false);
        if (!terminated && n <= limit) sb.append("...");
    }

    // ---------------------------------------------------------------- numbers

    static String hex(long v) {
        return v == 0 ? "0" : "0x" + Long.toHexString(v);
    }

    /** Seconds since the epoch as strace's sprinttime prints them: "2026-11-28T22:48:18+0000", local time. */
    static String time(long epochSeconds) {
        try {
            return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssxx")
                    .format(java.time.Instant.ofEpochSecond(epochSeconds).atZone(java.time.ZoneId.systemDefault()));
        } catch (java.time.DateTimeException e) {
            return Long.toString(epochSeconds);
        }
    }

    /** As {@link #time(long)} with the nanoseconds when there are any: "2026-12-02T18:13:26.309882904+0000". */
    static String time(long epochSeconds, long nanos) {
        String t = time(epochSeconds);
        if (nanos <= 0 || nanos >= 1_000_000_000L || t.length() < 5) return t;
        int zone = t.length() - 5;   // "+0000"
        return t.substring(0, zone) + String.format(".%09d", nanos) + t.substring(zone);
    }

    static String ptr(long v) {
        return v == 0 ? "NULL" : "0x" + Long.toHexString(v);
    }

    static String octal(long v) {
        return v == 0 ? "0" : "0" + Long.toOctalString(v);
    }

    /** A file mode: "0644", or with a file type "S_IFREG|0644". */
    static String mode(long m, boolean withType) {
        StringBuilder sb = new StringBuilder();
        if (withType) {
            String type = switch ((int) (m & 0170000)) {
                case 0140000 -> "S_IFSOCK";
                case 0120000 -> "S_IFLNK";
                case 0100000 -> "S_IFREG";
                case 0060000 -> "S_IFBLK";
                case 0040000 -> "S_IFDIR";
                case 0020000 -> "S_IFCHR";
                case 0010000 -> "S_IFIFO";
                default -> null;
            };
            if (type != null) {
                sb.append(type).append('|');
                m &= ~0170000L;
            }
        }
        long special = m & 07000;
        if ((special & 04000) != 0) sb.append("S_ISUID|");
        if ((special & 02000) != 0) sb.append("S_ISGID|");
        if ((special & 01000) != 0) sb.append("S_ISVTX|");
        m &= ~07000L;
        sb.append(String.format("%#03o", m));
        return sb.toString();
    }

    /** makedev(0x1, 0x3) from a Linux dev_t. */
    static String dev(long d) {
        long major = ((d >>> 32) & 0xfffff000L) | ((d >>> 8) & 0xfff);
        long minor = ((d >>> 12) & 0xffffff00L) | (d & 0xff);
        return "makedev(" + hex(major) + ", " + hex(minor) + ")";
    }

    /** An rlimit value: RLIM64_INFINITY, N*1024 when divisible, else N. */
    static String rlim(long v, String infinity) {
        if (v == -1) return infinity;
        if (v != 0 && v % 1024 == 0) return Long.toUnsignedString(v / 1024) + "*1024";
        return Long.toUnsignedString(v);
    }
}
