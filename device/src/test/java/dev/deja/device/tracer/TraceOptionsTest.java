package dev.deja.device.tracer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import org.junit.jupiter.api.Test;

/** strace's -e trace= and -e inject= syntax. */
class TraceOptionsTest {
    private static final SyscallTable T = SyscallTable.of(Arch.X86_64);

    private static int nr(String name) {
        return T.number(name).orElseThrow();
    }

    @Test
    void setsOfNamesClassesRegexesAndComplements() {
        SyscallSet s = SyscallSet.parse("open,openat", T);
        assertTrue(s.contains(nr("openat")));
        assertFalse(s.contains(nr("read")));
        SyscallSet file = SyscallSet.parse("%file", T);
        assertTrue(file.contains(nr("openat")) && file.contains(nr("newfstatat")) && file.contains(nr("execve")));
        assertFalse(file.contains(nr("read")));
        assertTrue(SyscallSet.parse("%net", T).contains(nr("connect")));
        assertTrue(SyscallSet.parse("%desc", T).contains(nr("close")));
        assertTrue(SyscallSet.parse("%process", T).contains(nr("clone")));
        assertTrue(SyscallSet.parse("%signal", T).contains(nr("rt_sigaction")));
        assertTrue(SyscallSet.parse("%memory", T).contains(nr("mmap")));
        SyscallSet not = SyscallSet.parse("!write", T);
        assertFalse(not.contains(nr("write")));
        assertTrue(not.contains(nr("read")));
        assertTrue(SyscallSet.parse("/^clock_", T).contains(nr("clock_gettime")));
        assertTrue(SyscallSet.parse("all", T).contains(nr("getpid")));
        assertTrue(SyscallSet.parse("none", T).isEmpty());
        assertFalse(SyscallSet.parse("?nosuchcall,read", T).contains(nr("write")));
        assertThrows(IllegalArgumentException.class, () -> SyscallSet.parse("nosuchcall", T));
        assertThrows(IllegalArgumentException.class, () -> SyscallSet.parse("%nosuchclass", T));
        assertThrows(IllegalArgumentException.class, () -> SyscallSet.parse("/(", T));
        assertThrows(IllegalArgumentException.class, () -> SyscallSet.parse("read,,write", T));
    }

    @Test
    void injectRulesInStraceSyntax() {
        InjectRule r = InjectRule.parse("openat:error=ENOENT:when=3", false, T);
        assertEquals(2, r.errno());
        assertNull(r.retval());
        assertFalse(r.hits(2));
        assertTrue(r.hits(3));
        assertFalse(r.hits(4));
        InjectRule plus = InjectRule.parse("write:retval=42:when=2+", false, T);
        assertEquals(42L, plus.retval());
        assertFalse(plus.hits(1));
        assertTrue(plus.hits(2) && plus.hits(3) && plus.hits(100));
        InjectRule step = InjectRule.parse("read:error=EIO:when=2+3", false, T);
        assertTrue(step.hits(2) && step.hits(5) && step.hits(8));
        assertFalse(step.hits(3) || step.hits(4) || step.hits(1));
        InjectRule range = InjectRule.parse("read,write:error=5:when=2..4", false, T);
        assertTrue(range.set().contains(nr("write")));
        assertTrue(range.hits(2) && range.hits(4));
        assertFalse(range.hits(1) || range.hits(5));
        InjectRule sig = InjectRule.parse("getpid:signal=SIGUSR1", false, T);
        assertEquals(10, sig.signal());
        assertFalse(sig.skips());
        assertTrue(sig.hits(1) && sig.hits(7));
        InjectRule delay = InjectRule.parse("nanosleep:delay_enter=1000:delay_exit=20", false, T);
        assertEquals(1000, delay.delayEnterUs());
        assertEquals(20, delay.delayExitUs());
        assertEquals(38, InjectRule.parse("getpid", true, T).errno());
        for (String bad : new String[]{"openat", "openat:error=EWHAT", "openat:when=0:error=EIO", "openat:error=EIO:when=x",
                "openat:error=EIO:retval=1", "openat:colour=red", ":error=EIO", "openat:error=EIO:when=4..2",
                "openat:signal=SIGWHAT", "openat:delay_enter=-1"}) {
            assertThrows(IllegalArgumentException.class, () -> InjectRule.parse(bad, false, T), bad);
        }
    }

    @Test
    void linesArePaddedToStracesColumnWithTheirPrefix() {
        String r = "brk(NULL)" + " ".repeat(30) + " = 0x5555";
        assertEquals("brk(NULL)" + " ".repeat(30) + " = 0x5555", StraceTracer.repad(r, 0));
        assertEquals("brk(NULL)" + " ".repeat(24) + " = 0x5555", StraceTracer.repad(r, 6));
        String longCall = "openat(AT_FDCWD, \"/a/very/long/path/name/x\", O_RDONLY) = 3";
        assertEquals(longCall, StraceTracer.repad(longCall, 16));
        assertEquals("exit_group(0) = ?", StraceTracer.repad("exit_group(0)" + " ".repeat(26) + " = ?", 39));
    }
}
