package dev.deja.replayer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Where replay's index keeps its arrays, so that deja's heap stays the same whatever the recording's
 * length. An array of up to {@code heapLimit} bytes stays on the heap (a short recording makes no
 * file); a larger one is a file in the replay's directory, mapped and unlinked at once: the kernel's
 * page cache holds it, it can go to disk under memory pressure, and its mapping is the file's last
 * reference, so nothing of it outlives the process, not even a SIGKILL.
 *
 * <p>Every mapping is owned by an arena of its own, closed when the array is freed or grown, or
 * when this memory is closed. The arenas are shared: the index is built on one thread and read on
 * the device's tracing thread.
 */
final class IndexMemory implements AutoCloseable {
    /**
     * Largest array kept on the heap: with the dozen arrays building the index needs, about 24 MiB. 1 MiB put the
     * steps of make -j2 (68 700 events) in files, read through a mapping where a heap array is read directly.
     */
    static final long HEAP_LIMIT = 2 << 20;

    private final Path dir;
    private final long heapLimit;
    /** Elements touched between two releases of the mapped pages (see {@link #tick}). */
    private static final int RELEASE_TICKS = 1 << 18;

    private final List<Mapped> mapped = new ArrayList<>();
    private int files;
    private int ticks;

    private IndexMemory(Path dir, long heapLimit) {
        this.dir = dir;
        this.heapLimit = heapLimit;
    }

    /** Arrays past {@link #HEAP_LIMIT} bytes in files of {@code dir}. */
    static IndexMemory in(Path dir) {
        return new IndexMemory(dir, HEAP_LIMIT);
    }

    /** Arrays past {@code heapLimit} bytes (0: every array with an element) in files of {@code dir}. */
    static IndexMemory in(Path dir, long heapLimit) {
        return new IndexMemory(dir, heapLimit);
    }

    /** Every array on the heap, for runs held in memory already. */
    static IndexMemory onHeap() {
        return new IndexMemory(null, Long.MAX_VALUE);
    }

    /** How many arrays are in mapped files now. */
    synchronized int mappedArrays() {
        return mapped.size();
    }

    // ---------------------------------------------------------------- arrays

    /** A fixed number of ints, zeroed. */
    Ints ints(long length) throws ReplayException {
        return new Ints(segment(length, Integer.BYTES), length);
    }

    Longs longs(long length) throws ReplayException {
        return new Longs(segment(length, Long.BYTES), length);
    }

    Bytes bytes(long length) throws ReplayException {
        return new Bytes(segment(length, 1), length);
    }

    /** The array made longer (its first elements kept); {@code a} is freed. */
    Ints grown(Ints a, long length) throws ReplayException {
        Ints b = ints(length);
        MemorySegment.copy(a.segment, 0, b.segment, 0, a.segment.byteSize());
        free(a.segment);
        return b;
    }

    Longs grown(Longs a, long length) throws ReplayException {
        Longs b = longs(length);
        MemorySegment.copy(a.segment, 0, b.segment, 0, a.segment.byteSize());
        free(a.segment);
        return b;
    }

    Bytes grown(Bytes a, long length) throws ReplayException {
        Bytes b = bytes(length);
        MemorySegment.copy(a.segment, 0, b.segment, 0, a.segment.byteSize());
        free(a.segment);
        return b;
    }

    /** Gives the array's memory back (its file's pages, or to the garbage collector); it must not be used again. */
    void free(Ints a) {
        free(a.segment);
    }

    void free(Longs a) {
        free(a.segment);
    }

    void free(Bytes a) {
        free(a.segment);
    }

    /**
     * Drops the mapped pages from deja's address space (madvise DONTNEED): they stay in the page cache,
     * written back to the file when dirty, and come back on the next access at the cost of a minor
     * fault. Without it, every page of the index replay has touched counts in deja's resident size.
     */
    synchronized void release() {
        for (Mapped m : mapped) m.segment.unload();
    }

    /**
     * One more element read or written (on one thread at a time: while the index is built, then while
     * it is replayed): every {@value #RELEASE_TICKS} the pages touched leave the resident set, so that
     * deja's resident size does not grow with the index either.
     */
    void tick() {
        if (++ticks == RELEASE_TICKS) {
            ticks = 0;
            release();
        }
    }

    /**
     * What to say when a write into a mapped file faulted (the JVM's InternalError for a SIGBUS): most
     * likely the file system is full.
     */
    ReplayException faulted(InternalError e) {
        String free;
        try {
            free = dir == null ? "no file" : Files.getFileStore(dir).getUsableSpace() + " bytes free";
        } catch (IOException again) {
            free = "its free space cannot be read: " + again.getMessage();
        }
        return new ReplayException("cannot write replay's index into " + dir + ": a write to its memory-mapped file"
                + " failed, the file system is probably full (" + free + ")", e);
    }

