package dev.deja.junit;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Marks each test's start and end in a deja recording: one line, one write(2), to the descriptor
 * named by {@value #ENV} (deja's {@code scripts/deja-java} opens it on /dev/null). The write is a
 * recorded syscall whose bytes the recording keeps, so {@code deja debug}'s {@code tests} and
 * {@code goto test:ID} find the tests in it. Without the variable the listener does nothing.
 *
 * <p>The line format ({@link Marker} writes it, deja's {@code TestMarkers} reads it) is
 * {@code deja-test 1 start|end|skipped KIND UNIQUE-ID NAME DISPLAY-NAME [OUTCOME MESSAGE]}, fields
 * separated by tabs, each escaped so that a line never holds a tab or a newline of its own.
 */
public final class DejaMarkers implements TestExecutionListener {
    /** The environment variable that names the marker descriptor. */
    public static final String ENV = "DEJA_MARKER_FD";

    private final OutputStream out;

    /** Used by the ServiceLoader: reads {@value #ENV}. */
    public DejaMarkers() {
        this(open(System.getenv(ENV)));
    }

    DejaMarkers(OutputStream out) {
        this.out = out;
    }

    /**
     * The marker descriptor, reopened through /proc/self/fd (Java cannot wrap a bare descriptor
     * number): the writes then go to the same file, pipe or /dev/null deja opened. Null when unset
     * or unusable: a test run must not fail because of its markers.
     */
    private static OutputStream open(String fd) {
        if (fd == null || !fd.matches("\\d{1,9}")) return null;
        try {
            return new FileOutputStream("/proc/self/fd/" + fd, true);
        } catch (IOException e) {
            System.err.println("deja-junit: cannot open the marker descriptor " + fd + " (" + e.getMessage()
                    + "); tests are not marked");
            return null;
        }
    }

    @Override
    public void executionStarted(TestIdentifier id) {
        if (id.isTest()) write(Marker.start(kind(id), id.getUniqueId(), name(id), id.getDisplayName()));
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        write(Marker.skipped(kind(id), id.getUniqueId(), name(id), id.getDisplayName(), reason));
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        // A container's end is marked only when it failed (a @BeforeAll that throws): its tests never start.
        if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) return;
        String message = result.getThrowable().map(DejaMarkers::message).orElse("");
        write(Marker.end(kind(id), id.getUniqueId(), name(id), id.getDisplayName(), outcome(result.getStatus()), message));
    }

    private static String kind(TestIdentifier id) {
        return id.isTest() ? "test" : "container";
    }

    private static String outcome(TestExecutionResult.Status s) {
        return switch (s) {
            case SUCCESSFUL -> "passed";
            case FAILED -> "failed";
            case ABORTED -> "aborted";
        };
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getName() + (m == null ? "" : ": " + m);
    }

    /** "com.acme.CacheTest#evicts" for a method, the class name for a class, else the legacy reporting name. */
    static String name(TestIdentifier id) {
        Optional<TestSource> source = id.getSource();
        if (source.isPresent() && source.get() instanceof MethodSource m) return m.getClassName() + "#" + m.getMethodName();
        if (source.isPresent() && source.get() instanceof ClassSource c) return c.getClassName();
        return id.getLegacyReportingName();
    }

    private void write(String line) {
        if (out == null) return;
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        // One write(2) per line: parallel tests must not interleave within a marker.
        synchronized (this) {
            try {
                out.write(bytes);
            } catch (IOException e) {
                System.err.println("deja-junit: cannot write a test marker (" + e.getMessage() + ")");
            }
        }
    }
}
