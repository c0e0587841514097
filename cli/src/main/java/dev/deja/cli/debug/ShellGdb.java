package dev.deja.cli.debug;

import dev.deja.formats.RecordingException;
import dev.deja.replayer.gdb.GdbServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;

/**
 * The shell's {@code gdb [PORT | HOST:PORT]}: a gdb server on the parked replay, at the current call
 * (as {@code deja replay --gdb}, default 127.0.0.1:50505); the shell waits until gdb detaches (then
 * it stops at the next call the replay reached) or the run ends.
 */
final class ShellGdb {
    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 50505;

    /** Where to listen. */
    record Address(String host, int port) {
        /** {@code ""} (the default), {@code PORT}, {@code :PORT} or {@code HOST:PORT}. */
        static Address parse(String arg) {
            if (arg.isEmpty()) return new Address(DEFAULT_HOST, DEFAULT_PORT);
            int colon = arg.lastIndexOf(':');
            String host = colon <= 0 ? DEFAULT_HOST : arg.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            String port = arg.substring(colon + 1);
            if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit) || Integer.parseInt(port) > 65535) {
                throw new Debugger.CommandError("gdb " + arg + ": not PORT or HOST:PORT (a port from 0 to 65535; 0 picks a free one)");
            }
            return new Address(host, Integer.parseInt(port));
        }
    }

    private ShellGdb() {
    }

    /** Serves gdb on {@code live} (parked) at {@code address}; the replay's notice once gdb has let go. */
    static LiveReplay.Notice serve(LiveReplay live, Address address, PrintWriter out) {
        GdbServer.Program program;
        try {
            program = live.gdbProgram();
        } catch (RecordingException e) {
            throw new Debugger.CommandError("cannot serve the replay to gdb: " + e.getMessage());
        }
        try (ServerSocket listener = listen(address, out);
             GdbServer server = new GdbServer(listener, program, lines(out), live.recordedThreads())) {
            LiveReplay.Notice n = live.serveGdb(server);
            if (n instanceof LiveReplay.Ended e && e.abandoned()) {
                out.println("deja: gdb ended the replay (kill, quit, or the connection closed); 'run' starts it again");
            }
            return n;
        } catch (IOException e) {
            throw new Debugger.CommandError("gdb " + address.host() + ":" + address.port() + ": cannot listen there: " + e.getMessage());
        }
    }

    private static ServerSocket listen(Address address, PrintWriter out) throws IOException {
        InetAddress host = InetAddress.getByName(address.host());
        if (!host.isLoopbackAddress()) {
            out.println("deja: warning: the gdb server listens on " + host.getHostAddress()
                    + ", not only this machine: anyone who reaches it can read the replayed program's memory");
        }
        ServerSocket listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(host, address.port()), 1);
        return listener;
    }

    /** The server's console lines (written on the tracing thread) go to the shell's output, a line at a time. */
    private static PrintStream lines(PrintWriter out) {
        return new PrintStream(new OutputStream() {
            private final ByteArrayOutputStream line = new ByteArrayOutputStream();

            @Override
            public void write(int b) {
                line.write(b);
                if (b == '\n') flush();
            }

            @Override
            public void flush() {
                if (line.size() == 0) return;
                out.print(line.toString(StandardCharsets.UTF_8));
                out.flush();
                line.reset();
            }
        }, true, StandardCharsets.UTF_8);
    }
}
