package dev.deja.device.syscall;

import java.util.OptionalInt;

/** Signal names as strace prints them (the same numbering on x86_64 and aarch64). */
public final class Signals {

    private static final String[] NAMES = {null, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
        "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
        "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM",
        "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"};

    /** The kernel's number of signals: masks cover 1..64. */
    static final int NSIG = 64;

    private Signals() {
    }

    /** "SIGINT"; "SIGRTMIN", "SIGRT_1".. "SIGRT_32" for real-time signals; the number otherwise. */
    public static String name(int signo) {
        if (signo > 0 && signo < NAMES.length) return NAMES[signo];
        if (signo == 32) return "SIGRTMIN";
        if (signo > 32 && signo <= NSIG) return "SIGRT_" + (signo - 32);
        return Integer.toString(signo);
    }

    public static OptionalInt number(String name) {
        String n = name.startsWith("SIG") ? name : "SIG" + name;
        for (int i = 1; i < NAMES.length; i++) if (NAMES[i].equals(n)) return OptionalInt.of(i);
        if (n.equals("SIGRTMIN")) return OptionalInt.of(32);
        if (n.equals("SIGIOT")) return OptionalInt.of(6);
        if (n.equals("SIGPOLL")) return OptionalInt.of(29);
        if (n.equals("SIGCLD")) return OptionalInt.of(17);
        if (n.startsWith("SIGRT_")) {
            try {
                int k = Integer.parseInt(n.substring(6));
                if (k >= 1 && k <= 32) return OptionalInt.of(32 + k);
            } catch (NumberFormatException e) {
                return OptionalInt.empty();
            }
        }
        return OptionalInt.empty();
    }

    /**
     * A signal mask as strace prints it: "[INT TERM]", "[]", or the complement "~[RTMIN RT_1]"
     * when more than half of the signals are set.
     */
    public static String mask(byte[] b, int off, int len) {
        int bits = Math.min(len * 8, NSIG);
        int count = 0;
        for (int s = 1; s <= bits; s++) if (bit(b, off, s)) count++;
        boolean invert = count > bits / 2;
        StringBuilder sb = new StringBuilder(invert ? "~[" : "[");
        boolean first = true;
        for (int s = 1; s <= bits; s++) {
            if (bit(b, off, s) == invert) continue;
            if (!first) sb.append(' ');
            first = false;
            String n = name(s);
            sb.append(n.startsWith("SIG") ? n.substring(3) : n);
        }
        return sb.append(']').toString();
    }

    private static boolean bit(byte[] b, int off, int signo) {
        int i = signo - 1;
        return (b[off + i / 8] >> (i % 8) & 1) != 0;
    }
}
