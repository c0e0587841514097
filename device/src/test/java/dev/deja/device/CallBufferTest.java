package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Schemas;
import dev.deja.device.x86.BufferStub;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The call buffer's plans, derived from the syscall schemas: what each buffered call keeps and when it may be buffered. */
class CallBufferTest {
    private static final Schemas SCHEMAS = Schemas.of(Arch.X86_64);
    private static final Map<Integer, BufferStub.Plan> PLANS = CallBuffer.plans(SCHEMAS);

    private static BufferStub.Plan plan(String name) {
        return PLANS.get(SCHEMAS.table().number(name).orElseThrow());
    }

    @Test
    void everyCallListedHasAPlanAndNoOtherDoes() {
        for (String name : CallBuffer.CALLS) assertTrue(plan(name) != null, name);
        assertEquals(CallBuffer.CALLS.size(), PLANS.size());
        for (String name : List.of("ioctl", "readv", "writev", "recvfrom", "execve", "clone", "wait4", "futex",
                "nanosleep", "poll", "dup2", "pipe2")) {
            assertNull(PLANS.get(SCHEMAS.table().number(name).orElseThrow()), name);
        }
    }

    @Test
    void readsAndWritesKeepTheResultsLengthOfTheirBufferOnAMarkedDescriptor() {
        BufferStub.Plan read = plan("read");
        assertEquals(1, read.outArg());
        assertEquals(2, read.countArg());
        assertEquals(0, read.outFixed());
        assertTrue(read.fdChecked());
        assertFalse(read.outIsInput());
        BufferStub.Plan write = plan("write");
        assertEquals(1, write.outArg());
        assertTrue(write.outIsInput(), "a write's data is its input");
        assertTrue(write.fdChecked());
        assertTrue(plan("pread64").fdChecked());
        assertTrue(plan("pwrite64").outIsInput());
        BufferStub.Plan close = plan("close");
        assertTrue(close.fdChecked() && close.clearsFd());
        assertFalse(plan("getdents64").fdChecked(), "a directory never waits");
        assertEquals(1, plan("getdents64").outArg());
    }

    @Test
    void statsKeepTheirPathAndTheWholeStruct() {
        BufferStub.Plan stat = plan("newfstatat");
        assertEquals(1, stat.pathArg());
        assertEquals(2, stat.outArg());
        assertEquals(144, stat.outFixed());
        assertEquals(4, plan("statx").outArg());
        assertEquals(256, plan("statx").outFixed());
        assertEquals(0, plan("access").pathArg());
        assertEquals(-1, plan("access").outArg());
        assertEquals(2, plan("readlinkat").outArg());
        assertEquals(3, plan("readlinkat").countArg());
        assertEquals(0, plan("uname").outArg());
        assertTrue(plan("uname").outFixed() > 0);
        BufferStub.Plan pid = plan("getpid");
        assertEquals(-1, pid.pathArg());
        assertEquals(-1, pid.outArg());
    }

    @Test
    void opensAndFcntlAreBufferedOnlyWhereTheyCannotWait() {
        BufferStub.Plan openat = plan("openat");
        assertEquals(1, openat.pathArg());
        assertEquals(2, openat.flagArg());
        assertEquals(04000 | 0200000, openat.anyFlags(), "O_NONBLOCK or O_DIRECTORY");
        assertTrue(openat.marksFd());
        assertEquals(1, plan("open").flagArg());
        BufferStub.Plan fcntl = plan("fcntl");
        assertEquals(1, fcntl.valueArg());
        assertEquals(List.of(1L, 2L, 3L), fcntl.values(), "F_GETFD, F_SETFD, F_GETFL");
        assertEquals(-1, fcntl.outArg());
    }

    @Test
    void noPlanUsesTheSixthArgumentWhichCarriesTheMarkerButMmapsWhoseMarkerIsInTheDescriptorsHighHalf() {
        for (BufferStub.Plan p : PLANS.values()) {
            assertTrue(p.pathArg() < 5 && p.outArg() < 5 && p.countArg() < 5 && p.valueArg() < 5 && p.flagArg() < 5, p.toString());
            if (p.mapsPrivately()) continue;
            assertTrue(SCHEMAS.get(p.nr()).argCount() <= 5, p.toString());
        }
        BufferStub.Plan mmap = plan("mmap");
        assertTrue(mmap.mapsPrivately());
        assertEquals(6, SCHEMAS.get(mmap.nr()).argCount());
        assertEquals(-1, mmap.pathArg());
        assertEquals(-1, mmap.outArg());
        assertEquals(-1, mmap.inArg());
    }

    @Test
    void signalActionsAndLimitsKeepTheStructTheyAreGivenAndTheOneTheyGiveBack() {
        BufferStub.Plan sigaction = plan("rt_sigaction");
        assertEquals(1, sigaction.inArg());
        assertEquals(32, sigaction.inFixed());
        assertEquals(2, sigaction.outArg());
        assertEquals(32, sigaction.outFixed());
        assertEquals(3, sigaction.valueArg(), "only with the kernel's sigset size: another fails before the action is read");
        assertEquals(List.of(8L), sigaction.values());
        BufferStub.Plan prlimit = plan("prlimit64");
        assertEquals(2, prlimit.inArg());
        assertEquals(16, prlimit.inFixed());
        assertEquals(3, prlimit.outArg());
        assertNull(PLANS.get(SCHEMAS.table().number("rt_sigprocmask").orElseThrow()),
                "a mask a held signal's mask would change under it");
        BufferStub.Plan openat = plan("openat");
        assertTrue(openat.marksFd() && openat.flagArg() == 2 && openat.pathArg() == 1, "an open stats its path first");
    }

