package dev.deja.cli.debug;

import dev.deja.device.Tracee;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A call seen from its exit ({@code finish}, {@code break NAME exit}): the thread's result register
 * and, for each output the recording holds, the bytes now in the program's memory at that place,
 * read back live, so what the replay wrote is shown, not only what the recording says.
 */
final class CallExit {
    /** Calls that never come back to the thread that made them. */
    static final Set<String> NEVER_RETURN = Set.of("exit", "exit_group");
    private static final int SHOWN = 256;
    private static final int RAX = Debugger.REGISTERS.indexOf("rax");

    private CallExit() {
    }

    /**
     * A breakpoint's text without its {@code exit} word ({@code break read fd=3 exit if arg2 > 9}), or
     * the text itself when it has none. The word counts after the first one only: first, {@code exit}
     * is the exit syscall.
     */
    static String withoutExitWord(String spec) {
        int cond = (" " + spec + " ").indexOf(" if ");
        String terms = cond < 0 ? spec : spec.substring(0, Math.max(0, cond - 1));
        String[] words = terms.strip().split("\\s+");
        boolean atExit = false;
        StringBuilder kept = new StringBuilder();
        for (int i = 0; i < words.length; i++) {
            if (i > 0 && words[i].equals("exit")) atExit = true;
            else kept.append(kept.isEmpty() ? "" : " ").append(words[i]);
        }
        return atExit ? kept + (cond < 0 ? "" : " " + spec.substring(cond)) : spec;
    }

    /** Runs on the tracing thread, the thread held at {@code e}'s exit. */
    static List<String> describe(Tracee t, SyscallEvent e) {
        List<String> lines = new ArrayList<>();
        long rax = t.registers()[RAX];
        lines.add(String.format(Locale.ROOT, "  rax       0x%x (%d)%s", rax, rax,
                rax == e.result() ? " = the recorded result" : ", the recording says " + e.result()));
        if (e.outputs().isEmpty()) {
            lines.add("  outputs   none: the call wrote no memory");
            return lines;
        }
        for (MemoryBlock b : e.outputs()) {
            byte[] want = b.data();
            byte[] now = new byte[want.length];
            int got = Math.max(0, t.memory().read(b.address(), now, 0, now.length));
            boolean same = got == want.length && Arrays.equals(now, want);
            lines.add(String.format(Locale.ROOT, "  output arg%d at 0x%x, %d bytes, in memory now%s", b.arg(), b.address(), want.length,
                    same ? " (as recorded)" : got < want.length ? " (only " + got + " readable)" : " (differs from the recording)"));
            lines.addAll(hex(Arrays.copyOf(now, got)));
        }
        return lines;
    }

    /** The recorded outputs only (offline: nothing runs). */
    static List<String> recorded(SyscallEvent e) {
        List<String> lines = new ArrayList<>();
        if (e.outputs().isEmpty()) lines.add("  outputs   none: the call wrote no memory");
        for (MemoryBlock b : e.outputs()) {
            lines.add(String.format(Locale.ROOT, "  output arg%d at 0x%x, %d bytes, as recorded", b.arg(), b.address(), b.data().length));
            lines.addAll(hex(b.data()));
        }
        return lines;
    }

    private static List<String> hex(byte[] d) {
        List<String> lines = new ArrayList<>();
        for (int off = 0; off < Math.min(d.length, SHOWN); off += 16) {
            StringBuilder h = new StringBuilder();
            StringBuilder a = new StringBuilder();
            for (int i = 0; i < 16; i++) {
                if (off + i < d.length) {
                    int v = d[off + i] & 0xff;
                    h.append(String.format(Locale.ROOT, "%02x ", v));
                    a.append(v >= 32 && v < 127 ? (char) v : '.');
                } else {
                    h.append("   ");
                }
                if (i == 7) h.append(' ');
            }
            lines.add(String.format(Locale.ROOT, "    %04x  %s |%s|", off, h, a));
        }
        if (d.length > SHOWN) lines.add("    ... (" + (d.length - SHOWN) + " more bytes)");
        return lines;
    }
}
