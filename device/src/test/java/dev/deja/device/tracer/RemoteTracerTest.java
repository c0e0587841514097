package dev.deja.device.tracer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.Decision;
import dev.deja.device.SyscallEntry;
import dev.deja.device.Tracee;
import dev.deja.device.syscall.TraceeMemory;
import dev.deja.formats.event.SyscallEvent;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A remote tracer over real pipes, the tracer's side played by the test. */
class RemoteTracerTest {
    private static final int WRITE = 1;
    private static final int GETPID = 39;

    private final ExecutorService device = Executors.newSingleThreadExecutor();
    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);

    @AfterEach
    void stop() throws InterruptedException {
        device.shutdownNow();
        assertTrue(device.awaitTermination(5, TimeUnit.SECONDS));
    }

    /** The tracer's end: reads what deja sends, writes what the tracer answers. */
    private static final class Peer {
        final BufferedReader in;
        final OutputStream out;

        Peer(BufferedReader in, OutputStream out) {
            this.in = in;
            this.out = out;
        }

        String read() throws IOException {
            return in.readLine();
        }

        void say(String... lines) throws IOException {
            for (String l : lines) out.write((l + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    private Peer peer;

    private RemoteTracer connect(Duration timeout, String... handshake) throws Exception {
        Pipe toTracer = Pipe.open();
        Pipe fromTracer = Pipe.open();
        Connection c = new Connection("test", Channels.newInputStream(fromTracer.source()),
                Channels.newOutputStream(toTracer.sink()), null);
        peer = new Peer(new BufferedReader(new InputStreamReader(Channels.newInputStream(toTracer.source()), StandardCharsets.UTF_8)),
                Channels.newOutputStream(fromTracer.sink()));
        Future<RemoteTracer> f = device.submit(() -> RemoteTracer.connect(c, timeout, Duration.ofSeconds(5), log));
        assertEquals("deja-tracer 1", peer.read());
        peer.say(handshake);
        return f.get(5, TimeUnit.SECONDS);
    }

    private static SyscallEntry entry(long seq, int nr, long... args) {
        long[] a = new long[6];
        System.arraycopy(args, 0, a, 0, args.length);
        return new SyscallEntry(seq, 4242, 4243, 1_000_000_000L, nr, a, List.of());
    }

    /** A stopped thread with 16 bytes of memory at 0x1000. */
    private static final class FakeTracee implements Tracee {
        final byte[] mem = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

        @Override
        public int pid() {
            return 4242;
        }

        @Override
        public int tid() {
            return 4243;
        }

        @Override
        public TraceeMemory memory() {
            return (address, dst, off, len) -> {
                if (address < 0x1000 || address >= 0x1000 + mem.length) return -1;
                int n = (int) Math.min(len, 0x1000 + mem.length - address);
                System.arraycopy(mem, (int) (address - 0x1000), dst, off, n);
                return n;
            };
        }

        @Override
        public void write(long address, byte[] data) {
            if (address < 0x1000 || address + data.length > 0x1000 + mem.length) {
                throw new dev.deja.device.DeviceException("cannot write at 0x" + Long.toHexString(address));
            }
            System.arraycopy(data, 0, mem, (int) (address - 0x1000), data.length);
        }

        @Override
        public long inject(int nr, long... args) {
            throw new UnsupportedOperationException();
        }

        /** Not annotated: Tracee may or may not declare it (the replayer adds it). */
        public void setResult(long value) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void aDecidingTracerAnswersSkipFailSkipOkRewriteAndContinue() throws Exception {
        RemoteTracer t = connect(Duration.ofSeconds(5), "hello tester", "subscribe decide write", "ready");
        assertTrue(t.decides());
        assertEquals("tester", t.name());
        FakeTracee tracee = new FakeTracee();
        Future<Decision> d = device.submit(() -> t.onSyscallEntry(entry(17, WRITE, 2, 0x1000, 12), tracee));
        String ev = peer.read();
        assertTrue(ev.startsWith("event 17 pid=4242 tid=4243 time=1.000000 nr=1 args=0x2,0x1000,0xc,0x0,0x0,0x0 write(2, "), ev);
        peer.say("17 skip-fail EIO");
        assertEquals(Decision.fail(5), d.get(5, TimeUnit.SECONDS));

        d = device.submit(() -> t.onSyscallEntry(entry(18, WRITE, 1, 0x1000, 3), tracee));
        assertTrue(peer.read().startsWith("event 18 "));
        peer.say("skip-ok 3"); // no number: the last event sent
        assertEquals(Decision.succeed(3), d.get(5, TimeUnit.SECONDS));

        d = device.submit(() -> t.onSyscallEntry(entry(19, WRITE, 1, 0x1000, 3), tracee));
        peer.read();
        peer.say("19 rewrite arg0=4 arg2=2");
        Decision.Rewrite r = assertInstanceOf(Decision.Rewrite.class, d.get(5, TimeUnit.SECONDS));
        assertEquals(WRITE, r.nr());
        assertArrayEquals(new long[]{4, 0x1000, 2, 0, 0, 0}, r.args());

        // not subscribed: not sent, proceeds at once
        assertEquals(Decision.proceed(), t.onSyscallEntry(entry(20, GETPID), tracee));

        d = device.submit(() -> t.onSyscallEntry(entry(21, WRITE, 1, 0x1000, 3), tracee));
        assertTrue(peer.read().startsWith("event 21 "));
        peer.say("21 continue");
        assertEquals(Decision.proceed(), d.get(5, TimeUnit.SECONDS));
    }

    @Test
    void writesAndQueriesAreServedBeforeTheAnswer() throws Exception {
        RemoteTracer t = connect(Duration.ofSeconds(5), "hello q", "subscribe decide clock_gettime", "ready");
        FakeTracee tracee = new FakeTracee();
        Future<Decision> d = device.submit(() -> t.onSyscallEntry(entry(5, 228, 0, 0x1000), tracee));
        assertTrue(peer.read().startsWith("event 5 "));
        peer.say("5 set 0x1004 \"XY\\x00\"", "5 set arg1 \"ab\"", "5 peek 0x1000 8");
        assertEquals("5 reply peek addr=0x1000 len=8 hex=6162323358590037", peer.read());
        peer.say("5 fds", "5 proc");
        assertTrue(peer.read().startsWith("5 reply fds"));
        assertTrue(peer.read().startsWith("5 reply proc pid=4242 tid=4243"));
        peer.say("5 set 0x9000 \"x\"");
        assertTrue(peer.read().startsWith("error 5 set refused: cannot write at 0x9000"));
        peer.say("5 skip-ok 0");
        assertEquals(Decision.succeed(0), d.get(5, TimeUnit.SECONDS));
        assertEquals("ab23XY\u00007", new String(tracee.mem, 0, 8, StandardCharsets.ISO_8859_1));
    }

    @Test
    void answersToUnknownOrAnsweredEventsAndMalformedLinesAreRefusedAndChangeNothing() throws Exception {
        RemoteTracer t = connect(Duration.ofSeconds(5), "hello r", "subscribe decide write", "ready");
        FakeTracee tracee = new FakeTracee();
        Future<Decision> d = device.submit(() -> t.onSyscallEntry(entry(7, WRITE, 1, 0x1000, 3), tracee));
        assertTrue(peer.read().startsWith("event 7 "));
        peer.say("this is not a message");
        assertTrue(peer.read().startsWith("error - refused 'this is not a message': unknown message 'this'"));
        peer.say("6 skip-fail EIO");
        assertEquals("error 6 refused: no event 6 is waiting for your answer (event 7 is)", peer.read());
        peer.say("7 deliver SIGINT");
        assertTrue(peer.read().startsWith("error 7 refused: deliver does not answer a syscall"));
        peer.say("7 continue");
        assertEquals(Decision.proceed(), d.get(5, TimeUnit.SECONDS));

        d = device.submit(() -> t.onSyscallEntry(entry(8, WRITE, 1, 0x1000, 3), tracee));
        assertTrue(peer.read().startsWith("event 8 "));
        peer.say("7 skip-fail EIO", "8 skip-ok 3");
        assertEquals("error 7 refused: event 7 was already answered (or timed out); nothing changed", peer.read());
        assertEquals(Decision.succeed(3), d.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aTracerThatDoesNotAnswerInTimeIsContinued() throws Exception {
        RemoteTracer t = connect(Duration.ofMillis(200), "hello slow", "subscribe decide all", "ready");
        long start = System.nanoTime();
        Future<Decision> d = device.submit(() -> t.onSyscallEntry(entry(3, GETPID), new FakeTracee()));
        assertTrue(peer.read().startsWith("event 3 "));
        assertEquals(Decision.proceed(), d.get(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - start >= 150_000_000L);
        assertEquals("error 3 no answer within 200 ms: event 3 continues", peer.read());
        assertTrue(logBytes.toString(StandardCharsets.UTF_8).contains("tracer slow did not answer event 3 within 200 ms"));
        peer.say("3 skip-fail EIO"); // too late: refused at the next event
        Future<Decision> d2 = device.submit(() -> t.onSyscallEntry(entry(4, GETPID), new FakeTracee()));
        assertTrue(peer.read().startsWith("event 4 "));
        assertTrue(peer.read().startsWith("error 3 refused: event 3 was already answered"));
        peer.say("4 continue");
        assertEquals(Decision.proceed(), d2.get(5, TimeUnit.SECONDS));
        assertTrue(t.alive());
    }

    @Test
    void aTracerThatDiesHasItsPendingEventContinuedAndIsDropped() throws Exception {
        RemoteTracer t = connect(Duration.ofSeconds(30), "hello fragile", "subscribe decide write", "subscribe observe getpid", "ready");
        Future<Decision> d = device.submit(() -> t.onSyscallEntry(entry(9, WRITE, 1, 0x1000, 3), new FakeTracee()));
        assertTrue(peer.read().startsWith("event 9 "));
        peer.out.close();
        assertEquals(Decision.proceed(), d.get(5, TimeUnit.SECONDS));
        assertFalse(t.alive());
        assertTrue(logBytes.toString(StandardCharsets.UTF_8).contains("tracer fragile is gone"));
        // later events are not sent and do not wait
        assertEquals(Decision.proceed(), t.onSyscallEntry(entry(10, WRITE, 1, 0x1000, 3), new FakeTracee()));
        t.onSyscall(new SyscallEvent(11, 4242, 4242, 0, 0, GETPID, new long[6], List.of(), 4242, List.of(), 0), new FakeTracee());
        t.close();
    }

    @Test
    void observersGetCompletedCallsAndAnswerNothing() throws Exception {
        RemoteTracer t = connect(Duration.ofSeconds(5), "{\"msg\":\"hello\",\"name\":\"json watcher\"}",
                "{\"msg\":\"subscribe\",\"mode\":\"observe\",\"names\":[\"getpid\"]}", "{\"msg\":\"ready\"}");
        assertFalse(t.decides());
        t.onSyscall(new SyscallEvent(11, 4242, 4242, 0, 0, GETPID, new long[6], List.of(), 4242, List.of(), 0), new FakeTracee());
        String ev = peer.read();
        assertTrue(ev.startsWith("{\"msg\":\"event\",\"seq\":11,\"pid\":4242,"), ev);
        assertTrue(ev.contains("\"result\":4242") && ev.contains("\"text\":\"getpid() = 4242\""), ev);
        peer.say("{\"msg\":\"continue\",\"seq\":11}");
        // refused at the next exchange point; nothing waits for an observer meanwhile
        t.close();
    }

    @Test
    void signalsAreDeliveredReplacedOrSuppressed() throws Exception {
        RemoteTracer t = connect(Duration.ofSeconds(5), "hello sig", "subscribe decide @signal", "ready");
        assertTrue(t.decides());
        dev.deja.formats.event.SignalEvent sigint = new dev.deja.formats.event.SignalEvent(30, 4242, 4243, 0, 2, 0, 1, 0,
                new byte[128], true);
        Future<Integer> d = device.submit(() -> t.signalToDeliver(sigint, new FakeTracee()));
        String ev = peer.read();
        assertTrue(ev.startsWith("event 30 pid=4242 tid=4243 ") && ev.contains("--- SIGINT {"), ev);
        peer.say("30 skip-ok 0");
        assertTrue(peer.read().startsWith("error 30 refused: skip-ok does not answer a signal"));
        peer.say("30 deliver SIGTERM");
        assertEquals(15, d.get(5, TimeUnit.SECONDS));
        d = device.submit(() -> t.signalToDeliver(sigint, new FakeTracee()));
        assertTrue(peer.read().startsWith("event 30 "));
        peer.say("suppress");
        assertEquals(0, d.get(5, TimeUnit.SECONDS));
        d = device.submit(() -> t.signalToDeliver(sigint, new FakeTracee()));
        peer.read();
        peer.say("continue");
        assertEquals(2, d.get(5, TimeUnit.SECONDS));
    }

    @Test
    void unknownSubscriptionsAreRefusedDuringTheHandshake() throws Exception {
        RemoteTracer t = connect(Duration.ofSeconds(5), "hello picky", "subscribe decide nosuchcall", "subscribe decide @exit",
                "subscribe observe @bogus", "subscribe observe write", "ready");
        assertTrue(peer.read().startsWith("error - subscribe refused: unknown syscall 'nosuchcall'"));
        assertEquals("error - subscribe refused: @exit can only be observed", peer.read());
        assertTrue(peer.read().startsWith("error - subscribe refused: unknown event kind '@bogus'"));
        assertFalse(t.decides());
    }

    @Test
    void aTracerThatNeverSaysReadyIsRefused() throws Exception {
        Pipe toTracer = Pipe.open();
        Pipe fromTracer = Pipe.open();
        Connection c = new Connection("mute", Channels.newInputStream(fromTracer.source()),
                Channels.newOutputStream(toTracer.sink()), null);
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> RemoteTracer.connect(c, Duration.ofSeconds(1), Duration.ofMillis(200), log));
        assertTrue(e.getMessage().contains("did not say 'ready' within 200 ms"), e.getMessage());
        c.close();
    }
}