    private static final String MAPS_A = """
            555555554000-555555556000 r--p 00000000 fe:01 1001                       /usr/bin/cc1
            7ffff7d80000-7ffff7da8000 r--p 00000000 fe:01 2002                       /usr/lib/x86_64-linux-gnu/libc.so.6
            7ffff7da8000-7ffff7f30000 r-xp 00028000 fe:01 2002                       /usr/lib/x86_64-linux-gnu/libc.so.6
            7ffff7ff0000-7ffff7ff2000 rw-p 00000000 00:00 0
            """;
    /** Another process: libc elsewhere (another program's mappings before it), the same file. */
    private static final String MAPS_B = """
            555555554000-555555556000 r--p 00000000 fe:01 3003                       /usr/bin/as
            7ffff7d00000-7ffff7d28000 r--p 00000000 fe:01 2002                       /usr/lib/x86_64-linux-gnu/libc.so.6
            7ffff7d28000-7ffff7eb0000 r-xp 00028000 fe:01 2002                       /usr/lib/x86_64-linux-gnu/libc.so.6
            7ffff7ff0000-7ffff7ff2000 rw-p 00000000 00:00 0
            """;

    @Test
    void aSiteOneProcessPatchedIsNotedInTheNextProcessOfTheSameFileAtItsOwnAddress() {
        CallBuffer.KnownSites known = new CallBuffer.KnownSites();
        int read = SCHEMAS.table().number("read").orElseThrow();
        int close = SCHEMAS.table().number("close").orElseThrow();
        long readSite = 0x7ffff7e00010L;
        known.learned(new CallBuffer.KnownSites.Maps(MAPS_A), readSite, new AheadAnswers.Function(0x7ffff7e00000L, new byte[32], null), List.of(read));
        known.learned(new CallBuffer.KnownSites.Maps(MAPS_A), 0x7ffff7ff0100L, new AheadAnswers.Function(0x7ffff7ff0000L, new byte[8], null), List.of(close));

        CallBuffer b = CallBuffer.unmapped();
        long closeSiteB = 0x7ffff7d30040L;
        b.saw(close, closeSiteB, PLANS, known, () -> MAPS_B);
        long readSiteB = readSite - 0x7ffff7da8000L + 0x7ffff7d28000L;
        assertEquals(Map.of(closeSiteB, new java.util.TreeSet<>(List.of(close)), readSiteB, new java.util.TreeSet<>(List.of(read))),
                b.seen, "the read site of libc at the same file offset; the anonymous one not");
        assertTrue(b.wantsPatching());
        AheadAnswers.Function f = known.function(new CallBuffer.KnownSites.Maps(MAPS_B), readSiteB);
        assertEquals(0x7ffff7e00000L - 0x7ffff7da8000L + 0x7ffff7d28000L, f.start());
        assertNull(known.function(new CallBuffer.KnownSites.Maps(MAPS_B), closeSiteB), "no function known there");

        CallBuffer other = CallBuffer.unmapped();
        other.saw(close, 0x555555554100L, PLANS, known, () -> MAPS_B);
        assertEquals(List.of(0x555555554100L), List.copyOf(other.seen.keySet()), "a file no process patched in");
        assertFalse(known.function(new CallBuffer.KnownSites.Maps(MAPS_A), 0x7ffff7da7000L) != null);
    }

    @Test
    void aStubBuiltOnceIsTheSameForTheSameCodeAtTheSamePlaces() throws Exception {
        CallBuffer.KnownSites known = new CallBuffer.KnownSites();
        byte[] read = {(byte) 0xb8, 0, 0, 0, 0, 0x0f, 0x05, (byte) 0xc3}; // mov eax, 0; syscall; ret
        List<BufferStub.Plan> plan = List.of(PLANS.get(SCHEMAS.table().number("read").orElseThrow()));
        long fn = 0x7ffff7e00000L;
        long code = 0x7ffff7000000L;
        long data = code + 64 * 4096L;
        BufferStub first = known.stub(read, fn, fn + 5, code, data, plan, 0x1234_5678_9abc_def1L);
        assertSame(first, known.stub(read.clone(), fn, fn + 5, code, data, plan, 0x1234_5678_9abc_def1L),
                "the next process of the program: the same stub");
        assertArrayEquals(BufferStub.build(read, fn, fn + 5, code, data, plan, 0x1234_5678_9abc_def1L).code(), first.code());
        assertNotSame(first, known.stub(read, fn, fn + 5, code + 4096, data, plan, 0x1234_5678_9abc_def1L), "another page");
        byte[] other = read.clone();
        other[1] = 1; // write
        assertNotSame(first, known.stub(other, fn, fn + 5, code, data, plan, 0x1234_5678_9abc_def1L), "other code");
        assertNotSame(first, known.stub(read, fn, fn + 5, code, data, plan, 0x1234_5678_9abc_def2L), "another marker");
    }
}
