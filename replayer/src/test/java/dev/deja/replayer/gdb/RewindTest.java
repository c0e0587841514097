package dev.deja.replayer.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.Tracee;
import dev.deja.device.syscall.TraceeMemory;
import java.util.HashSet;
import org.junit.jupiter.api.Test;

/** The parts of going back that need no live replay: telling arrivals apart, refusals, the monitor's words. */
class RewindTest {

    /** A stopped thread: fixed registers, a stack mapping of 4 KiB at 0x7000 (rsp points into it). */
    private static final class Still implements Tracee {
        final long[] regs = new long[27];
        final byte[] stack = new byte[4096];

        Still() {
            regs[16] = 0x401000; // rip
            regs[19] = 0x7400; // rsp
            for (int i = 0; i < 16; i++) regs[i] = 100 + i;
            regs[15] = -1; // orig_rax: between calls
        }

        Still copy() {
            Still c = new Still();
            System.arraycopy(regs, 0, c.regs, 0, regs.length);
            System.arraycopy(stack, 0, c.stack, 0, stack.length);
            return c;
        }

        @Override
        public int pid() {
            return 10;
        }

        @Override
        public int tid() {
            return 10;
        }

        @Override
        public TraceeMemory memory() {
            return (address, dst, off, len) -> {
                if (address < 0x7000 || address >= 0x8000) return 0;
                int n = (int) Math.min(len, 0x8000 - address);
                System.arraycopy(stack, (int) (address - 0x7000), dst, off, n);
                return n;
            };
        }

        @Override
        public long[] registers() {
            return regs.clone();
        }

        @Override
        public void write(long address, byte[] data) {
            throw new AssertionError("going back never writes the program");
        }

        @Override
        public long inject(int nr, long... args) {
            throw new AssertionError("no call is injected here");
        }

        @Override
        public void setResult(long value) {
            throw new AssertionError("no result is set here");
        }
    }

    /** No watchpoints: nothing to protect, nothing changes. */
    private static final class NoWatches implements Rewind.Watching {
        @Override
        public boolean any() {
            return false;
        }

        @Override
        public boolean lift(Tracee t) {
            return false;
        }

        @Override
        public void protect(Tracee t) {
        }

        @Override
        public void rebase(Tracee t) {
        }

        @Override
        public String changed(Tracee t) {
            return null;
        }

        @Override
        public String accessed(dev.deja.device.DebugAgent.Stored s, Tracee t) {
            return null;
        }

        @Override
        public boolean written(dev.deja.formats.event.SyscallEvent recorded, Tracee t) {
            return false;
        }
    }

    private final Rewind rewind = new Rewind(new HashSet<>(), new NoWatches(), new RecordedThreads(157), call -> false);

    @Test
    void theSameStateIsAtDistanceZeroWhateverOrigRaxSays() {
        Still a = new Still();
        Still b = a.copy();
        b.regs[15] = 39; // a syscall's stop at the same place has the call's number there
        assertEquals(0, Rewind.Fingerprint.of(a).distance(Rewind.Fingerprint.of(b)));
        assertTrue(Rewind.Fingerprint.of(a).sameAs(Rewind.Fingerprint.of(b)));
    }

    @Test
    void eachDifferingRegisterAndTheStackCountOnce() {
        Still a = new Still();
        Still b = a.copy();
        b.regs[5] += 1; // rbx: the dynamic loader's rdtsc differs between runs
        assertEquals(1, Rewind.Fingerprint.of(a).distance(Rewind.Fingerprint.of(b)));
        b.regs[10] += 1; // rax
        b.stack[0x500] = 7; // a local above rsp (a loop counter in memory)
        assertEquals(3, Rewind.Fingerprint.of(a).distance(Rewind.Fingerprint.of(b)));
        assertFalse(Rewind.Fingerprint.of(a).sameAs(Rewind.Fingerprint.of(b)));
    }

