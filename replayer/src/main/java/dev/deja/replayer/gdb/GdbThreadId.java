package dev.deja.replayer.gdb;

/**
 * A thread id of gdb's remote protocol: {@code TID} or, with the multiprocess extension,
 * {@code pPID.TID} (hex), where {@code -1} means every one and {@code 0} any one.
 *
 * @param pid the process, or {@link #ALL} when the id names none
 * @param tid the thread, or {@link #ALL} / {@link #ANY}
 */
record GdbThreadId(long pid, long tid) {
    static final long ALL = -1;
    static final long ANY = 0;

    /** Parses {@code TID}, {@code -1}, {@code pPID}, {@code pPID.TID}, {@code pPID.-1}; IllegalArgumentException otherwise. */
    static GdbThreadId parse(String id) {
        if (id.startsWith("p")) {
            String[] parts = id.substring(1).split("\\.", -1);
            if (parts.length > 2) throw new IllegalArgumentException("not a thread id: " + id);
            return new GdbThreadId(number(parts[0], id), parts.length == 2 ? number(parts[1], id) : ALL);
        }
        return new GdbThreadId(ALL, number(id, id));
    }

    private static long number(String s, String id) {
        if (s.equals("-1")) return ALL;
        if (s.isEmpty() || s.length() > 8) throw new IllegalArgumentException("not a thread id: " + id);
        for (int i = 0; i < s.length(); i++) {
            if (Character.digit(s.charAt(i), 16) < 0) throw new IllegalArgumentException("not a thread id: " + id);
        }
        return Long.parseLong(s, 16);
    }

    /** Whether this id names (or includes) thread {@code t} of process {@code p}. */
    boolean matches(int p, int t) {
        return (pid == ALL || pid == ANY || pid == p) && (tid == ALL || tid == ANY || tid == t);
    }

    /** Whether it names one thread (neither "all" nor "any"). */
    boolean single() {
        return tid != ALL && tid != ANY;
    }

    /** Thread {@code t} of process {@code p} as gdb is told it: {@code pPID.TID} once gdb took the multiprocess extension. */
    static String format(int p, int t, boolean multiprocess) {
        return multiprocess ? "p" + Integer.toHexString(p) + "." + Integer.toHexString(t) : Integer.toHexString(t);
    }
}
