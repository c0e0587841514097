package dev.deja.cli;

import dev.deja.device.DeviceException;
import dev.deja.device.LaunchSpec;
import dev.deja.device.TraceResult;
import dev.deja.device.tracer.Connection;
import dev.deja.device.tracer.ProtocolException;
import dev.deja.device.tracer.RemoteTracer;
import dev.deja.device.tracer.SocketListener;
import dev.deja.device.TraceRun;
import dev.deja.device.TraceSession;
import dev.deja.device.tracer.TracerChain;
import dev.deja.device.tracer.Transports;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", sortOptions = false, mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Run a program under tracer programs that speak deja's tracer protocol (docs/protocol.md).",
                "Each tracer reads events on its stdin and answers on its stdout; several tracers form a chain,"
                        + " in the order given. deja exits with the program's status."},
        footer = {"", "Examples:", "  deja run --tracer 'python3 samples/tracers/fail_writes.py --share 0.1' -- ./app",
                "  deja run --tracer 'python3 samples/tracers/year2038.py' -- date",
                "  deja run --listen /tmp/deja.sock --timeout 600000 -- ./app &   then: socat - UNIX-CONNECT:/tmp/deja.sock"})
final class RunCommand implements Callable<Integer> {

    @Option(names = "--tracer", paramLabel = "CMD", description = "A tracer program, run with /bin/sh -c CMD. Repeatable: the chain's order.")
    List<String> tracers = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "MS",
            description = "How long a tracer may take to answer one event before it continues (default: 10000).")
    long timeoutMs = RemoteTracer.DEFAULT_TIMEOUT.toMillis();

    @Option(names = "--listen", paramLabel = "PATH",
            description = {"Also accept tracers on a Unix socket created at PATH (mode 0600, only your user may connect);"
                    + " they may join and leave during the run. Without --tracer, the program starts when the first"
                    + " tracer that connects is ready."})
    Path listen;

    @Option(names = {"-p", "--pid"}, paramLabel = "PID",
            description = {"Attach to the running process PID (all its threads, and the children it starts from then on)"
                    + " instead of starting a program; Ctrl-C or SIGTERM detaches and leaves it running. Every call"
                    + " stops (no seccomp filter)."})
    Integer attach;

    @Parameters(arity = "0..*", paramLabel = "COMMAND", description = "The program and its arguments.")
    List<String> command = new ArrayList<>();

    /** The program runs: an interrupt gives the main thread a moment to close the tracers itself. */
    private volatile boolean tracing;

    @Override
    public Integer call() {
        if (tracers.isEmpty() && listen == null) throw new UserError("run: give at least one --tracer CMD or --listen PATH");
        if (timeoutMs <= 0) throw new UserError("run: --timeout must be positive");
        if (attach != null && !command.isEmpty()) throw new UserError("run: give either -p PID or a COMMAND, not both");
        if (attach == null && command.isEmpty()) throw new UserError("run: no program given; usage: deja run --tracer CMD -- COMMAND [ARGS], or -p PID");
        if (attach != null && attach <= 0) throw new UserError("run -p " + attach + ": not a process id");
        // Checked now, before any tracer starts: a program that cannot run is refused (126/127) at once.
        if (attach == null) Host.launchSpec(command);
        List<RemoteTracer> chain = new ArrayList<>();
        List<Connection> spawned = new CopyOnWriteArrayList<>();
        SocketListener listener = null;
        Thread hook = null;
        CountDownLatch cleanedUp = new CountDownLatch(1);
        // Tracers run in process groups of their own, out of reach of a terminal's Ctrl-C: when deja
        // is interrupted, the main thread may not get to close them before the JVM halts.
        Thread tracerHook = Thread.ofPlatform().name("deja-tracer-cleanup").unstarted(() -> {
            try {
                if (tracing) cleanedUp.await(3, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (Connection c : spawned) c.abort().run();
        });
        Runtime.getRuntime().addShutdownHook(tracerHook);
        try {
            for (String cmd : tracers) {
                Connection c;
                try {
                    c = Transports.spawn(cmd);
                } catch (IOException e) {
                    throw new UserError("run: cannot start tracer '" + cmd + "': " + e.getMessage());
                }
                spawned.add(c);
                try {
                    chain.add(RemoteTracer.connect(c, Duration.ofMillis(timeoutMs), RemoteTracer.HANDSHAKE_TIMEOUT, System.err));
                } catch (ProtocolException e) {
                    // connect ended it (and its process group)
                    throw new UserError("run: tracer '" + cmd + "': " + e.getMessage());
                }
            }
            TracerChain tracerChain = new TracerChain(chain, listen != null);
            if (listen != null) {
                try {
                    listener = SocketListener.listen(listen, Duration.ofMillis(timeoutMs), System.err, tracerChain::join);
                } catch (IOException e) {
                    throw new UserError("run: cannot listen on " + listen + ": " + e.getMessage());
                }
                SocketListener l = listener;
                hook = Thread.ofPlatform().unstarted(l::close);
                Runtime.getRuntime().addShutdownHook(hook);
                System.err.println("deja: listening on " + listener.path()
                        + (tracers.isEmpty() ? "; the program starts when a tracer is ready" : ""));
                if (tracers.isEmpty()) awaitFirst(listener);
            }
            // The launch is made now, after the tracers and the socket: the descriptors deja keeps for them
            // are closed in the program (it could otherwise read the tracers' answers, or keep their pipes open).
            LaunchSpec spec = attach == null ? Host.launchSpec(command) : null;
            TraceResult r;
            try {
                TraceSession session = spec != null ? new TraceSession(spec, tracerChain)
                        : TraceSession.attach(attach, tracerChain);
                tracing = true;
                r = TraceRun.run(session, (TraceResult done) -> { });
            } catch (DeviceException e) {
                throw new UserError(spec != null ? "cannot trace " + command.getFirst() + ": " + e.getMessage()
                        : "run -p " + attach + ": " + e.getMessage());
            }
            return r.shellStatus();
        } finally {
            if (listener != null) listener.close();
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs
                }
            }
            for (RemoteTracer t : chain) t.close();
            tracing = false;
            cleanedUp.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(tracerHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs: everything is closed already
            }
        }
    }

    private static void awaitFirst(SocketListener listener) {
        try {
            while (!listener.awaitFirst(Duration.ofSeconds(60))) {
                System.err.println("deja: still waiting for a tracer on " + listener.path());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("run: interrupted while waiting for a tracer");
        }
    }
}