    @Test
    void bytesBelowTheStackPointerAndBeyondTheHashedStretchDoNotCount() {
        Still a = new Still();
        Still b = a.copy();
        b.stack[0x3ff] = 1; // below rsp (0x7400): freed
        assertEquals(0, Rewind.Fingerprint.of(a).distance(Rewind.Fingerprint.of(b)));
        b.stack[0x400 + Rewind.Fingerprint.STACK_BYTES] = 1; // beyond the 2 KiB hashed
        assertEquals(0, Rewind.Fingerprint.of(a).distance(Rewind.Fingerprint.of(b)));
    }

    @Test
    void anotherAddressIsNeverTheSamePlace() {
        Still a = new Still();
        Still b = a.copy();
        b.regs[16] += 3;
        assertEquals(Integer.MAX_VALUE, Rewind.Fingerprint.of(a).distance(Rewind.Fingerprint.of(b)));
    }

    @Test
    void aStackReadCutShortByTheEndOfTheMappingStillHashes() {
        Still a = new Still();
        a.regs[19] = 0x7f00; // 256 bytes left before the mapping ends
        Still b = a.copy();
        assertEquals(0, Rewind.Fingerprint.of(a).distance(Rewind.Fingerprint.of(b)));
        b.stack[0xf80] = 9;
        assertEquals(1, Rewind.Fingerprint.of(a).distance(Rewind.Fingerprint.of(b)));
    }

    @Test
    void aPlaceOnASteppedStretchIsTheNthArrivalAtItsAddress() {
        long[] loop = {0x10, 0x14, 0x18, 0x14, 0x18, 0x14, 0x1c};
        assertEquals(1, Rewind.arrivals(loop, 0));
        assertEquals(1, Rewind.arrivals(loop, 1));
        assertEquals(2, Rewind.arrivals(loop, 3));
        assertEquals(2, Rewind.arrivals(loop, 4));
        assertEquals(3, Rewind.arrivals(loop, 5));
        assertEquals(1, Rewind.arrivals(loop, 6));
    }

    @Test
    void withoutCheckpointsGoingBackIsRefusedWithTheReason() {
        assertFalse(rewind.available());
        assertEquals("E.deja cannot go back here: this replay takes no checkpoints", rewind.refusal());
    }

    @Test
    void beforeTheFirstRecordedCallThereIsNoHistory() {
        Rewind.Arrive a = rewind.start(Rewind.Op.REVERSE_STEP, new Still());
        assertEquals("replaylog:begin;", a.stopInfo());
        assertNull(a.monitorText());
        assertEquals("replaylog:begin;", rewind.start(Rewind.Op.REVERSE_CONTINUE, new Still()).stopInfo());
    }

    @Test
    void monitorCommandsForCheckpoints() {
        Still t = new Still();
        assertEquals("deja: this replay takes no checkpoints\n", rewind.monitor("checkpoint", t));
        assertEquals("No checkpoints (`monitor checkpoint` makes one).\n", rewind.monitor("info checkpoints", t));
        assertEquals("No checkpoints (`monitor checkpoint` makes one).\n", rewind.monitor("checkpoints", t));
        assertEquals("deja: no checkpoint 3\n", rewind.monitor("delete checkpoint 3", t));
        assertNull(rewind.monitor("when", t));
        assertNull(rewind.monitor("checkpoint now", t));
        assertTrue(rewind.markNumbered("x").isEmpty());
        assertTrue(rewind.markNumbered("1").isEmpty());
    }

    @Test
    void placesDescribeThemselvesByEvent() {
        assertEquals("event #47 (at the call's entry)", Rewind.describe(new Rewind.Entry(47)));
        assertEquals("event #47 (after the call)", Rewind.describe(new Rewind.Visit(47, 1, 0, 0, 0)));
        assertEquals("event #47 (after the call, in code)", Rewind.describe(new Rewind.Visit(47, 1, 0x401000, 2, 3)));
        assertEquals("the place the search ended", Rewind.describe(null));
    }
}
