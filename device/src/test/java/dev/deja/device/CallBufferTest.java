package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
        for (String name : List.of("mmap", "ioctl", "readv", "writev", "recvfrom", "execve", "clone", "wait4", "futex",
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
    void noPlanUsesTheSixthArgumentWhichCarriesTheMarker() {
        for (BufferStub.Plan p : PLANS.values()) {
            assertTrue(p.pathArg() < 5 && p.outArg() < 5 && p.countArg() < 5 && p.valueArg() < 5 && p.flagArg() < 5, p.toString());
            assertTrue(SCHEMAS.get(p.nr()).argCount() <= 5, p.toString());
        }
    }
}
