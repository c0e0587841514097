package dev.deja.formats.internal;

import dev.deja.formats.CorruptRecordingException;
import dev.deja.formats.RecordingException;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueStore;
import net.openhft.chronicle.queue.rollcycles.LargeRollCycles;
import net.openhft.chronicle.wire.Wires;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The Chronicle Queue under {@code journal/}: its fixed configuration, and the checks that keep a
 * damaged queue file from reaching Chronicle (which maps files and would fault on a short one).
 */
public final class Journal {

    public static final String DIR_NAME = "journal";
    /** 2^40 entries per cycle; the writer pins the cycle to the start time, so a recording is one cycle file. */
    public static final RollCycle ROLL_CYCLE = LargeRollCycles.HUGE_DAILY;
    public static final String ROLL_CYCLE_NAME = "HUGE_DAILY";
    /** Chronicle's mapping chunk. Files grow by this much; the largest excerpt is a quarter of it. */
    public static final long BLOCK_SIZE = 64L << 20;
    /** The overlap Chronicle maps beyond each chunk (a quarter of the block size): the excerpt size limit. */
    public static final long OVERLAP_SIZE = BLOCK_SIZE / 4;
    public static final String QUEUE_SUFFIX = ".cq4";

    private Journal() {
    }

    /**
     * Loads and initialises Chronicle's classes (its JVM probes, the queue builder; its POSIX and affinity
     * bindings find no JNR and no JNA, which the build leaves out) without opening anything: the first open
     * then costs only the open. Errors are left for that open to report.
     */
    public static void warmUp() {
        try {
            Class.forName(SingleChronicleQueueBuilder.class.getName(), true, Journal.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
            // the real open fails the same way and says so
        }
    }

    /** A queue for appending, every entry in the one cycle of {@code startMillis}. */
    public static SingleChronicleQueue openForWrite(Path dir, long startMillis) {
        return SingleChronicleQueueBuilder.single(dir.toFile())
                .rollCycle(ROLL_CYCLE)
                .blockSize(BLOCK_SIZE)
                .timeProvider(() -> startMillis)
                .build();
    }

    public static SingleChronicleQueue openForRead(Path dir, long blockSize) {
        return SingleChronicleQueueBuilder.single(dir.toFile())
                .rollCycle(ROLL_CYCLE)
                .blockSize(blockSize)
                .readOnly(true)
                .timeoutMS(1000)
                .build();
    }

    public static List<Path> queueFiles(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + QUEUE_SUFFIX)) {
            for (Path p : ds) {
                // Chronicle would map (or a recovery copy read) a named pipe or device forever
                if (!Files.isRegularFile(p)) throw new IOException(p + " is not a regular file");
                out.add(p);
            }
        }
        out.sort(null);
        return out;
    }

    /** True when a queue file has a size Chronicle can have given it: one chunk plus the overlap, or more chunks. */
    public static boolean plausibleSize(long size, long blockSize) {
        long overlap = blockSize / 4;
        return size >= blockSize + overlap && (size - overlap) % blockSize == 0;
    }

    /**
     * Copies a journal whose queue file was cut short into {@code into}, padding the cut file with
     * zeros (sparse) to the next size Chronicle can map. Zeros read as "no entry written yet", so the
     * copy reads up to the cut; an entry cut in the middle fails its checksum.
     */
    public static void recoverInto(Path journalDir, Path into, long blockSize) throws IOException {
        Files.createDirectories(into);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(journalDir)) {
            for (Path p : ds) {
                if (!Files.isRegularFile(p)) continue;
                Path target = into.resolve(p.getFileName().toString());
                long size = Files.size(p);
                long padded = size;
                if (p.getFileName().toString().endsWith(QUEUE_SUFFIX)) {
                    long overlap = blockSize / 4;
                    long chunks = Math.max(1, (size - overlap + blockSize - 1) / blockSize);
                    padded = Math.max(size, chunks * blockSize + overlap) + blockSize;
                }
                sparseCopy(p, target, size, padded);
            }
        }
    }

    private static void sparseCopy(Path from, Path to, long size, long padded) throws IOException {
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            long pos = 0;
            while (pos < size) {
                buf.clear();
                int n = in.read(buf, pos);
                if (n <= 0) break;
                buf.flip();
                if (!allZero(buf)) {
                    while (buf.hasRemaining()) out.write(buf, pos + buf.position());
                }
                pos += n;
            }
            if (padded > 0) {
                // extend to the padded length with a hole
                out.write(ByteBuffer.allocate(1), padded - 1);
            }
        }
    }

    private static boolean allZero(ByteBuffer buf) {
        for (int i = buf.position(); i < buf.limit(); i++) if (buf.get(i) != 0) return false;
        return true;
    }

    /**
     * Bytes of the queue files actually used: each cycle's write position plus its last excerpt, and
     * the table store. The files themselves are sparse and much larger.
     */
    public static long usedBytes(Path dir, long blockSize) throws RecordingException {
        try {
            List<Path> files = queueFiles(dir);
            long total = 0;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) if (!p.getFileName().toString().endsWith(QUEUE_SUFFIX)) total += Files.size(p);
            }
            if (files.isEmpty()) return total;
            for (Path f : files) {
                if (!plausibleSize(Files.size(f), blockSize)) return total + Files.size(f);
            }
            try (SingleChronicleQueue q = openForRead(dir, blockSize)) {
                for (int cycle = q.firstCycle(); cycle <= q.lastCycle() && cycle != Integer.MAX_VALUE; cycle++) {
                    SingleChronicleQueueStore store = q.storeForCycle(cycle, q.epoch(), false, null);
                    if (store == null) continue;
                    try {
                        long wp = store.writePosition();
                        int header = store.bytes().readVolatileInt(wp);
                        total += wp + 4 + (Wires.isReady(header) ? Wires.lengthOf(header) : 0);
                    } finally {
                        q.closeStore(store);
                    }
                }
            }
            return total;
        } catch (IOException | RuntimeException | InternalError e) {
            throw new CorruptRecordingException(dir, -1, -1, "cannot measure the journal: " + e, e);
        }
    }
}
