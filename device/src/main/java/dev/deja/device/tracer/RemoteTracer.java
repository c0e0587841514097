package dev.deja.device.tracer;

import dev.deja.device.Decision;
import dev.deja.device.DeviceException;
import dev.deja.device.SyscallEntry;
import dev.deja.device.SyscallInterest;
import dev.deja.device.Tracee;
import dev.deja.device.Tracer;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Renderer;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.device.ffm.NativeCallException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A tracer in another process, speaking the text protocol (or its JSON Lines form) over a
 * {@link Connection}. Its reader thread parses what the tracer writes (lines of at most
 * {@link #MAX_LINE_BYTES}), refuses malformed lines at once with an {@code error} line, and queues
 * the rest; the device's thread sends each event the tracer subscribed to and, for {@code decide}
 * subscriptions, serves its writes and queries until the answer naming that event arrives, the
 * timeout passes (the call continues) or the tracer goes away (the call continues, and so does the
 * run, without it). What deja sends goes through an {@link Outbox}: a tracer that stops reading
 * is dropped after the timeout instead of blocking the device.
 */
public final class RemoteTracer implements Tracer, AutoCloseable {

    /** How long a deciding tracer may take to answer one event before it continues. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** How long a tracer may take from the greeting to its {@code ready}. */
    public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /**
     * The longest line a tracer may send, in bytes (the newline not counted): a {@code set} of
     * 1 MiB fits in any escaping ({@code \xHH} takes 4 bytes per byte). Longer lines are refused.
     */
    public static final int MAX_LINE_BYTES = 4 << 20;
    /** Bytes queued for a tracer beyond which the device waits (at most the timeout) for it to read. */
    static final long OUTBOX_BUDGET = 1 << 20;
    /** Messages read from a tracer and not handled yet beyond which its reader waits. */
    private static final int INBOX_CAPACITY = 1024;
    /** How long closing waits for the lines still queued to reach the tracer. */
    private static final Duration CLOSE_FLUSH = Duration.ofSeconds(1);

    private static final Object EOF = new Object();
    private static final int REMEMBERED = 4096;

    private final Connection conn;
    private final Duration timeout;
    private final PrintStream log;
    private final SyscallTable table = SyscallTable.of(Arch.current());
    private final Renderer renderer = new Renderer(Arch.current(), 256);
    private final TextCodec text = new TextCodec(table);
    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>(INBOX_CAPACITY);
    private final Map<Integer, ProcessContext> contexts = new HashMap<>();
    private final LinkedHashSet<Long> answered = new LinkedHashSet<>();
    private final LinkedHashSet<Long> observedOnly = new LinkedHashSet<>();
    private final Outbox outbox;
    private final Thread reader;
    /** A drain of the inbox is queued on the device's thread (one at a time, however fast the tracer writes). */
    private final java.util.concurrent.atomic.AtomicBoolean drainQueued = new java.util.concurrent.atomic.AtomicBoolean();

    private volatile Codec codec;
    private volatile boolean dead;
    private volatile boolean tooLongSeen;
    /** The tracer said ready (its name is known). */
    private volatile boolean handshakeDone;
    /** Its output ended (the reader saw end of file). */
    private volatile boolean outputEnded;
    /** Why it is gone, once it is. */
    private volatile String goneWhy;
    private volatile long lastSent;
    private volatile String name;
    private final List<SyscallSet> decideSets = new ArrayList<>();
    private final List<SyscallSet> observeSets = new ArrayList<>();
    private final java.util.Set<String> decideExtra = new java.util.HashSet<>();
    private final java.util.Set<String> observeExtra = new java.util.HashSet<>();
    /** The event a synchronous exchange waits for (0: none); read by the reader thread too. */
    private volatile long waitingFor;
    /** Set by {@link #close}: the reader stops waiting for room in the inbox. */
    private volatile boolean closed;
    /** The device's thread, once bound: answers are then handled there, several events outstanding at once. */
    private volatile java.util.concurrent.Executor deviceThread;
    /** Events sent for a decision and not answered yet, by number (device thread only). */
    private final Map<Long, Outstanding> outstanding = new LinkedHashMap<>();

    private record Outstanding(SyscallEntry entry, Tracee tracee, java.util.concurrent.CompletableFuture<Decision> answer) {
    }

    private RemoteTracer(Connection conn, Duration timeout, PrintStream log) {
        this.conn = conn;
        this.timeout = timeout;
        this.log = log;
        this.name = conn.label();
        this.outbox = new Outbox(conn.label(), conn.out(), OUTBOX_BUDGET, timeout, this::unreachable);
        this.reader = Thread.ofPlatform().daemon().name("deja-tracer-reader " + conn.label()).unstarted(this::readLoop);
    }

    /**
     * Greets the tracer and reads its handshake ({@code hello}, {@code subscribe}..., {@code ready}).
     * Throws ProtocolException when it does not finish the handshake in time or hangs up; the
     * connection is then closed (a tracer program and its process group ended).
     */
    public static RemoteTracer connect(Connection conn, Duration timeout, Duration handshake, PrintStream log)
            throws ProtocolException {
        RemoteTracer t = new RemoteTracer(conn, timeout, log);
        try {
            return t.handshake(handshake);
        } catch (ProtocolException | RuntimeException e) {
            t.dead = true; // nothing to announce: the caller says why it failed
            t.close();
            throw e;
        }
    }

    private RemoteTracer handshake(Duration handshake) throws ProtocolException {
        reader.start();
        send(new Message.Greeting(Message.VERSION));
        long deadline = System.nanoTime() + handshake.toNanos();
        while (true) {
            Object o;
            try {
                o = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ProtocolException("interrupted during the handshake");
            }
            if (o == null) throw new ProtocolException("tracer " + name + " did not say 'ready' within " + handshake.toMillis() + " ms");
            if (o == EOF) throw new ProtocolException("tracer " + name + " hung up during the handshake");
            switch ((Message) o) {
                case Message.Hello h -> name = h.name();
                case Message.Subscribe s -> {
                    try {
                        subscribe(s);
                    } catch (IllegalArgumentException e) {
                        send(new Message.Error(0, "subscribe refused: " + e.getMessage()));
                    }
                }
                case Message.Ready r -> {
                    synchronized (this) { // as died(): a tracer gone from now on is announced
                        if (dead) throw new ProtocolException("tracer " + name + " is gone: " + goneWhy);
                        handshakeDone = true;
                    }
                    // An end of output that came right after 'ready' waits behind it in the inbox.
                    if (outputEnded && deviceThread == null) died("it hung up");
                    return this;
                }
                default -> send(new Message.Error(o instanceof Message m ? m.seq() : 0,
                        "the handshake is 'hello NAME', 'subscribe observe|decide NAMES...', then 'ready'"));
            }
        }
    }

    public String name() {
        return name;
    }

    public boolean alive() {
        return !dead;
    }

    private void subscribe(Message.Subscribe s) {
        List<SyscallSet> sets = s.decide() ? decideSets : observeSets;
        java.util.Set<String> extra = s.decide() ? decideExtra : observeExtra;
        for (String n : s.names()) {
            if (n.startsWith("@")) {
                if (!List.of("@signal", "@exit", "@spawn", "@exec").contains(n)) {
                    throw new IllegalArgumentException("unknown event kind '" + n + "' (known: @signal @exit @spawn @exec)");
                }
                if (s.decide() && !n.equals("@signal")) throw new IllegalArgumentException(n + " can only be observed");
                extra.add(n);
            } else {
                sets.add(SyscallSet.parse(n, table));
            }
        }
    }

    private static boolean any(List<SyscallSet> sets, int nr) {
        for (SyscallSet s : sets) if (s.contains(nr)) return true;
        return false;
    }

    // ---------------------------------------------------------------- the tracer's side

    private void readLoop() {
        LineReader r = new LineReader(conn.in(), MAX_LINE_BYTES);
        try {
            LineReader.Line next;
            while ((next = r.next()) != null) {
                String line = switch (next) {
                    case LineReader.Text t -> t.text();
                    case LineReader.TooLong t -> {
                        refuseLongLine(t.limit());
                        yield "";
                    }
                };
                if (line.isBlank()) continue;
                if (codec == null) codec = line.stripLeading().startsWith("{") ? new JsonCodec(table) : text;
                Message m;
                try {
                    m = codec.parse(line);
                } catch (ProtocolException e) {
                    send(new Message.Error(0, "refused '" + abbreviate(line) + "': " + e.getMessage()));
                    continue;
                }
                if (!enqueue(resolve(m))) return;
            }
        } catch (IOException e) {
            // the tracer went away
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            hangUp();
        }
    }

    /**
     * Hands a message to the device's side. Bounded: a tracer that writes faster than deja handles
     * its messages waits (its pipe fills). False once the tracer is closed.
     */
    private boolean enqueue(Object o) throws InterruptedException {
        while (!inbox.offer(o, 100, TimeUnit.MILLISECONDS)) {
            if (closed) return false;
            wakeDevice();
        }
        wakeDevice();
        return true;
    }

    /** The tracer's output ended: the device's side finishes the events it holds, and says it is gone. */
    private void hangUp() {
        outputEnded = true;
        if (deviceThread == null) {
            // Not bound to the device's thread (it only observes, or decides signals one at a time):
            // an exchange in progress takes the end of file from the inbox; otherwise nothing would
            // notice it before the next event this tracer must answer. During the handshake, the
            // handshake says so.
            boolean queued = inbox.offer(EOF);
            if (handshakeDone && (!queued || waitingFor == 0)) died("it hung up");
            if (deviceThread != null) wakeDevice(); // bound meanwhile
            return;
        }
        try {
            if (!enqueue(EOF)) died("it hung up");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            died("it hung up");
        }
    }

    private void refuseLongLine(int limit) {
        send(new Message.Error(0, "refused: a line longer than " + limit + " bytes (the protocol's limit); it is skipped"));
        if (!tooLongSeen) {
            tooLongSeen = true;
            log.println("deja: tracer " + name + " sent a line longer than " + limit + " bytes; refused (said once)");
        }
    }

    /** Once bound to the device's thread: has it handle what just arrived (one drain queued at a time). */
    private void wakeDevice() {
        java.util.concurrent.Executor d = deviceThread;
        if (d != null && drainQueued.compareAndSet(false, true)) d.execute(this::drain);
    }

    /** On the device's thread: handles every message received (answers, writes, queries, refusals). */
    private void drain() {
        drainQueued.set(false);
        Object o;
        while ((o = inbox.poll()) != null) {
            if (o == EOF) {
                hungUp();
            } else {
                dispatch((Message) o);
            }
        }
    }

    private void hungUp() {
        if (!outstanding.isEmpty()) {
            died("it hung up while events " + outstanding.keySet() + " were waiting for its answer (they continue)");
        } else {
            died("it hung up");
        }
        for (Outstanding o : List.copyOf(outstanding.values())) finish(o, Decision.proceed());
    }

    /** A message about an outstanding event, on the device's thread; anything else is refused. */
    private void dispatch(Message m) {
        Outstanding o = outstanding.get(m.seq());
        if (o == null) {
            refuse(m);
            return;
        }
        long seq = m.seq();
        switch (m) {
            case Message.Set s -> write(o.tracee(), s, o.entry().args());
            case Message.Peek p -> send(peek(o.tracee(), p));
            case Message.Fds f -> send(new Message.Reply(seq, "fds", fds(o.tracee().pid())));
            case Message.Proc p -> send(new Message.Reply(seq, "proc", proc(o.tracee())));
            case Message.Continue c -> finish(o, Decision.proceed());
            case Message.SkipFail f -> finish(o, toDecision(f, o.entry()));
            case Message.SkipOk k -> finish(o, toDecision(k, o.entry()));
            case Message.Rewrite w -> finish(o, toDecision(w, o.entry()));
            default -> send(new Message.Error(seq, "refused: " + verb(m)
                    + " does not answer a syscall (continue, skip-fail, skip-ok, rewrite)"));
        }
    }

    private void finish(Outstanding o, Decision d) {
        long seq = o.entry().seq();
        if (outstanding.remove(seq) == null) return;
        remember(answered, seq);
        o.answer().complete(d);
    }

    /** A message with seq 0 is about the last event sent. */
    private Message resolve(Message m) {
        if (m.seq() != 0) return m;
        long s = lastSent;
        if (s == 0) return m;
        return switch (m) {
            case Message.Continue c -> new Message.Continue(s);
            case Message.SkipFail f -> new Message.SkipFail(s, f.errno());
            case Message.SkipOk k -> new Message.SkipOk(s, k.value());
            case Message.Rewrite w -> new Message.Rewrite(s, w.nr(), w.args());
            case Message.Deliver d -> new Message.Deliver(s, d.signo());
            case Message.Set x -> new Message.Set(s, x.arg(), x.address(), x.data());
            case Message.Peek p -> new Message.Peek(s, p.address(), p.length());
            case Message.Fds f -> new Message.Fds(s);
            case Message.Proc p -> new Message.Proc(s);
            default -> m;
        };
    }

    private static String abbreviate(String line) {
        return line.length() > 80 ? line.substring(0, 77) + "..." : line;
    }

    private void send(Message m) {
        if (dead) return;
        Codec c = codec != null ? codec : text;
        String line = (m instanceof Message.Greeting ? text : c).format(m) + "\n";
        outbox.offer(line.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * From the outbox: lines no longer reach the tracer (its input is closed, or it did not read it
     * in time). It is gone: ended at once (a tracer that does not read would otherwise live on), and
     * its output's end lets the device's side continue the events it holds.
     */
    private void unreachable(String why) {
        died(why);
        conn.abort().run();
        if (!inbox.offer(EOF)) return; // full: the reader's own end of file comes once it is drained
        wakeDevice();
    }

    private synchronized void died(String why) {
        if (dead || closed) return; // once closed, its end is deja's doing
        dead = true;
        goneWhy = why;
        // During the handshake, connect says why the tracer could not join.
        if (handshakeDone) log.println("deja: tracer " + name + " is gone: " + why + "; the run goes on without it");
    }

    // ---------------------------------------------------------------- the device's side

    @Override
    public boolean decides() {
        return !decideSets.isEmpty() || decideExtra.contains("@signal");
    }

    /** The calls it subscribed to, to observe or to decide. */
    @Override
    public SyscallInterest interest() {
        SyscallInterest i = SyscallInterest.only(java.util.Set.of());
        for (SyscallSet s : decideSets) i = i.union(s.interest());
        for (SyscallSet s : observeSets) i = i.union(s.interest());
        return i;
    }

    /** A deciding tracer answers later, several events outstanding at once (see {@link #bindDeviceThread}). */
    @Override
    public boolean answersLater() {
        return !decideSets.isEmpty();
    }

    @Override
    public void bindDeviceThread(java.util.concurrent.Executor executor) {
        this.deviceThread = executor;
        wakeDevice(); // anything that came before
    }

    /**
     * Sends the event and returns at once: the answer completes the future on the device's
     * thread, as do the tracer's writes and queries meanwhile; the timeout continues the call.
     * Without a bound device thread, as {@link #onSyscallEntry}.
     */
    @Override
    public java.util.concurrent.CompletableFuture<Decision> onSyscallEntryLater(SyscallEntry e, Tracee tracee) {
        java.util.concurrent.Executor device = deviceThread;
        if (device == null || dead || !any(decideSets, e.nr())) {
            return java.util.concurrent.CompletableFuture.completedFuture(onSyscallEntry(e, tracee));
        }
        java.util.concurrent.CompletableFuture<Decision> answer = new java.util.concurrent.CompletableFuture<>();
        Outstanding o = new Outstanding(e, tracee, answer);
        outstanding.put(e.seq(), o);
        lastSent = e.seq();
        send(entryEvent(e));
        if (dead) {
            finish(o, Decision.proceed());
            return answer;
        }
        java.util.concurrent.CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS, device)
                .execute(() -> {
                    if (!outstanding.containsKey(e.seq())) return;
                    send(new Message.Error(e.seq(), "no answer within " + timeout.toMillis() + " ms: event " + e.seq()
                            + " continues"));
                    log.println("deja: tracer " + name + " did not answer event " + e.seq() + " within "
                            + timeout.toMillis() + " ms; it continues");
                    finish(o, Decision.proceed());
                });
        return answer;
    }

    private Message.Event entryEvent(SyscallEntry e) {
        SyscallEvent asEvent = new SyscallEvent(e.seq(), e.pid(), e.tid(), e.timeNs(), e.timeNs(), e.nr(), e.args(),
                e.inputs(), 0, List.<MemoryBlock>of(), SyscallEvent.NO_EXIT);
        String call = callText(renderer.render(asEvent));
        return event(e.seq(), e.pid(), e.tid(), e.timeNs(), e.nr(), e.args(), null, call);
    }

    @Override
    public Decision onSyscallEntry(SyscallEntry e, Tracee tracee) {
        if (dead || !any(decideSets, e.nr())) return Decision.proceed();
        Message answer = exchange(entryEvent(e), tracee, e.args());
        return toDecision(answer, e);
    }

    /** The decision an answer stands for (null: the call continues). */
    private static Decision toDecision(Message answer, SyscallEntry e) {
        return switch (answer) {
            case Message.SkipFail f -> Decision.fail(f.errno());
            case Message.SkipOk k -> Decision.succeed(k.value());
            case Message.Rewrite w -> {
                long[] args = e.args();
                w.args().forEach((i, v) -> args[i] = v);
                yield new Decision.Rewrite(w.nr() >= 0 ? w.nr() : e.nr(), args);
            }
            case null, default -> Decision.proceed();
        };
    }

    @Override
    public int signalToDeliver(SignalEvent e, Tracee tracee) {
        if (dead || !decideExtra.contains("@signal")) return e.signo();
        Message answer = exchange(event(e.seq(), e.pid(), e.tid(), e.timeNs(), -1, null, null, renderer.renderSignal(e)),
                tracee, null);
        return answer instanceof Message.Deliver d ? d.signo() : e.signo();
    }

    @Override
    public void onSyscall(SyscallEvent e, Tracee tracee) {
        if (dead || !any(observeSets, e.nr())) return;
        Message.Event m = event(e.seq(), e.pid(), e.tid(), e.timeNs(), e.nr(), e.args(),
                e.returned() ? e.result() : null, collapse(renderer.render(e)));
        observed(e.seq());
        send(m);
    }

    @Override
    public void onSignal(SignalEvent e, Tracee tracee) {
        if (dead || !observeExtra.contains("@signal")) return;
        observed(e.seq());
        send(event(e.seq(), e.pid(), e.tid(), e.timeNs(), -1, null, null, renderer.renderSignal(e)));
    }

    @Override
    public void onSpawn(SpawnEvent e) {
        if (dead || !observeExtra.contains("@spawn")) return;
        observed(e.seq());
        send(event(e.seq(), e.pid(), e.tid(), e.timeNs(), -1, null, null,
                "+++ " + e.spawnKind().name().toLowerCase(java.util.Locale.ROOT) + " " + e.childTid() + " +++"));
    }

    @Override
    public void onExec(ExecEvent e, Path executable) {
        if (dead || !observeExtra.contains("@exec")) return;
        observed(e.seq());
        send(event(e.seq(), e.pid(), e.tid(), e.timeNs(), -1, null, null, "+++ exec " + e.path() + " +++"));
    }

    @Override
    public void onContext(ContextEvent e) {
        contexts.put(e.pid(), e.context());
    }

    @Override
    public void onExit(ExitEvent e) {
        if (e.processExit()) contexts.remove(e.pid());
        if (dead || !observeExtra.contains("@exit")) return;
        observed(e.seq());
        send(event(e.seq(), e.pid(), e.tid(), e.timeNs(), -1, null, null, renderer.renderExit(e)));
    }

    private void observed(long seq) {
        lastSent = seq;
        remember(observedOnly, seq);
    }

    private static void remember(LinkedHashSet<Long> set, long seq) {
        set.add(seq);
        if (set.size() > REMEMBERED) set.removeFirst();
    }

    /** "write(2, ...)                  = ?" without the result; "openat(...)   = 3" with one space before "=". */
    static String callText(String rendered) {
        String t = rendered;
        if (t.endsWith(" = ?")) t = t.substring(0, t.length() - 4);
        return t.stripTrailing();
    }

    static String collapse(String rendered) {
        return StraceTracer.repad(rendered, 39);
    }

    private Message.Event event(long seq, int pid, int tid, long timeNs, int nr, long[] args, Long result, String call) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("pid", Integer.toString(pid));
        f.put("tid", Integer.toString(tid));
        ProcessContext c = contexts.get(pid);
        if (c != null) {
            f.put("ppid", Integer.toString(c.ppid()));
            f.put("uid", Integer.toString(c.uid()));
            f.put("gid", Integer.toString(c.gid()));
            f.put("exe", c.exe());
        }
        f.put("time", String.format("%d.%06d", timeNs / 1_000_000_000L, timeNs / 1000 % 1_000_000));
        if (nr >= 0) {
            f.put("nr", Integer.toString(nr));
            StringBuilder a = new StringBuilder();
            for (int i = 0; i < 6; i++) a.append(i > 0 ? "," : "").append("0x").append(Long.toHexString(args[i]));
            f.put("args", a.toString());
        }
        if (result != null) f.put("result", Long.toString(result));
        return new Message.Event(seq, f, call);
    }

    /** Sends an event that needs an answer and serves the tracer until it answers; null when it did not. */
    private Message exchange(Message.Event event, Tracee tracee, long[] args) {
        boolean syscall = args != null;
        long seq = event.seq();
        waitingFor = seq;
        lastSent = seq;
        send(event);
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!dead) {
                Object o;
                try {
                    o = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
                if (o == null) {
                    send(new Message.Error(seq, "no answer within " + timeout.toMillis() + " ms: event " + seq
                            + (syscall ? " continues" : " is delivered")));
                    log.println("deja: tracer " + name + " did not answer event " + seq + " within "
                            + timeout.toMillis() + " ms; it continues");
                    return null;
                }
                if (o == EOF) {
                    died("it hung up while event " + seq + " was waiting for its answer (the event continues)");
                    hungUp();
                    return null;
                }
                Message m = (Message) o;
                if (m.seq() != seq) {
                    dispatch(m); // about another outstanding event, or refused
                    continue;
                }
                switch (m) {
                    case Message.Set s -> write(tracee, s, args);
                    case Message.Peek p -> send(peek(tracee, p));
                    case Message.Fds f -> send(new Message.Reply(seq, "fds", fds(tracee.pid())));
                    case Message.Proc p -> send(new Message.Reply(seq, "proc", proc(tracee)));
                    case Message.Continue c -> {
                        return c;
                    }
                    case Message.SkipFail f when syscall -> {
                        return f;
                    }
                    case Message.SkipOk k when syscall -> {
                        return k;
                    }
                    case Message.Rewrite w when syscall -> {
                        return w;
                    }
                    case Message.Deliver d when !syscall -> {
                        return d;
                    }
                    default -> send(new Message.Error(seq, "refused: " + verb(m) + " does not answer "
                            + (syscall ? "a syscall (continue, skip-fail, skip-ok, rewrite)" : "a signal (continue, deliver, suppress)")));
                }
            }
            return null;
        } finally {
            waitingFor = 0;
            remember(answered, seq);
        }
    }

    private String verb(Message m) {
        String t = text.format(m);
        String[] w = t.split(" ");
        return w.length > 1 && w[0].matches("[0-9]+") ? w[1] : w[0];
    }

    private void refuse(Message m) {
        long s = m.seq();
        String why;
        if (s == 0 || m instanceof Message.Hello || m instanceof Message.Subscribe || m instanceof Message.Ready) {
            why = "refused: " + verb(m) + " is not expected now (the handshake is over)";
        } else if (answered.contains(s)) {
            why = "refused: event " + s + " was already answered (or timed out); nothing changed";
        } else if (observedOnly.contains(s)) {
            why = "refused: event " + s + " was sent to observe; it takes no answer";
        } else {
            List<Long> waiting = new ArrayList<>(outstanding.keySet());
            if (waitingFor != 0) waiting.add(waitingFor);
            why = "refused: no event " + s + " is waiting for your answer" + (waiting.isEmpty() ? ""
                    : waiting.size() == 1 ? " (event " + waiting.getFirst() + " is)" : " (events " + waiting + " are)");
        }
        send(new Message.Error(s, why));
    }

    private void write(Tracee tracee, Message.Set s, long[] args) {
        if (s.arg() >= 0 && args == null) {
            send(new Message.Error(s.seq(), "set refused: event " + s.seq() + " is not a syscall; set takes an address here"));
            return;
        }
        long address = s.arg() >= 0 ? args[s.arg()] : s.address();
        try {
            tracee.write(address, s.data());
        } catch (DeviceException e) {
            send(new Message.Error(s.seq(), "set refused: " + e.getMessage()));
        } catch (NativeCallException e) {
            // The device's write lets process_vm_writev's own failure through when not one byte could
            // be written (an unmapped address): a refusal too, never the end of the run.
            send(new Message.Error(s.seq(), "set refused: cannot write " + s.data().length + " bytes at 0x"
                    + Long.toHexString(address) + " in pid " + tracee.pid() + " tid " + tracee.tid() + ": " + e.call() + " failed: "
                    + dev.deja.device.syscall.Errno.name(e.errno()) + " (" + dev.deja.device.syscall.Errno.message(e.errno()) + ")"));
        }
    }

    private Message peek(Tracee tracee, Message.Peek p) {
        byte[] buf = new byte[p.length()];
        int n = tracee.memory().read(p.address(), buf, 0, buf.length);
        if (n < 0) n = 0;
        Map<String, String> v = new LinkedHashMap<>();
        v.put("addr", "0x" + Long.toHexString(p.address()));
        v.put("len", Integer.toString(n));
        v.put("hex", Quoting.hex(java.util.Arrays.copyOf(buf, n)));
        return new Message.Reply(p.seq(), "peek", v);
    }

    private static Map<String, String> fds(int pid) {
        Map<String, String> m = new LinkedHashMap<>();
        Path dir = Path.of("/proc", Integer.toString(pid), "fd");
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted((a, b) -> Integer.compare(Integer.parseInt(a.getFileName().toString()),
                    Integer.parseInt(b.getFileName().toString()))).toList()) {
                try {
                    m.put(p.getFileName().toString(), Files.readSymbolicLink(p).toString());
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
        return m;
    }

    private Map<String, String> proc(Tracee tracee) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("pid", Integer.toString(tracee.pid()));
        m.put("tid", Integer.toString(tracee.tid()));
        Path dir = Path.of("/proc", Integer.toString(tracee.pid()));
        try {
            for (String line : Files.readAllLines(dir.resolve("status"))) {
                String[] kv = line.split(":\\s*", 2);
                if (kv.length < 2) continue;
                String[] w = kv[1].trim().split("\\s+");
                switch (kv[0]) {
                    case "Name" -> m.put("comm", kv[1].trim());
                    case "PPid" -> m.put("ppid", w[0]);
                    case "Uid" -> {
                        m.put("uid", w[0]);
                        m.put("euid", w[1]);
                    }
                    case "Gid" -> {
                        m.put("gid", w[0]);
                        m.put("egid", w[1]);
                    }
                    case "Groups" -> m.put("groups", String.join(",", w));
                    default -> {
                    }
                }
            }
            m.put("exe", Files.readSymbolicLink(dir.resolve("exe")).toString());
            m.put("cwd", Files.readSymbolicLink(dir.resolve("cwd")).toString());
        } catch (IOException | RuntimeException e) {
            m.put("error", "cannot read " + dir + ": " + e.getMessage());
        }
        return m;
    }

    /**
     * Says goodbye by closing the tracer's input once what is queued for it is written (at most
     * {@link #CLOSE_FLUSH}), then ends it (a program: a grace period, then its whole process group
     * is killed); waits a moment for its reader to end. A tracer that does not take its last lines
     * is ended at once.
     */
    @Override
    public void close() {
        closed = true;
        if (!outbox.close(CLOSE_FLUSH)) {
            if (!dead) log.println("deja: tracer " + name + " did not read its last lines within " + CLOSE_FLUSH.toMillis() + " ms; ended");
            conn.abort().run();
        }
        try {
            if (conn.onClose() != null) conn.onClose().close();
        } catch (IOException e) {
            // its end is all that was asked; nothing is left to do with it
        }
        try {
            conn.in().close();
        } catch (IOException e) {
            // already closed
        }
        try {
            reader.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "tracer " + name + " (" + conn.label() + ")" + (dead ? " gone" : "");
    }
}
