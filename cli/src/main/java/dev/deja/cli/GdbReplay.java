package dev.deja.cli;

import dev.deja.formats.Recording;
import dev.deja.formats.RecordingException;
import dev.deja.formats.RecordingStatus;
import dev.deja.replayer.ReplayControl;
import dev.deja.replayer.ReplayException;
import dev.deja.replayer.Replayer;
import dev.deja.replayer.gdb.GdbServer;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * {@code deja replay --gdb}: a replay served to gdb. It binds the address first (so that the printed
 * command is right), then replays; the replay stops at the program's start until gdb connects.
 */
final class GdbReplay {
    /** gdb killed the program (kill, or quitting gdb): as a shell reports a SIGKILL. */
    static final int KILLED_BY_GDB = 128 + 9;

    private final GdbAddress address;
    private final boolean quiet;
    private final boolean mark;

    GdbReplay(GdbAddress address, boolean quiet, boolean mark) {
        this.address = address;
        this.quiet = quiet;
        this.mark = mark;
    }

    int run(String recordingArg) {
        OutputStream out = quiet ? OutputStream.nullOutputStream() : new FileOutputStream(FileDescriptor.out);
        OutputStream err = quiet ? OutputStream.nullOutputStream() : new FileOutputStream(FileDescriptor.err);
        Replayer.Options options = new Replayer.Options(out, err, Host.closeFds(), Host.signalMask("deja.sigblk"),
                Host.signalMask("deja.sigign"), mark);
        try (Recording rec = RecordingArg.open(recordingArg)) {
            boolean incomplete = rec.status() == RecordingStatus.INCOMPLETE;
            GdbServer.Program program;
            try {
                program = GdbServer.Program.of(rec);
            } catch (RecordingException e) {
                throw new UserError("cannot serve the replay to gdb: " + e.getMessage());
            }
            try (ServerSocket listener = listen()) {
                System.err.println("deja: replaying " + rec.path() + " for gdb: it stops at the program's start and waits there");
                System.err.flush();
                try (GdbServer server = new GdbServer(listener, program, System.err)) {
                    // Ctrl-C or SIGTERM while the replay waits for gdb: the sockets close, the replay ends at once.
                    Thread unblock = Thread.ofPlatform().name("deja-gdb-stop").unstarted(server::shutdown);
                    Runtime.getRuntime().addShutdownHook(unblock);
                    try {
                        Replayer.Outcome outcome;
                        try {
                            outcome = Replayer.replay(rec, options, server);
                        } catch (ReplayControl.Abandon a) {
                            return KILLED_BY_GDB;
                        } catch (ReplayException e) {
                            server.finished(null, e.getMessage());
                            throw new UserError("cannot replay: " + e.getMessage());
                        }
                        server.finished(outcome, null);
                        return ReplayCommand.report(outcome, incomplete, quiet);
                    } finally {
                        try {
                            Runtime.getRuntime().removeShutdownHook(unblock);
                        } catch (IllegalStateException shuttingDown) {
                            // the hook runs: it only closes sockets
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UserError("--gdb " + address.host() + ":" + address.port() + ": cannot listen there: " + e.getMessage());
        }
    }

    private ServerSocket listen() throws IOException {
        InetAddress host = InetAddress.getByName(address.host());
        if (!host.isLoopbackAddress()) {
            System.err.println("deja: warning: the gdb server listens on " + host.getHostAddress()
                    + ", not only this machine: anyone who reaches it can read the replayed program's memory");
        }
        ServerSocket listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(host, address.port()), 1);
        return listener;
    }
}
