package dev.deja.replayer.gdb;

import dev.deja.device.DebugAgent;
import dev.deja.device.DeviceException;
import dev.deja.device.Tracee;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.EventReader;
import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.SyscallEvent;
import dev.deja.replayer.Checkpoints;
import dev.deja.replayer.ReplayControl;
import dev.deja.replayer.Replayer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A GDB remote-protocol server on a live replay ({@code deja replay --gdb}). It runs on the replay's
 * tracing thread: the device stops the replaying thread for it ({@link DebugAgent}: the program's
 * start, breakpoints, steps) and the replayer before each recorded call ({@link ReplayControl}, where
 * an interrupt from gdb is taken), and while a thread is stopped the server reads gdb's packets and
 * answers them from that thread (registers, memory), until gdb resumes it.
 *
 * <p>The replay stays authoritative: gdb reads everything, writes nothing (register and memory
 * writes are refused with an error and a line on deja's console). Continuing runs the replay
 * forward, every recorded call answered as in a plain replay.
 */
public final class GdbServer implements ReplayControl, DebugAgent, AutoCloseable {
    /** What the server largest packet may be (hex memory reads, XML chunks). */
    static final int PACKET_SIZE = 0x4000;
    private static final int SIGINT = 2;
    private static final int SIGTRAP = 5;
    private static final int SIGKILL = 9;
    private static final String READ_ONLY = "E.deja replays a recording: registers and memory are read-only";

    /**
     * What gdb is told about the program.
     *
     * @param executable   the path gdb loads symbols from (qXfer:exec-file:read)
     * @param name         the program's name (comm) as recorded after its exec: the replay runs a copy under another name
     * @param auxv         the auxiliary vector the program started with, as the kernel lays it out
     * @param recordedExit how the program ended when recorded, or null when the recording does not say
     */
    public record Program(String executable, String name, long[] auxv, List<FileMapping> files, ExitEvent recordedExit,
                          ProcessCalls calls) {
        public Program {
            auxv = auxv.clone();
            files = List.copyOf(files);
        }

        /** Without the recording's calls ({@code monitor goto} then finds none). */
        public Program(String executable, String name, long[] auxv, List<FileMapping> files, ExitEvent recordedExit) {
            this(executable, name, auxv, files, recordedExit, ProcessCalls.NONE);
        }

        @Override
        public long[] auxv() {
            return auxv.clone();
        }

        /** The file mapped at {@code start} from its offset 0 (a loaded object's first mapping), or null. */
        FileMapping fileAt(long start) {
            for (FileMapping f : files) if (f.start() == start) return f;
            return null;
        }

        /**
         * From a recording: its first program (the first exec), served by the recorded path when that file
         * is still the recorded one on this machine, else by the recording's copy of it; its recorded
         * auxiliary vector (the vDSO entry already hidden, as the replayed program sees it); the files it
         * mapped from their start (the loaded objects), with their copies; its end.
         */
        public static Program of(Recording rec) throws RecordingException {
            ExecEvent exec = null;
            ExitEvent exit = null;
            String name = null;
            List<MappingEvent> mapped = new ArrayList<>();
            ProcessCalls calls = new ProcessCalls();
            try (EventReader events = rec.events()) {
                for (Event e; (e = events.next()) != null; ) {
                    if (e instanceof SyscallEvent s) calls.add(s.pid(), s.seq());
                    if (exec == null && e instanceof ExecEvent x) exec = x;
                    if (exec == null) continue;
                    if (name == null && e instanceof ContextEvent c && c.pid() == exec.pid()) name = c.context().comm();
                    if (e instanceof ExitEvent x && x.processExit() && x.pid() == exec.pid()) exit = x;
                    if (e instanceof MappingEvent m && m.pid() == exec.pid() && m.offset() == 0 && !m.blob().isEmpty()) mapped.add(m);
                }
            }
            if (exec == null) throw new RecordingException(rec.path() + " holds no exec: no program to debug");
            if (exec.exeBlob().isEmpty()) {
                throw new RecordingException(rec.path() + " holds no copy of the executable " + exec.path());
            }
            List<FileMapping> files = new ArrayList<>();
            for (MappingEvent m : mapped) files.add(new FileMapping(m.address(), m.path(), rec.blob(m.blob()).toString()));
            Path copy = rec.blob(exec.exeBlob());
            String exe = sameFile(Path.of(exec.path()), copy.toString()) ? exec.path() : copy.toString();
            if (name == null) name = Path.of(exec.path()).getFileName().toString();
            return new Program(exe, name, exec.auxv(), files, exit, calls);
        }
    }

    /** A file the program mapped from its start: where, its recorded path, and the recording's copy of it. */
    public record FileMapping(long start, String path, String copy) {
    }

    /** Whether {@code local} on this machine holds the bytes of the recorded copy. */
    static boolean sameFile(Path local, String copy) {
        try {
            return Files.isRegularFile(local) && Files.mismatch(local, Path.of(copy)) == -1;
        } catch (IOException e) {
            return false; // unreadable here: the copy serves
        }
    }

    private final ServerSocket listener;
    private final Program program;
    private final PrintStream console;
    private final SyscallTable syscalls = SyscallTable.of(Arch.current());
    private volatile Socket socket;
    /** deja is being stopped (Ctrl-C, SIGTERM): the sockets close under the tracing thread. */
    private volatile boolean stopping;
    private InputStream in;
    private OutputStream out;
    private GdbPackets.Reader reader;
    private GdbPackets.Incoming pending;
    private boolean noAck;
    private boolean swbreak;
    /** gdb resumed the program and waits for a stop reply. */
    private boolean running;
    /** gdb detached (or never came): the replay runs on without stopping. */
    private boolean detached;
    private byte[] lastSent;
    /** The last recorded call the replay reached (its entry), and its name. */
    private long when = 1;
    private String whenCall = "execve";
    /** The thread stopped for gdb now, and the breakpoints gdb inserted. */
    private Tracee current;
    private final Set<Long> breakpoints = new HashSet<>();
    /** Whether a local file is the recorded one, by "path\0copy" (a library is compared once). */
    private final Map<String, Boolean> sameFiles = new HashMap<>();
    private String stopReply;
    /** catch syscall (QCatchSyscalls): every call, or these numbers; the call whose return stop is due (-1: none). */
    private boolean catchesAll;
    private final Set<Integer> caught = new HashSet<>();
    private int returning = -1;
    /** The name the replayed copy of the program runs under (its file name in deja's replay directory). */
    private String copyName;
    /** Write watchpoints (Z2); a replayed call writes watched bytes and its return stop is due; gdb's last resume stepped. */
    private final WatchSet watches = new WatchSet();
    /** The process whose pages carry deja's protections for the watches (0: none; going back restores copies without). */
    private int watchedPid;
    private boolean watchAfterCall;
    private boolean stepping;
    /** gdb took the multiprocess extension: thread ids are pPID.TID. */
    private boolean multiprocess;
    /** The thread gdb reads registers of (Hg), and the other threads asked to step when they next run. */
    private Tracee selected;
    private final Set<Tracee> steppingOthers = new HashSet<>();
    /** The thread whose "returned from syscall" stop is due (catch syscall), or 0. */
    private int returningTid;
    /** The recorded tids and names of the threads, by live tid. */
    private final RecordedThreads names;
    /** The process gdb debugs: the program's (0 until its first stop for gdb), and its recorded pid (0: not seen yet). */
    private int programPid;
    private int recordedProgramPid;
    /** Started by {@code deja debug}'s {@code gdb} ({@link #attachAt}): detaching hands the replay back to the shell. */
    private boolean forShell;
    /** Going back (bs, bc) and the monitor's checkpoints, on the replay's checkpoints. */
    private final Rewind rewind;

    public GdbServer(ServerSocket listener, Program program, PrintStream console) {
        this(listener, program, console, new RecordedThreads(SyscallTable.of(Arch.current()).number("prctl").orElse(-1)));
    }

    /** As above, with thread names another hook has gathered from the replay's start ({@code deja debug}'s). */
    public GdbServer(ServerSocket listener, Program program, PrintStream console, RecordedThreads names) {
        this.listener = listener;
        this.program = program;
        this.console = console;
        this.names = names;
        this.rewind = new Rewind(breakpoints, new RewindWatching(), names, this::catches);
    }

    /** The watches as going back handles them (Rewind.Watching). */
    private final class RewindWatching implements Rewind.Watching {
        @Override
        public boolean any() {
            return !watches.isEmpty();
        }

        @Override
        public boolean lift(Tracee t) {
            if (watches.isEmpty() || watchedPid != t.pid()) return false;
            for (WatchSet.Watch w : watches.watches()) t.unwatchMemory(w.address(), w.length(), w.kind().reads());
            watchedPid = 0;
            return true;
        }

        @Override
        public void protect(Tracee t) {
            if (watches.isEmpty() || watchedPid == t.pid()) return;
            for (WatchSet.Watch w : watches.watches()) t.watchMemory(w.address(), w.length(), w.kind().reads());
            watchedPid = t.pid();
        }

        @Override
        public void rebase(Tracee t) {
            watches.rebase((address, length) -> readExactly(t, address, length));
        }

        @Override
        public String changed(Tracee t) {
            WatchSet.Watch w = watches.changed((address, length) -> readExactly(t, address, length));
            return w == null ? null : w.stopInfo();
        }

        @Override
        public String accessed(Stored s, Tracee t) {
            List<WatchSet.Watch> hits = watches.accessed(s.address(), s.wrote(), (address, length) -> readExactly(t, address, length));
            return hits.isEmpty() ? null : hits.getFirst().stopInfo();
        }

        @Override
        public boolean written(SyscallEvent recorded, Tracee t) {
            return watches.written(recorded, liveArgs(t));
        }
    }

    // ---------------------------------------------------------------- the replay's hooks

    @Override
    public DebugAgent debugAgent() {
        return this;
    }

    /** The replay's checkpoints come here: gdb can go back ({@code reverse-*}, {@code monitor restart}). */
    @Override
    public boolean checkpointing() {
        return true;
    }

    @Override
    public void checkpoints(Checkpoints checkpoints) {
        rewind.checkpoints(checkpoints);
        names.alsoAsk(checkpoints::recordedTid);
    }

    @Override
    public void beforeEvent(SyscallEvent recorded, Tracee tracee) {
        when = recorded.seq();
        whenCall = syscalls.name(recorded.nr());
        names.observe(recorded, tracee);
        if (detached || socket == null) return;
        if (rewind.seeking()) {
            // a restored copy runs under another pid (checkpoints hold the program's one process)
            if (recordedProgramPid == 0 || recorded.pid() == recordedProgramPid) programPid = tracee.pid();
            rewind.observeCall(recorded);
            switch (rewind.atCall(recorded, tracee)) {
                case Rewind.Go go -> {
                    if (go.how() == Resume.STEP) tracee.stopAfterCall();
                }
                case Rewind.Arrive a -> {
                    if (arrived(tracee, a) == Resume.STEP || returning >= 0) tracee.stopAfterCall();
                    if (!rewind.seeking() && !watches.isEmpty() && watches.written(recorded, liveArgs(tracee))) {
                        watchAfterCall = true; // arrived before a call writing a watch, and gdb went on: its hit
                        tracee.stopAfterCall();
                    }
                }
            }
            return;
        }
        // gdb follows the program's process: a forked child's calls do not stop it.
        if (programPid != 0 && tracee.pid() != programPid) return;
        recordedProgramPid = recorded.pid();
        rewind.observeCall(recorded);
        rewind.maybeCheckpoint(recorded, tracee); // with watches set too: the copy is taken without deja's protections
        if (!watches.isEmpty() && watches.written(recorded, liveArgs(tracee))) {
            watchAfterCall = true; // a recorded read into a watched buffer: a hit at that call's return
            tracee.stopAfterCall();
        }
        if (interruptArrived()) {
            // Ctrl-C in gdb: taken at the next recorded call (nothing stops a thread between calls).
            Resume how = serve(tracee, stop(SIGINT, tracee, false));
            if (how == Resume.STEP) tracee.stopAfterCall();
            return;
        }
        if (catches(recorded)) {
            // catch syscall: a stop at the recorded call's entry, then one once it has returned
            serve(tracee, "T" + hex8(SIGTRAP) + "syscall_entry:" + Integer.toHexString(recorded.nr()) + ";thread:"
                    + threadId(tracee) + ";");
            returning = recorded.nr();
            returningTid = tracee.tid();
            tracee.stopAfterCall();
        }
    }

    @Override
    public Resume stopped(Stop why, Tracee thread) {
        if (detached) return Resume.CONTINUE;
        if (socket == null && !connect()) return Resume.CONTINUE;
        if (programPid == 0) programPid = thread.pid();
        if (rewind.seeking()) {
            return switch (rewind.atStop(why, thread)) {
                case Rewind.Go go -> go.how();
                case Rewind.Arrive a -> arrived(thread, a);
            };
        }
        rewind.observeStop();
        if (why instanceof Stored s) return watchedStore(s, thread);
        if (why instanceof Stepped && watchAfterCall) {
            watchAfterCall = false;
            String hit = watchHit(thread);
            if (hit != null) {
                returning = -1;
                returningTid = 0;
                return serveHits(thread, hit);
            }
            if (returning < 0 && !stepping) return Resume.CONTINUE; // nothing watched changed, and gdb did not ask to stop
        }
        if (why instanceof Stepped && returning >= 0 && thread.tid() == returningTid) {
            String reply = "T" + hex8(SIGTRAP) + "syscall_return:" + Integer.toHexString(returning) + ";thread:"
                    + threadId(thread) + ";";
            returning = -1;
            returningTid = 0;
            return serve(thread, reply);
        }
        return serve(thread, stop(SIGTRAP, thread, why instanceof Breakpoint));
    }

    /**
     * {@code deja debug}'s {@code gdb}: the replay is parked before {@code recorded}, replayed by {@code t}
     * (at that call's entry); waits for gdb there and serves it until gdb resumes the program (then the
     * server goes on as the replay's hook) or detaches ({@link #detached()}: the shell takes over again).
     */
    public Resume attachAt(SyscallEvent recorded, Tracee t) {
        forShell = true;
        when = recorded.seq();
        whenCall = syscalls.name(recorded.nr());
        programPid = t.pid();
        recordedProgramPid = recorded.pid();
        if (!connect("event #" + when + " (" + whenCall + ", thread " + t.tid() + ")")) return Resume.CONTINUE;
        rewind.observeCall(recorded);
        rewind.maybeCheckpoint(recorded, t); // the start of gdb's history, unless the shell's checkpoints are enough
        return serve(t, stop(SIGTRAP, t, false));
    }

    /** gdb detached, or never connected: the replay goes on without it. */
    public boolean detached() {
        return detached;
    }

    /**
     * The replay ended ({@code outcome}, or {@code failure} when deja could not go on): gdb hears the
     * program's end if it waits for a stop, and may look on until it detaches, kills or disconnects.
     */
    public void finished(Replayer.Outcome outcome, String failure) {
        current = null;
        if (socket == null || detached) return;
        String end;
        if (failure != null) {
            consoleOutput("deja: the replay failed: " + failure + "\n");
            end = "X" + hex8(SIGKILL);
        } else if (outcome.divergence() != null) {
            consoleOutput("deja: " + outcome.divergence().headline() + "\n");
            end = "X" + hex8(SIGKILL);
        } else {
            ExitEvent x = program.recordedExit();
            if (x != null && x.killed() && outcome.status() == x.shellStatus()) end = "X" + hex8(x.termSignal());
            else end = "W" + hex8(outcome.status() & 0xff);
            if (multiprocess && programPid != 0) end += ";process:" + Integer.toHexString(rewind.presentedPid(programPid, programPid));
        }
        stopReply = end;
        if (running) {
            running = false;
            send(end);
        }
        try {
            while (true) {
                GdbPackets.Incoming next = next();
                if (next instanceof GdbPackets.End) return;
                if (!(next instanceof GdbPackets.Packet p)) continue;
                String text = p.text();
                if (text.equals("k") || text.startsWith("vKill") || text.startsWith("D")) {
                    detached = true;
                    if (!text.equals("k")) send("OK");
                    return;
                }
                if (text.equals("?")) send(stopReply);
                else if (text.startsWith("qfThreadInfo")) send("l");
                else if (text.startsWith("vCont;") || text.equals("c") || text.equals("s")) send(stopReply);
                else send(answerWithoutProcess(text));
            }
        } catch (UncheckedIOException e) {
            console.println("deja: the gdb connection ended: " + e.getCause().getMessage());
        }
    }

    private String answerWithoutProcess(String text) {
        if (text.startsWith("qSupported") || text.startsWith("QStartNoAckMode") || text.startsWith("qXfer")) return answer(text, null);
        if (text.startsWith("qRcmd,")) return answer(text, null);
        return "E01";
    }

    // ---------------------------------------------------------------- connection

    private boolean connect() {
        return connect("the program's start");
    }

    private boolean connect(String at) {
        String where = hostForGdb(listener) + ":" + listener.getLocalPort();
        console.println("deja: the replay is at " + at + "; gdb server listening on " + where);
        console.println("deja: connect with: gdb -ex 'target extended-remote " + where + "' " + shellQuoted(program.executable()));
        console.flush();
        try {
            socket = listener.accept();
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
            out = socket.getOutputStream();
            reader = new GdbPackets.Reader(in);
            console.println("deja: gdb connected from " + socket.getRemoteSocketAddress());
            return true;
        } catch (IOException e) {
            if (stopping) throw new ReplayControl.Abandon("deja is stopping");
            console.println("deja: no gdb connection (" + e.getMessage() + "): the replay runs on without a debugger");
            detached = true;
            return false;
        }
    }

    private static String hostForGdb(ServerSocket listener) {
        String h = listener.getInetAddress().getHostAddress();
        return h.contains(":") ? "[" + h + "]" : h;
    }

    private static String shellQuoted(String s) {
        return s.matches("[A-Za-z0-9_@%+=:,./-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    private boolean interruptArrived() {
        try {
            if (pending == null && in.available() == 0) return false;
            if (pending == null) pending = reader.next();
            if (pending instanceof GdbPackets.Interrupt) {
                pending = null;
                return true;
            }
            return pending instanceof GdbPackets.Packet || pending instanceof GdbPackets.End;
        } catch (IOException e) {
            pending = new GdbPackets.End();
            return true;
        }
    }

    private GdbPackets.Incoming next() {
        if (pending != null) {
            GdbPackets.Incoming p = pending;
            pending = null;
            return p;
        }
        try {
            return reader.next();
        } catch (IOException e) {
            return new GdbPackets.End();
        }
    }

    private void send(String payload) {
        sendRaw(GdbPackets.frame(payload.getBytes(StandardCharsets.ISO_8859_1)));
    }

    private void sendBinary(byte[] payload) {
        sendRaw(GdbPackets.frame(payload));
    }

    private void sendRaw(byte[] framed) {
        lastSent = framed;
        try {
            out.write(framed);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A line on gdb's console: an O packet, allowed while gdb waits for a stop reply or a monitor command's answer. */
    private void consoleOutput(String text) {
        send("O" + GdbPackets.hex(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * From any thread (deja's Ctrl-C or SIGTERM hook): stops waiting for gdb and for its packets, so that
     * the tracing thread returns and the replay ends at once.
     */
    public void shutdown() {
        stopping = true;
        try {
            listener.close();
        } catch (IOException e) {
            console.println("deja: closing the gdb server: " + e.getMessage());
        }
        close();
    }

    @Override
    public void close() {
        try {
            if (socket != null) socket.close();
        } catch (IOException e) {
            console.println("deja: closing the gdb connection: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- serving a stop

    private String stop(int signal, Tracee t, boolean breakpoint) {
        return "T" + hex8(signal) + "thread:" + threadId(t) + ";" + (breakpoint && swbreak ? "swbreak:;" : "");
    }

    /** Thread ids as gdb first saw them: a copy restored to go back runs under other live ids. */
    private String threadId(Tracee t) {
        return GdbThreadId.format(rewind.presentedPid(t.pid(), programPid), rewind.presentedTid(t.tid(), programPid), multiprocess);
    }

    /** A move back arrived: gdb gets its stop (or the answer to the monitor command that moved the program). */
    private Resume arrived(Tracee t, Rewind.Arrive a) {
        if (a.note() != null) consoleOutput(a.note());
        if (a.stopInfo().startsWith("syscall_entry:")) {
            // back at a caught call's entry: going on, gdb expects its return stop, as going forward
            returning = (int) GdbPackets.parseHex(a.stopInfo().substring(14, a.stopInfo().indexOf(';')));
            returningTid = t.tid();
        }
        if (a.monitorText() != null) {
            running = false;
            consoleOutput(a.monitorText());
            send("OK");
        }
        return serve(t, "T" + hex8(SIGTRAP) + a.stopInfo() + "thread:" + threadId(t) + ";");
    }

    /** bs, bc: going back by re-running from a checkpoint (a restore thrown from here), or an error reply. */
    private Resume reverse(Rewind.Op op, Tracee t) {
        String refusal = rewind.refusal();
        if (refusal != null) {
            send(refusal);
            return null;
        }
        forgetStop();
        running = true;
        stepping = false;
        Rewind.Arrive nothingBefore = rewind.start(op, t);
        running = false;
        send("T" + hex8(SIGTRAP) + nothingBefore.stopInfo() + "thread:" + threadId(t) + ";");
        return null;
    }

    /** Going back leaves this run: what the server held about its stop does not carry over. */
    private void forgetStop() {
        for (Tracee other : steppingOthers) other.stepWhenReleased(false);
        steppingOthers.clear();
        returning = -1;
        returningTid = 0;
        watchAfterCall = false;
    }

    /** Serves gdb with {@code t} stopped until gdb resumes it; returns how. */
    private Resume serve(Tracee t, String reply) {
        rewind.served();
        current = t;
        selected = t;
        // All-stop: a stop on any thread ends the steps gdb asked of the others (it asks again).
        for (Tracee other : steppingOthers) if (other.tid() != t.tid()) other.stepWhenReleased(false);
        steppingOthers.clear();
        stopReply = reply;
        try {
            if (running) {
                running = false;
                send(reply);
            }
            while (true) {
                GdbPackets.Incoming next = next();
                switch (next) {
                    case GdbPackets.End e -> {
                        if (!stopping) console.println("deja: gdb disconnected: the replay ends");
                        throw new ReplayControl.Abandon("gdb disconnected");
                    }
                    case GdbPackets.Nack n -> {
                        if (lastSent != null) sendRaw(lastSent);
                    }
                    case GdbPackets.Corrupt c -> sendAck('-');
                    case GdbPackets.Ack a -> {
                    }
                    case GdbPackets.Interrupt i -> {
                        // already stopped: nothing to interrupt
                    }
                    case GdbPackets.Packet p -> {
                        if (!noAck) {
                            sendAck('+');
                            dropRetransmissions(p);
                        }
                        Resume how = handle(p.text(), t);
                        if (how != null) {
                            current = null;
                            selected = null;
                            return how;
                        }
                    }
                }
            }
        } catch (UncheckedIOException e) {
            console.println("deja: the gdb connection failed (" + e.getCause().getMessage() + "): the replay ends");
            throw new ReplayControl.Abandon("the gdb connection failed");
        }
    }

    /**
     * gdb sends a packet again when its acknowledgement is late (a replay still starting up when gdb
     * connected): copies already waiting are acknowledged and dropped, or each would get a reply.
     */
    private void dropRetransmissions(GdbPackets.Packet p) {
        try {
            while (pending == null && in.available() > 0) {
                GdbPackets.Incoming again = reader.next();
                if (again instanceof GdbPackets.Packet q && java.util.Arrays.equals(q.payload(), p.payload())) {
                    sendAck('+');
                } else if (!(again instanceof GdbPackets.Ack)) {
                    pending = again;
                }
            }
        } catch (IOException e) {
            pending = new GdbPackets.End();
        }
    }

    private void sendAck(char c) {
        try {
            out.write(c);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Answers one packet; a {@link Resume} when gdb lets the thread go on. */
    private Resume handle(String p, Tracee t) {
        if (p.startsWith("vCont;")) return resume(p.substring(6), t);
        if (p.equals("bs")) return reverse(Rewind.Op.REVERSE_STEP, t);
        if (p.equals("bc")) return reverse(Rewind.Op.REVERSE_CONTINUE, t);
        if (p.equals("c") || p.startsWith("c") && p.length() > 1 && isHex(p.substring(1))) return resumeChecked(p, Resume.CONTINUE, t);
        if (p.equals("s") || p.startsWith("s") && p.length() > 1 && isHex(p.substring(1))) return resumeChecked(p, Resume.STEP, t);
        if (p.startsWith("C") && p.length() > 1 && isHex(p.substring(1).split(";")[0])) return go(Resume.CONTINUE);
        if (p.startsWith("S") && p.length() > 1 && isHex(p.substring(1).split(";")[0])) return go(Resume.STEP);
        if (p.equals("k") || p.startsWith("vKill")) {
            if (!p.equals("k")) send("OK");
            console.println("deja: gdb killed the program: the replay ends");
            throw new ReplayControl.Abandon("gdb killed the program");
        }
        if (p.startsWith("D")) {
            send("OK");
            detach(t);
            return Resume.CONTINUE;
        }
        send(answer(p, t));
        return null;
    }

    private Resume resumeChecked(String p, Resume how, Tracee t) {
        if (p.length() > 1 && GdbPackets.parseHex(p.substring(1)) != t.registers()[16]) {
            send("E.deja cannot resume at another address: the replay decides where the program is");
            return null;
        }
        return go(how);
    }

    /**
     * A vCont packet ({@code ACTION[:THREAD];...}, the first action naming a thread applies to it): the
     * stopped thread steps or continues; another thread told to step does so when the replay next lets
     * it run (the recorded order decides when; the threads before it run meanwhile, breakpoints
     * included). A thread given no action (scheduler-locking) still runs when the recording says so.
     */
    private Resume resume(String actions, Tracee t) {
        VContPlan plan;
        try {
            plan = VContPlan.parse(actions);
        } catch (IllegalArgumentException e) {
            send("E.deja supports vCont;c, C, s and S, each for all threads or one: " + e.getMessage());
            return null;
        }
        for (Tracee other : t.processThreads()) {
            if (other.tid() == t.tid() || plan.actionFor(rewind.presentedPid(other.pid(), programPid),
                    rewind.presentedTid(other.tid(), programPid)) != VContPlan.Action.STEP) continue;
            other.stepWhenReleased(true);
            steppingOthers.add(other);
        }
        return go(plan.actionFor(rewind.presentedPid(t.pid(), programPid), rewind.presentedTid(t.tid(), programPid))
                == VContPlan.Action.STEP ? Resume.STEP : Resume.CONTINUE);
    }

    private Resume go(Resume how) {
        running = true;
        stepping = how == Resume.STEP;
        watches.resumed();
        rewind.resumedForward();
        return how;
    }

    private void detach(Tracee t) {
        for (long addr : breakpoints) t.removeBreakpoint(addr);
        breakpoints.clear();
        if (watchedPid == t.pid()) for (WatchSet.Watch w : watches.watches()) t.unwatchMemory(w.address(), w.length(), w.kind().reads());
        watches.clear();
        watchedPid = 0;
        for (Tracee other : steppingOthers) other.stepWhenReleased(false);
        steppingOthers.clear();
        detached = true;
        console.println(forShell ? "deja: gdb detached: the shell stops at the replay's next call"
                : "deja: gdb detached: the replay runs on to the end");
        close();
    }

    /** The reply to a packet that does not resume; "" for what the server does not support (gdb's rule). */
    String answer(String p, Tracee t) {
        try {
            return answerOrThrow(p, t);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            return "E01";
        } catch (DeviceException e) {
            // a thread blocked in a call that runs for real is not stopped: its registers cannot be read
            return "E03";
        }
    }

    private String answerOrThrow(String p, Tracee t) {
        if (p.startsWith("qSupported")) {
            swbreak = p.contains("swbreak+");
            multiprocess = p.contains("multiprocess+");
            return (multiprocess ? "multiprocess+;" : "") + "PacketSize=" + Integer.toHexString(PACKET_SIZE) + ";qXfer:features:read+;qXfer:auxv:read+;"
                    + "qXfer:exec-file:read+;qXfer:threads:read+;qXfer:libraries-svr4:read+;QStartNoAckMode+;QCatchSyscalls+;vContSupported+;swbreak+"
                    + (rewind.available() ? ";ReverseStep+;ReverseContinue+" : "");
        }
        if (p.equals("QStartNoAckMode")) {
            noAck = true;
            return "OK";
        }
        if (p.equals("!")) return "OK";
        if (p.startsWith("QCatchSyscalls:")) return catchSyscalls(p.substring(15));
        if (p.equals("?")) return stopReply;
        if (p.startsWith("qXfer:")) return xfer(p.substring(6), t);
        if (p.startsWith("qRcmd,")) return monitor(new String(GdbPackets.unhex(p.substring(6)), StandardCharsets.UTF_8).trim(), t);
        if (t == null) return "E01";
        if (p.equals("qC")) return "QC" + threadId(t);
        if (p.equals("qfThreadInfo")) {
            StringBuilder ids = new StringBuilder("m");
            for (Tracee x : t.processThreads()) ids.append(ids.length() > 1 ? "," : "").append(threadId(x));
            return ids.toString();
        }
        if (p.equals("qsThreadInfo")) return "l";
        if (p.startsWith("qThreadExtraInfo,")) {
            Tracee x = thread(p.substring(17), t);
            if (x == null) return "E02";
            Integer recorded = names.recordedTid(x.tid());
            return GdbPackets.hex((recorded == null ? threadName(x) : "recorded tid " + recorded).getBytes(StandardCharsets.UTF_8));
        }
        if (p.equals("qAttached") || p.startsWith("qAttached:")) return "0";
        if (p.startsWith("Hg")) {
            Tracee x = thread(p.substring(2), t);
            if (x == null) return "E02";
            selected = x;
            return "OK";
        }
        if (p.startsWith("H")) return thread(p.substring(2), t) != null ? "OK" : "E02";
        if (p.startsWith("T")) return thread(p.substring(1), t) != null ? "OK" : "E02";
        if (p.equals("vCont?")) return "vCont;c;C;s;S";
        Tracee r = selected != null ? selected : t;
        if (p.equals("g")) return X86Target.allRegisters(r.registers(), r.fpRegisters());
        if (p.startsWith("p")) {
            int n = (int) GdbPackets.parseHex(p.substring(1));
            String v = X86Target.oneRegister(n, r.registers(), X86Target.needsFxsave(n) ? r.fpRegisters() : new byte[512]);
            return v == null ? "E00" : v;
        }
        if (p.startsWith("m")) return readMemory(p.substring(1), t);
        if (p.startsWith("G") || p.startsWith("P") || p.startsWith("M") || p.startsWith("X")) {
            console.println("deja: gdb asked to write " + (p.startsWith("G") || p.startsWith("P") ? "registers" : "memory")
                    + ": refused, the replay stays as recorded (deja has no diversions yet)");
            return READ_ONLY;
        }
        if (p.startsWith("Z0,")) return insert(p.substring(3), t);
        if (p.startsWith("z0,")) return remove(p.substring(3), t);
        if (p.length() > 2 && p.charAt(2) == ',' && WatchSet.Kind.ofPacketType(p.charAt(1)) != null) {
            WatchSet.Kind kind = WatchSet.Kind.ofPacketType(p.charAt(1));
            if (p.charAt(0) == 'Z') return insertWatch(p.substring(3), kind, t);
            if (p.charAt(0) == 'z') return removeWatch(p.substring(3), kind, t);
        }
        if (p.startsWith("vRun")) return "E.deja replays one recorded run: it cannot start another program";
        return "";
    }

    /** Whether gdb's {@code catch syscall} stops at recorded call {@code recorded} (a call of the process gdb debugs). */
    private boolean catches(SyscallEvent recorded) {
        if (recordedProgramPid != 0 && recorded.pid() != recordedProgramPid) return false;
        return catchesAll || caught.contains(recorded.nr());
    }

    /** {@code 0}: none; {@code 1}: all; {@code 1;nr;nr...}: those (hex). */
    private String catchSyscalls(String args) {
        String[] parts = args.split(";");
        Set<Integer> numbers = new HashSet<>();
        for (int i = 1; i < parts.length; i++) numbers.add((int) GdbPackets.parseHex(parts[i]));
        caught.clear();
        if (parts[0].equals("0")) {
            catchesAll = false;
            return "OK";
        }
        if (!parts[0].equals("1")) return "E01";
        catchesAll = numbers.isEmpty();
        caught.addAll(numbers);
        return "OK";
    }

    /** The live thread of the program that {@code id} names ({@code t}, the stopped one, for "any" or "all"), or null. */
    private Tracee thread(String id, Tracee t) {
        GdbThreadId want = GdbThreadId.parse(id);
        if (!want.single()) return want.matches(rewind.presentedPid(t.pid(), programPid), rewind.presentedTid(t.tid(), programPid)) ? t : null;
        for (Tracee x : t.processThreads()) {
            if (want.matches(rewind.presentedPid(x.pid(), programPid), rewind.presentedTid(x.tid(), programPid))) return x;
        }
        return null;
    }

    private String readMemory(String args, Tracee t) {
        String[] a = args.split(",");
        long addr = GdbPackets.parseHex(a[0]);
        int len = (int) Math.min(GdbPackets.parseHex(a[1]), PACKET_SIZE / 2 - 16);
        byte[] data = new byte[len];
        int n = t.memory().read(addr, data, 0, len);
        if (n <= 0 && len > 0) return "E14";
        return GdbPackets.hex(data, 0, Math.max(n, 0));
    }

    private String insert(String args, Tracee t) {
        long addr = GdbPackets.parseHex(args.split(",")[0]);
        try {
            t.insertBreakpoint(addr);
        } catch (DeviceException e) {
            return "E.cannot insert a breakpoint at 0x" + Long.toHexString(addr) + ": " + e.getMessage();
        }
        breakpoints.add(addr);
        return "OK";
    }

    private String remove(String args, Tracee t) {
        long addr = GdbPackets.parseHex(args.split(",")[0]);
        breakpoints.remove(addr);
        t.removeBreakpoint(addr);
        return "OK";
    }

    // ---------------------------------------------------------------- watchpoints

    /**
     * Z2,ADDR,LEN (Z3, Z4 for read and access watches): the pages become read-only (for reads: inaccessible)
     * in the program, deja steps each access that faults; the old value is read now.
     */
    private String insertWatch(String args, WatchSet.Kind kind, Tracee t) {
        String[] a = args.split("[,;]");
        long addr = GdbPackets.parseHex(a[0]);
        long len = GdbPackets.parseHex(a[1]);
        String why = watches.refusal(addr, len);
        if (why != null) {
            console.println("deja: cannot watch 0x" + Long.toHexString(addr) + ": " + why);
            return "E01";
        }
        byte[] now = readExactly(t, addr, (int) len);
        if (now == null) return "E14";
        try {
            if (!watches.isEmpty() && watchedPid != t.pid()) {
                for (WatchSet.Watch w : watches.watches()) t.watchMemory(w.address(), w.length(), w.kind().reads());
            }
            t.watchMemory(addr, len, kind.reads());
            watchedPid = t.pid();
        } catch (DeviceException e) {
            console.println("deja: cannot watch 0x" + Long.toHexString(addr) + ": " + e.getMessage());
            return "E01";
        }
        watches.add(addr, now, kind);
        return "OK";
    }

    private String removeWatch(String args, WatchSet.Kind kind, Tracee t) {
        String[] a = args.split("[,;]");
        long addr = GdbPackets.parseHex(a[0]);
        long len = GdbPackets.parseHex(a[1]);
        if (watches.remove(addr, len, kind) && watchedPid == t.pid()) t.unwatchMemory(addr, len, kind.reads());
        if (watches.isEmpty()) watchedPid = 0;
        return "OK";
    }

    /**
     * An access into a watched page ran: one stop per watch it hit (watched bytes changed, a watched range
     * read); otherwise on, unless gdb's own step ended.
     */
    private Resume watchedStore(Stored s, Tracee thread) {
        List<WatchSet.Watch> hits = watches.accessed(s.address(), s.wrote(), (address, length) -> readExactly(thread, address, length));
        Resume how = Resume.CONTINUE;
        for (int i = 0; i < hits.size() && how == Resume.CONTINUE; i++) how = serve(thread, stopReply(hits.get(i), thread));
        if (!hits.isEmpty()) return how;
        if (s.stepEnded()) return serve(thread, stop(SIGTRAP, thread, false));
        return Resume.CONTINUE;
    }

    private String stopReply(WatchSet.Watch w, Tracee t) {
        return "T" + hex8(SIGTRAP) + w.stopInfo() + "thread:" + threadId(t) + ";";
    }

    /** One stop per watch the store changed (gdb checks only the watch its stop reply names), where the thread is. */
    private Resume serveHits(Tracee thread, String hit) {
        Resume how = serve(thread, hit);
        for (String next; how == Resume.CONTINUE && (next = watchHit(thread)) != null; ) how = serve(thread, next);
        return how;
    }

    /** The stop reply for the first write or access watch whose bytes changed (gdb then prints its old and new value), or null. */
    private String watchHit(Tracee t) {
        WatchSet.Watch w = watches.changed((address, length) -> readExactly(t, address, length));
        return w == null ? null : stopReply(w, t);
    }

    private static byte[] readExactly(Tracee t, long address, int length) {
        byte[] data = new byte[length];
        return t.memory().read(address, data, 0, length) == length ? data : null;
    }

    /** The six argument registers of a thread stopped at a syscall entry (rdi rsi rdx r10 r8 r9). */
    private static long[] liveArgs(Tracee t) {
        long[] regs = t.registers();
        int[] argWords = {14, 13, 12, 7, 9, 8}; // their places in user_regs_struct
        long[] args = new long[6];
        for (int i = 0; i < 6; i++) args[i] = regs[argWords[i]];
        return args;
    }

    // ---------------------------------------------------------------- qXfer and monitor

    private String xfer(String what, Tracee t) {
        // object:read:annex:offset,length
        String[] parts = what.split(":", 4);
        if (parts.length < 4 || !parts[1].equals("read")) return "";
        String[] range = parts[3].split(",");
        int offset = (int) GdbPackets.parseHex(range[0]);
        int length = (int) GdbPackets.parseHex(range[1]);
        byte[] data = switch (parts[0]) {
            case "features" -> parts[2].equals("target.xml") ? X86Target.targetXml().getBytes(StandardCharsets.UTF_8) : null;
            case "auxv" -> auxvBytes(program.auxv());
            case "libraries-svr4" -> {
                // An incremental request (start=, prev=): refused, gdb then reads the whole list.
                if (!parts[2].isEmpty() || t == null) yield null;
                yield LinkMap.xml(LinkMap.read(t.memory(), program.auxv()), this::libraryName).getBytes(StandardCharsets.UTF_8);
            }
            case "exec-file" -> program.executable().getBytes(StandardCharsets.UTF_8);
            case "threads" -> threadsXml(t).getBytes(StandardCharsets.UTF_8);
            default -> null;
        };
        if (data == null) return parts[0].equals("features") || parts[0].equals("libraries-svr4") ? "E00" : "";
        return chunk(data, offset, length);
    }

    /**
     * The name gdb loads a shared object's symbols from: the name the loader gave it when that file on
     * this machine is still the recorded one, else the recording's copy (the loader itself runs from a
     * copy named by deja: its recorded path then).
     */
    private String libraryName(LinkMap.Entry e) {
        FileMapping f = program.fileAt(e.lAddr());
        if (f == null) return e.name();
        String local = e.name().startsWith("/") ? e.name() : f.path();
        boolean same = sameFiles.computeIfAbsent(local + "\0" + f.copy(), k -> sameFile(Path.of(local), f.copy()));
        return same ? local : f.copy();
    }

    /** An {@code m} (more follows) or {@code l} (last) chunk of a qXfer object; escaped as binary data by the framing. */
    private static String chunk(byte[] data, int offset, int length) {
        if (offset >= data.length) return "l";
        int n = Math.min(Math.min(length, PACKET_SIZE / 2), data.length - offset);
        String body = new String(data, offset, n, StandardCharsets.ISO_8859_1);
        return (offset + n < data.length ? "m" : "l") + body;
    }

    /** The threads gdb may look at: every live thread of the program's process (none once it has ended). */
    private String threadsXml(Tracee t) {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\"?>\n<threads>\n");
        if (t != null) {
            for (Tracee x : t.processThreads()) {
                String name = threadName(x).replace("&", "&amp;").replace("<", "&lt;").replace("\"", "&quot;");
                Integer recorded = names.recordedTid(x.tid());
                xml.append("  <thread id=\"").append(threadId(x)).append("\" name=\"").append(name)
                        .append(recorded == null ? "\"/>\n" : "\">recorded tid " + recorded + "</thread>\n");
            }
        }
        return xml.append("</threads>\n").toString();
    }

    /**
     * A thread's name as recorded: the one it gave itself, else the program's (a replayed thread's own name
     * is the replayed copy's file name: the replay skips prctl(PR_SET_NAME)).
     */
    private String threadName(Tracee t) {
        String recorded = names.nameOf(t.tid());
        return recorded != null ? recorded : program.name();
    }

    private String monitor(String command, Tracee t) {
        if (command.startsWith("restart")) return restart(command.substring(7).trim(), t);
        if (command.equals("goto") || command.startsWith("goto ")) return gotoEvent(command.substring(4).trim(), t);
        String checkpoints = rewind.monitor(command, t);
        if (checkpoints != null) {
            consoleOutput(checkpoints);
            return "OK";
        }
        String text = switch (command) {
            case "when" -> "Current event: " + when + " (the last recorded call the replay reached: #" + when + " " + whenCall
                    + "; `deja debug -g " + when + "` stops there)\n";
            case "help", "" -> """
                    deja monitor commands:
                      when                  the deja event number of the last recorded call the replay reached
                      checkpoint            remember this stop as checkpoint N (to come back to with restart N)
                      info checkpoints      the checkpoints, and the process copies deja goes back from
                      restart N             go back (or forward) to checkpoint N; then `maint flush register-cache`
                                            and `maint flush dcache` (gdb does not know the program moved)
                      goto N                go back (or forward) to the entry of recorded call N (as `deja debug -g N`);
                                            then flush gdb's caches as after restart
                      delete checkpoint N   forget checkpoint N
                    reverse-stepi, reverse-step, reverse-next, reverse-finish, reverse-continue go back
                    """;
            default -> "deja: unknown monitor command '" + command + "'; 'monitor help' lists them\n";
        };
        consoleOutput(text);
        return "OK";
    }

    /** monitor restart N: the program goes to mark N (a restore thrown from here; the arrival answers). */
    private String restart(String number, Tracee t) {
        if (t == null) return "E01";
        Optional<Rewind.Mark> m = rewind.markNumbered(number);
        if (m.isEmpty()) {
            consoleOutput("deja: no checkpoint " + number + " ('monitor info checkpoints' lists them)\n");
            return "OK";
        }
        return moveProgram(() -> rewind.restart(m.get()), "");
    }

    /**
     * A monitor command that moves the program: refused with the reason (and {@code hint}), or a restore
     * thrown from {@code move}, which returns only when it cannot go there (its text says why).
     */
    private String moveProgram(java.util.function.Supplier<String> move, String hint) {
        String refusal = rewind.refusal();
        if (refusal != null) {
            consoleOutput("deja: " + refusal.substring(2) + hint + "\n");
            return "OK";
        }
        forgetStop();
        consoleOutput(move.get());
        return "OK";
    }

    /**
     * monitor goto N: to the entry of recorded call N of the process gdb debugs, or of its first call after
     * event N when N is another event; a move like restart's (a restore thrown from here; the arrival answers).
     */
    private String gotoEvent(String number, Tracee t) {
        if (t == null) return "E01";
        long n;
        try {
            n = Long.parseLong(number.startsWith("#") ? number.substring(1) : number);
        } catch (NumberFormatException e) {
            consoleOutput("deja: monitor goto N needs an event number ('monitor when' says where the replay is)\n");
            return "OK";
        }
        ProcessCalls calls = program.calls();
        int pid = recordedProgramPid;
        long target = calls.nextCallOf(pid, n);
        if (n < 1 || target < 0) {
            long last = calls.lastCallOf(pid);
            consoleOutput("deja: no call of this process at or after event #" + n
                    + (last > 0 ? " (its calls run from #" + calls.nextCallOf(pid, 0) + " to #" + last + ")" : "") + "\n");
            return "OK";
        }
        if (target != n) {
            int other = calls.processOf(n);
            consoleOutput("deja: event #" + n + " is " + (other != 0 ? "a call of process " + other : "no call")
                    + "; going to this process's next call, #" + target + "\n");
        }
        return moveProgram(() -> rewind.goTo(target), "; `deja debug -g " + target + "` starts a replay there");
    }

    private static boolean isHex(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) if (Character.digit(s.charAt(i), 16) < 0) return false;
        return true;
    }

    private static String hex8(int v) {
        return GdbPackets.hexLittleEndian(v, 1);
    }

    /** The auxiliary vector's bytes (pairs of 8-byte words, AT_NULL included) from its words. */
    public static byte[] auxvBytes(long[] words) {
        ByteBuffer b = ByteBuffer.allocate(8 * words.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        boolean ended = false;
        for (int i = 0; i + 1 < words.length; i += 2) {
            b.putLong(words[i]).putLong(words[i + 1]);
            if (words[i] == 0) {
                ended = true;
                break;
            }
        }
        if (!ended) b.putLong(0).putLong(0);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }
}
