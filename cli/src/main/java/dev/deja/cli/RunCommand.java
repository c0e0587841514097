package dev.deja.cli;

import dev.deja.device.DeviceException;
import dev.deja.device.Launch;
import dev.deja.device.LaunchSpec;
import dev.deja.device.TraceResult;
import dev.deja.device.tracer.Connection;
import dev.deja.device.tracer.ProtocolException;
import dev.deja.device.tracer.RemoteTracer;
import dev.deja.device.tracer.TraceRun;
import dev.deja.device.tracer.TracerChain;
import dev.deja.device.tracer.Transports;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", sortOptions = false,
        description = {"Run a program under tracer programs that speak deja's tracer protocol (docs/protocol.md).",
                "Each tracer reads events on its stdin and answers on its stdout; several tracers form a chain,"
                        + " in the order given. deja exits with the program's status."},
        footer = {"", "Examples:", "  deja run --tracer 'python3 samples/tracers/fail_writes.py --share 0.1' -- ./app",
                "  deja run --tracer 'python3 samples/tracers/year2038.py' -- date"})
final class RunCommand implements Callable<Integer> {

    @Option(names = "--tracer", paramLabel = "CMD", description = "A tracer program, run with /bin/sh -c CMD. Repeatable: the chain's order.")
    List<String> tracers = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "MS",
            description = "How long a tracer may take to answer one event before it continues (default: 10000).")
    long timeoutMs = RemoteTracer.DEFAULT_TIMEOUT.toMillis();

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments.")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        if (tracers.isEmpty()) throw new UserError("run: give at least one --tracer CMD");
        if (timeoutMs <= 0) throw new UserError("run: --timeout must be positive");
        LaunchSpec spec;
        try {
            spec = Launch.of(command, Host.inheritedFds(), Host.signalMask("deja.sigblk"), Host.signalMask("deja.sigign"));
        } catch (Launch.CommandException e) {
            throw new UserError(e.getMessage(), e.status());
        }
        List<RemoteTracer> chain = new ArrayList<>();
        try {
            for (String cmd : tracers) {
                Connection c;
                try {
                    c = Transports.spawn(cmd);
                } catch (IOException e) {
                    throw new UserError("run: cannot start tracer '" + cmd + "': " + e.getMessage());
                }
                try {
                    chain.add(RemoteTracer.connect(c, Duration.ofMillis(timeoutMs), RemoteTracer.HANDSHAKE_TIMEOUT, System.err));
                } catch (ProtocolException e) {
                    try {
                        c.close();
                    } catch (IOException ignored) {
                        // it is gone
                    }
                    throw new UserError("run: tracer '" + cmd + "': " + e.getMessage());
                }
            }
            TraceResult r;
            try {
                r = TraceRun.run(spec, new TracerChain(chain), () -> { });
            } catch (DeviceException e) {
                throw new UserError("cannot trace " + command.getFirst() + ": " + e.getMessage());
            }
            return r.shellStatus();
        } finally {
            for (RemoteTracer t : chain) t.close();
        }
    }
}