    @Override
    public synchronized void close() {
        for (Mapped m : mapped) m.arena.close();
        mapped.clear();
    }

    private record Mapped(MemorySegment segment, Arena arena) {
    }

    private MemorySegment segment(long length, int width) throws ReplayException {
        if (length < 0 || length > Long.MAX_VALUE / width) throw new IllegalArgumentException("array length " + length);
        long bytes = length * width;
        if (bytes == 0 || bytes <= heapLimit) return heap(length, width);
        return map(bytes);
    }

    /** Heap arrays of the element's own type, so that each element is aligned as its layout needs. */
    private static MemorySegment heap(long length, int width) {
        int n = Math.toIntExact(length);
        return switch (width) {
            case Long.BYTES -> MemorySegment.ofArray(new long[n]);
            case Integer.BYTES -> MemorySegment.ofArray(new int[n]);
            default -> MemorySegment.ofArray(new byte[n]);
        };
    }

    private synchronized MemorySegment map(long bytes) throws ReplayException {
        Path file = dir.resolve("index-" + files++);
        Arena arena = Arena.ofShared();
        MemorySegment segment;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            // Mapping past the end makes the file that long, sparse: disk blocks come as pages are written.
            segment = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
            Files.delete(file);
        } catch (IOException | RuntimeException e) {
            arena.close();
            try {
                Files.deleteIfExists(file);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw new ReplayException("cannot make a file of " + bytes + " bytes for replay's index in " + dir + ": " + e, e);
        }
        mapped.add(new Mapped(segment, arena));
        return segment;
    }

    private synchronized void free(MemorySegment segment) {
        for (int i = 0; i < mapped.size(); i++) {
            if (mapped.get(i).segment == segment) {
                mapped.remove(i).arena.close();
                return;
            }
        }
    }

    // ---------------------------------------------------------------- typed views

    /**
     * The array of type {@code type} behind a heap segment (whole: segments here are never slices), or null
     * when it is mapped. deja traces with C1 alone, which calls through a segment's var handles at every
     * element: on {@code make -j2}'s 68 700 events half of the index's 360 ms went to them.
     */
    private static <A> A heapArray(MemorySegment segment, Class<A> type) {
        return segment.heapBase().filter(type::isInstance).map(type::cast).orElse(null);
    }

    /** Ints by index, on the heap or mapped. */
    static final class Ints {
        private static final ValueLayout.OfInt LAYOUT = ValueLayout.JAVA_INT;
        private final MemorySegment segment;
        /** The heap array behind {@link #segment}, or null when mapped: read directly (see {@link IndexMemory#heapArray}). */
        private final int[] array;
        private final long length;

        private Ints(MemorySegment segment, long length) {
            this.segment = segment;
            this.array = heapArray(segment, int[].class);
            this.length = length;
        }

        /** An int[] seen as Ints (for tests and small sorts). */
        static Ints of(int[] a) {
            return new Ints(MemorySegment.ofArray(a), a.length);
        }

        long length() {
            return length;
        }

        int get(long i) {
            return array != null ? array[(int) i] : segment.getAtIndex(LAYOUT, i);
        }

        void set(long i, int v) {
            if (array != null) array[(int) i] = v;
            else segment.setAtIndex(LAYOUT, i, v);
        }

        /** Copies {@code n} elements from {@code src} at {@code from} to this at {@code to}. */
        void copyFrom(Ints src, long from, long to, long n) {
            MemorySegment.copy(src.segment, from * Integer.BYTES, segment, to * Integer.BYTES, n * Integer.BYTES);
        }
    }

    static final class Longs {
        private static final ValueLayout.OfLong LAYOUT = ValueLayout.JAVA_LONG;
        private final MemorySegment segment;
        private final long[] array;
        private final long length;

        private Longs(MemorySegment segment, long length) {
            this.segment = segment;
            this.array = heapArray(segment, long[].class);
            this.length = length;
        }

        long length() {
            return length;
        }

        long get(long i) {
            return array != null ? array[(int) i] : segment.getAtIndex(LAYOUT, i);
        }

        void set(long i, long v) {
            if (array != null) array[(int) i] = v;
            else segment.setAtIndex(LAYOUT, i, v);
        }
    }

    static final class Bytes {
        private final MemorySegment segment;
        private final byte[] array;
        private final long length;

        private Bytes(MemorySegment segment, long length) {
            this.segment = segment;
            this.array = heapArray(segment, byte[].class);
            this.length = length;
        }

        long length() {
            return length;
        }

        byte get(long i) {
            return array != null ? array[(int) i] : segment.get(ValueLayout.JAVA_BYTE, i);
        }

        void set(long i, byte v) {
            if (array != null) array[(int) i] = v;
            else segment.set(ValueLayout.JAVA_BYTE, i, v);
        }
    }
}
