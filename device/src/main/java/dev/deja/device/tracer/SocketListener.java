package dev.deja.device.tracer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Tracers that connect to a Unix socket ({@code deja run --listen PATH}) and may join and leave
 * during the run. The socket is created with mode 0600 (bound in a private directory, then
 * moved into place) and each peer's credentials (SO_PEERCRED) must be deja's own user; others
 * get one {@code error} line and are closed. Each accepted connection does its handshake on its
 * own thread; a tracer that says {@code ready} is handed to {@code onReady}.
 */
public final class SocketListener implements AutoCloseable {
    private final Path path;
    private final ServerSocketChannel server;
    private final Duration timeout;
    private final PrintStream log;
    private final Consumer<RemoteTracer> onReady;
    private final Thread acceptor;
    private final List<RemoteTracer> joined = new ArrayList<>();
    private final CountDownLatch first = new CountDownLatch(1);
    private final String owner;
    private volatile boolean closed;

    private SocketListener(Path path, ServerSocketChannel server, Duration timeout, PrintStream log,
                           Consumer<RemoteTracer> onReady) throws IOException {
        this.path = path;
        this.server = server;
        this.timeout = timeout;
        this.log = log;
        this.onReady = onReady;
        this.owner = Files.getOwner(path).getName();
        this.acceptor = Thread.ofPlatform().daemon().name("deja-listen " + path).unstarted(this::acceptLoop);
    }

    /** Creates the socket at {@code path} (which must not exist) and starts accepting. */
    public static SocketListener listen(Path path, Duration timeout, PrintStream log, Consumer<RemoteTracer> onReady)
            throws IOException {
        Path target = path.toAbsolutePath();
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(target.toString(), null, "it exists; remove it or choose another path");
        }
        Path parent = target.getParent();
        Path dir = Files.createTempDirectory(parent, ".deja-listen",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path tmp = dir.resolve("s");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(tmp));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(tmp);
            throw e;
        } finally {
            Files.deleteIfExists(dir);
        }
        SocketListener l = new SocketListener(target, server, timeout, log, onReady);
        l.acceptor.start();
        return l;
    }

    public Path path() {
        return path;
    }

    /** Waits until a first tracer has said ready; false on timeout. */
    public boolean awaitFirst(Duration d) throws InterruptedException {
        return first.await(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) log.println("deja: --listen " + path + ": accept failed: " + e.getMessage());
                return;
            }
            Thread.ofPlatform().daemon().name("deja-tracer-handshake").start(() -> admit(ch));
        }
    }

    private void admit(SocketChannel ch) {
        String who;
        try {
            UnixDomainPrincipal peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
            who = peer.user().getName();
            if (!who.equals(owner)) {
                ch.write(ByteBuffer.wrap(("error - refused: you are " + who + "; only " + owner
                        + " may trace this program\n").getBytes(StandardCharsets.UTF_8)));
                log.println("deja: --listen: refused a tracer of user " + who);
                ch.close();
                return;
            }
        } catch (IOException | UnsupportedOperationException e) {
            log.println("deja: --listen: cannot check a peer's credentials (" + e.getMessage() + "); refused");
            closeQuietly(ch);
            return;
        }
        // Closing the channel ends the peer at once and fails a write blocked on it.
        Connection c = new Connection("socket peer of " + who, new ChannelIn(ch), new ChannelOut(ch), ch,
                () -> closeQuietly(ch));
        RemoteTracer t;
        try {
            t = RemoteTracer.connect(c, timeout, RemoteTracer.HANDSHAKE_TIMEOUT, log);
        } catch (ProtocolException e) {
            log.println("deja: --listen: " + e.getMessage()); // connect closed the connection
            return;
        }
        synchronized (joined) {
            if (closed) {
                t.close();
                return;
            }
            joined.add(t);
        }
        log.println("deja: tracer " + t.name() + " joined");
        onReady.accept(t);
        first.countDown();
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Stops accepting, removes the socket file, and closes every tracer that joined. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.println("deja: cannot remove " + path + ": " + e.getMessage());
        }
        List<RemoteTracer> all;
        synchronized (joined) {
            all = List.copyOf(joined);
        }
        for (RemoteTracer t : all) t.close();
    }

    /** Reads a blocking channel without the blocking-lock of Channels.newInputStream (reads and writes run concurrently). */
    private static final class ChannelIn extends InputStream {
        private final SocketChannel ch;

        ChannelIn(SocketChannel ch) {
            this.ch = ch;
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            try {
                return ch.read(ByteBuffer.wrap(b, off, len));
            } catch (ClosedChannelException e) {
                return -1;
            }
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    private static final class ChannelOut extends OutputStream {
        private final SocketChannel ch;

        ChannelOut(SocketChannel ch) {
            this.ch = ch;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ByteBuffer buf = ByteBuffer.wrap(b, off, len);
            while (buf.hasRemaining()) ch.write(buf);
        }

        @Override
        public void close() throws IOException {
            ch.shutdownOutput();
        }
    }
}
