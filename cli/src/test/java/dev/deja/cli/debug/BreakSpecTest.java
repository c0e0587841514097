package dev.deja.cli.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BreakSpecTest {
    private final Timeline t = Events.timeline();

    /** The event numbers of the stops a breakpoint matches. */
    private List<Long> hits(String spec) {
        BreakSpec b = BreakSpec.parse(spec, t);
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) if (b.test(t, i)) out.add(t.stop(i).seq());
        return out;
    }

    @Test
    void syscallNamesSetsAndClasses() {
        assertEquals(List.of(3L, 4L, 5L), hits("openat"));
        assertEquals(List.of(3L, 4L, 5L, 6L), hits("openat,read"));
        assertEquals(List.of(2L, 14L), hits("execve"));
        assertEquals(List.of(16L, 19L), hits("/^exit"));
        assertTrue(hits("%process").containsAll(List.of(2L, 12L, 14L, 16L, 19L)), hits("%process").toString());
        assertEquals(List.of(), hits("socket"));
    }

    @Test
    void terms() {
        assertEquals(List.of(3L, 4L), hits("path=*.conf"));
        assertEquals(List.of(3L), hits("openat path=/etc/app.*"));
        assertEquals(List.of(4L), hits("path=/etc/[m]issing.conf"));
        assertEquals(List.of(3L, 4L), hits("path=/etc/???*.conf"));
        assertEquals(List.of(5L), hits("fd=3"));
        assertEquals(List.of(6L, 10L, 11L), hits("fd=4"));
        assertEquals(List.of(5L), hits("result=4"));
        assertEquals(List.of(10L), hits("result=10"));
        assertEquals(List.of(4L), hits("result=-1"));
        assertEquals(List.of(4L), hits("errno=ENOENT"));
        assertEquals(List.of(4L), hits("errno=2"));
        assertEquals(List.of(), hits("errno=EACCES"));
        assertEquals(List.of(14L, 16L), hits("pid=200"));
        assertEquals(List.of(14L, 16L), hits("tid=200"));
        assertEquals(List.of(8L), hits("signal=SIGUSR1"));
        assertEquals(List.of(8L), hits("signal=usr1"));
        assertEquals(List.of(8L), hits("signal=10"));
        assertEquals(List.of(3L), hits("event=3"));
        assertEquals(List.of(8L), hits("event=7")); // a signal's number: the first call at or after it
    }

    @Test
    void combinationsAndConditions() {
        assertEquals(List.of(4L), hits("openat errno=ENOENT path=*.conf"));
        assertEquals(List.of(), hits("read errno=ENOENT"));
        assertEquals(List.of(6L), hits("read if arg2 == 64 && result > 0"));
        assertEquals(List.of(6L), hits("read if arg2 == 0x40 and result >= 5"));
        assertEquals(List.of(5L, 6L), hits("if result == 4 || result == 5"));
        assertEquals(List.of(5L, 6L), hits("if result == 4 or result == 5"));
        assertEquals(List.of(4L), hits("openat if result < 0"));
        assertEquals(List.of(3L, 5L), hits("openat if result != -2 && arg0 != 1"));
        assertEquals(List.of(16L), hits("exit_group if arg0 == 7"));
        assertEquals(List.of(16L, 19L), hits("if nr == 231"));
        assertEquals(List.of(18L, 19L), hits("if event > 17"));
        assertEquals(List.of(2L, 3L), hits("pid=100 if event <= 3"));
        assertEquals(List.of(14L), hits("if pid == 200 && tid == 200 && nr != 231"));
    }

    @Test
    void mistakesAreNamed() {
        assertEquals("break needs what to stop at, e.g. 'break openat path=*.conf'",
                assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("  ", t)).getMessage());
        assertEquals("unknown syscall 'nosuch'", assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("nosuch", t)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("%nosuch", t)).getMessage()
                .startsWith("unknown syscall class '%nosuch'"));
        assertEquals("'read': syscalls come first, then key=value terms",
                assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("fd=3 read", t)).getMessage());
        assertEquals("'fd=' needs a value", assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("fd=", t)).getMessage());
        assertEquals("fd: 'x' is not a number", assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("fd=x", t)).getMessage());
        assertEquals("signal: unknown signal 'SIGNOPE'", assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("signal=SIGNOPE", t)).getMessage());
        assertEquals("'if' needs a condition, e.g. 'if arg0 == 3'", assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("read if", t)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("read if arg0 = 3", t)).getMessage()
                .startsWith("bad condition 'arg0 = 3'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BreakSpec.parse("uid=0", t)).getMessage()
                .startsWith("unknown breakpoint term 'uid='"));
    }

    @Test
    void globs() {
        assertTrue(Glob.regex("*.conf").matcher("/etc/app.conf").matches());
        assertFalse(Glob.regex("*.conf").matcher("/etc/app.conf.bak").matches());
        assertTrue(Glob.regex("/etc/?pp.conf").matcher("/etc/app.conf").matches());
        assertTrue(Glob.regex("/etc/[a-c]pp.conf").matcher("/etc/bpp.conf").matches());
        assertFalse(Glob.regex("/etc/[!a-c]pp.conf").matcher("/etc/bpp.conf").matches());
        assertTrue(Glob.regex("a+b(c)").matcher("a+b(c)").matches(), "regex characters are literal");
        assertTrue(Glob.regex("[unclosed").matcher("[unclosed").matches());
        assertFalse(Glob.regex("/etc/*").matcher("/var/etc/x").matches());
    }
}
