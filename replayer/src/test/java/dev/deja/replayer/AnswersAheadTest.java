package dev.deja.replayer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Schemas;
import dev.deja.device.x86.AnswerStub;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which recorded calls replay answers ahead, and the answers it gives the stub, on events shaped as the
 * recorder writes them: the scalar arguments compared and the pointers not, inputs and outputs placed
 * relative to their arguments, a path with its NUL, and the calls left to their stops.
 */
class AnswersAheadTest {
    private static final Schemas SCHEMAS = Schemas.of(Arch.X86_64);
    private static final AnswersAhead AHEAD = new AnswersAhead(SCHEMAS);
    private static final long BUF = 0x7fffffffd000L;
    private static final long PATH = 0x555555556004L;

    private static SyscallEvent call(String name, List<MemoryBlock> inputs, long result, List<MemoryBlock> outputs, int flags,
                                     long... args) {
        long[] six = new long[6];
        System.arraycopy(args, 0, six, 0, args.length);
        return new SyscallEvent(7, 100, 100, 1, 2, SCHEMAS.table().number(name).orElseThrow(), six, inputs, result, outputs,
                flags);
    }

    private static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }

    @Test
    void anIdCallIsAnsweredByItsNumberAlone() {
        AnswerStub.Entry e = AHEAD.entry(call("getppid", List.of(), 4242, List.of(), 0));
        assertNotNull(e);
        assertEquals(0, e.compared());
        assertEquals(4242, e.result());
        assertEquals(List.of(), e.outputs());
    }

    @Test
    void aReadComparesItsDescriptorAndCountNotItsBufferAndWritesWhatTheKernelWrote() {
        byte[] data = "hello".getBytes(StandardCharsets.US_ASCII);
        AnswerStub.Entry e = AHEAD.entry(call("read", List.of(), 5, List.of(new MemoryBlock(1, BUF, data)), 0, 3, BUF, 64));
        assertNotNull(e);
        assertEquals(0b101, e.compared());
        assertEquals(1, e.outputs().size());
        assertEquals(1, e.outputs().getFirst().arg());
        assertEquals(0, e.outputs().getFirst().offset());
        assertArrayEquals(data, e.outputs().getFirst().data());
    }

    @Test
    void aLimitQueryIsAnsweredWithItsNullNewLimitComparedAndASetIsNot() {
        byte[] limit = new byte[16];
        AnswerStub.Entry q = AHEAD.entry(call("prlimit64", List.of(), 0, List.of(new MemoryBlock(3, BUF, limit)), 0, 0, 3, 0, BUF));
        assertNotNull(q);
        assertEquals(0b111, q.compared(), "pid, resource, and the new limit's pointer (null): a call that sets one is not this");
        assertEquals(0, q.args()[2]);
        assertFalse(q.performed());
        // A new limit is set for real, at its stop
        assertNull(AHEAD.entry(call("prlimit64", List.of(new MemoryBlock(2, PATH, limit)), 0, List.of(new MemoryBlock(3, BUF, limit)),
                0, 0, 3, PATH, BUF)));
        assertNotNull(AHEAD.entry(call("getrlimit", List.of(), 0, List.of(new MemoryBlock(1, BUF, limit)), 0, 3, BUF)));
    }

    @Test
    void aMappingIsMadeWithItsOwnArgumentsAndAFailedOneIsAnsweredAsRecorded() {
        long at = 0x7ffff7fb2000L;
        SyscallEvent m = call("mmap", List.of(), at, List.of(), 0, 0, 16400, 1, 0x802, 3, 0);
        long[] own = {at, 16400, 1, 0x802 | 0x100000, 7, 0};
        AnswerStub.Entry e = AHEAD.mapping(m, own);
        assertNotNull(e);
        assertTrue(e.performed());
        assertArrayEquals(own, e.call());
        assertEquals(0b111110, e.compared(), "all but the address, a hint");
        assertEquals(at, e.result());
        assertNull(AHEAD.mapping(m, null), "a mapping that succeeded is made, not answered");
        SyscallEvent failed = call("mmap", List.of(), -12, List.of(), 0, 0, 1L << 40, 3, 0x22, -1, 0);
        AnswerStub.Entry f = AHEAD.mapping(failed, null);
        assertNotNull(f);
        assertFalse(f.performed());
        assertEquals(-12, f.result());
        assertNull(AHEAD.mapping(failed, own), "a failed one is not made again");
        assertNull(AHEAD.entry(m), "not among the plain answers");
    }

    @Test
    void anOutputInsideAStructIsPlacedFromItsArgument() {
        AnswerStub.Entry e = AHEAD.entry(call("fstat", List.of(), 0, List.of(new MemoryBlock(1, BUF + 48, new byte[8])), 0,
                3, BUF));
        assertNotNull(e);
        assertEquals(48, e.outputs().getFirst().offset());
    }

    @Test
    void aPathIsComparedWithItsNul() {
        byte[] path = cString("/etc/passwd");
        AnswerStub.Entry e = AHEAD.entry(call("newfstatat", List.of(new MemoryBlock(1, PATH, path)), 0,
                List.of(new MemoryBlock(2, BUF, new byte[144])), 0, -100, PATH, BUF, 0));
        assertNotNull(e);
        assertEquals(0b1001, e.compared(), "dirfd and flags; not the path's address nor the buffer's");
        assertArrayEquals(path, e.inputs().getFirst().data());
        assertEquals(1, e.inputs().getFirst().arg());
    }

    @Test
    void aPathCutShortIsLeftToItsStop() {
        byte[] cut = "/a/very/long/path".getBytes(StandardCharsets.US_ASCII); // no NUL: deja read PATH_MAX bytes of it
        assertNull(AHEAD.entry(call("newfstatat", List.of(new MemoryBlock(1, PATH, cut)), 0, List.of(), 0, -100, PATH, BUF, 0)));
    }

    @Test
    void callsWhoseReplayIsMoreThanTheirAnswerAreLeftToTheirStops() {
        assertNull(AHEAD.entry(call("mmap", List.of(), 0x7ffff7fc0000L, List.of(), 0, 0, 4096, 3, 0x22, -1, 0)), "runs for real");
        assertNull(AHEAD.entry(call("wait4", List.of(), 101, List.of(), 0, -1, 0, 0, 0)), "waits for a child");
        assertNull(AHEAD.entry(call("futex", List.of(), 0, List.of(), 0, BUF, 0, 1, 0)), "threads' order");
        assertNull(AHEAD.entry(call("kill", List.of(), 0, List.of(), 0, 101, 15)), "a signal lands elsewhere");
        assertNull(AHEAD.entry(call("ioctl", List.of(), 0, List.of(), 0, 1, 0x5401, BUF)), "a terminal's ioctl");
    }

    @Test
    void callsThatShapeTheProcessAreMadeInTheStubAsAtTheirStops() {
        byte[] act = new byte[32];
        act[0] = 1; // SIG_IGN
        byte[] old = new byte[32];
        AnswerStub.Entry e = AHEAD.entry(call("rt_sigaction", List.of(new MemoryBlock(1, BUF, act)), 0,
                List.of(new MemoryBlock(2, BUF + 64, old)), 0, 10, BUF, BUF + 64, 8));
        assertNotNull(e);
        assertTrue(e.performed());
        assertEquals(0b1001, e.compared(), "the signal and the set's size; the action compared as bytes");
        assertArrayEquals(act, e.inputs().getFirst().data());
        assertEquals(2, e.outputs().getFirst().arg(), "the old action: the recorded one, written as at a stop");
        for (String name : List.of("brk", "mprotect", "munmap")) {
            AnswerStub.Entry m = AHEAD.entry(call(name, List.of(), 0, List.of(), 0, 0x555555559000L, 4096, 1));
            assertNotNull(m, name);
            assertTrue(m.performed(), name);
        }
        assertFalse(AHEAD.entry(call("getppid", List.of(), 4242, List.of(), 0)).performed(), "only answered");
        // answered by the recording device itself (never reached the kernel): not made now either
        assertNull(AHEAD.entry(call("rt_sigaction", List.of(), 0, List.of(), SyscallEvent.SKIPPED, 10, 0, 0, 8)));
        assertNull(AHEAD.entry(call("rt_sigprocmask", List.of(), 0, List.of(), 0, 0, BUF, 0, 8)), "a mask: signals held by it");
    }

    @Test
    void aCallThatDidNotEndAsUsualIsLeftToItsStop() {
        assertNull(AHEAD.entry(call("read", List.of(), 0, List.of(), SyscallEvent.NO_EXIT, 0, BUF, 64)), "never returned");
        assertNull(AHEAD.entry(call("read", List.of(), -512, List.of(), 0, 0, BUF, 64)), "ERESTARTSYS: a signal came");
        assertNull(AHEAD.entry(call("read", List.of(), 4, List.of(), SyscallEvent.UNKNOWN_WRITES, 0, BUF, 64)));
        assertNull(AHEAD.entry(call("read", List.of(), 4, List.of(), SyscallEvent.REWRITTEN, 0, BUF, 64)));
        assertNotNull(AHEAD.entry(call("read", List.of(), -9, List.of(), 0, 99, BUF, 64)), "an error is an answer as any");
    }

    @Test
    void bytesNotAtAnArgumentAreLeftToTheStop() {
        // readv's data sits behind its iovec: the recorder keeps such blocks with arg -1, which the stub cannot place
        assertNull(AHEAD.entry(call("read", List.of(), 4, List.of(new MemoryBlock(-1, BUF, new byte[4])), 0, 3, BUF, 64)));
    }

    @Test
    void aWriteComparesTheBytesWritten() {
        byte[] data = "line\n".getBytes(StandardCharsets.US_ASCII);
        AnswerStub.Entry e = AHEAD.entry(call("write", List.of(new MemoryBlock(1, BUF, data)), 5, List.of(), 0, 1, BUF, 5));
        assertNotNull(e);
        assertEquals(0b101, e.compared());
        assertArrayEquals(data, e.inputs().getFirst().data());
    }
}
