package dev.deja.formats.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.deja.formats.RecordingException;
import dev.deja.formats.event.ContextEvent;
import dev.deja.formats.event.Event;
import dev.deja.formats.event.ExecEvent;
import dev.deja.formats.event.ExitEvent;
import dev.deja.formats.event.MappingEvent;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.ProcessContext;
import dev.deja.formats.event.ScheduleEvent;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SpawnEvent;
import dev.deja.formats.event.SyscallEvent;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FastDecompressor;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Events to and from journal entry payloads: Kryo with explicit registration ids and one
 * hand-written serializer per type, so that the bytes depend on nothing but the field order
 * documented in docs/format.md. One instance per thread (Kryo is not thread-safe).
 */
public final class EntryCodec {

    /** Entry format tag of format version 1: a Kryo event payload as below. */
    public static final byte TAG_EVENT_V1 = 1;
    /** tag (1 byte), payload length (int32 LE), CRC32C of the payload (int32 LE). */
    public static final int HEADER_SIZE = 9;

    /** Kryo registration ids (stable: part of the format). Kryo writes id+2 as a varint before each event. */
    public static final int ID_SYSCALL = 20, ID_SIGNAL = 21, ID_SPAWN = 22, ID_EXEC = 23, ID_EXIT = 24,
            ID_MAPPING = 25, ID_CONTEXT = 26, ID_SCHEDULE = 27, ID_MEMORY_BLOCK = 30, ID_PROCESS_CONTEXT = 31;

    /** Blocks of at least this many bytes are LZ4-compressed (kept compressed only when smaller). */
    public static final int COMPRESS_THRESHOLD = 512;
    /** Blocks whose encoding (compressed when that is smaller) takes at least this many bytes are moved to the blob store. */
    public static final int EXTERNAL_THRESHOLD = 1 << 20;
    /** After external blocks, an entry still above this is re-encoded with every block >= 4 KiB external. */
    public static final int MAX_PAYLOAD = (int) (Journal.OVERLAP_SIZE - (64 << 10));
    private static final int FALLBACK_EXTERNAL_THRESHOLD = 4096;

    /** Block encodings (the byte after the block's address). */
    public static final int BLOCK_RAW = 0, BLOCK_LZ4 = 1, BLOCK_BLOB = 2;

    /** Where blocks go when they are moved out of the journal. */
    public interface BlobSink {
        String store(byte[] data) throws RecordingException;
    }

    /** Where external blocks come from, checked against their length and hash. */
    public interface BlobSource {
        byte[] load(String hash, int length) throws RecordingException;
    }

    /** A RecordingException smuggled through Kryo's unchecked serializer interface. */
    static final class BlobFailure extends RuntimeException {
        final RecordingException cause;

        BlobFailure(RecordingException cause) {
            super(cause.getMessage(), cause);
            this.cause = cause;
        }
    }

    private final Kryo kryo = new Kryo();
    /** Reused by {@link #decode} (a reader decodes one entry at a time): no Input and char buffer per event. */
    private final Input input = new Input();
    private final Output output = new Output(4096, -1);
    private final LZ4Compressor compressor = LZ4Factory.fastestJavaInstance().fastCompressor();
    private final LZ4FastDecompressor decompressor = LZ4Factory.fastestJavaInstance().fastDecompressor();
    private final BlobSink sink;
    private final BlobSource source;
    private byte[] scratch = new byte[0];
    private int externalThreshold = EXTERNAL_THRESHOLD;

    public EntryCodec(BlobSink sink, BlobSource source) {
        this.sink = sink;
        this.source = source;
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
        kryo.register(SyscallEvent.class, new SyscallSerializer(), ID_SYSCALL);
        kryo.register(SignalEvent.class, new SignalSerializer(), ID_SIGNAL);
        kryo.register(SpawnEvent.class, new SpawnSerializer(), ID_SPAWN);
        kryo.register(ExecEvent.class, new ExecSerializer(), ID_EXEC);
        kryo.register(ExitEvent.class, new ExitSerializer(), ID_EXIT);
        kryo.register(MappingEvent.class, new MappingSerializer(), ID_MAPPING);
        kryo.register(ContextEvent.class, new ContextSerializer(), ID_CONTEXT);
        kryo.register(ScheduleEvent.class, new ScheduleSerializer(), ID_SCHEDULE);
        kryo.register(MemoryBlock.class, new BlockSerializer(), ID_MEMORY_BLOCK);
        kryo.register(ProcessContext.class, new ProcessContextSerializer(), ID_PROCESS_CONTEXT);
    }

    /** Encodes an event; the payload is {@link #buffer()}[0, returned length). */
    public int encode(Event event) throws RecordingException {
        externalThreshold = EXTERNAL_THRESHOLD;
        int n = encodeOnce(event);
        if (n > MAX_PAYLOAD) {
            externalThreshold = FALLBACK_EXTERNAL_THRESHOLD;
            n = encodeOnce(event);
            externalThreshold = EXTERNAL_THRESHOLD;
            if (n > MAX_PAYLOAD) {
                throw new RecordingException("event " + event.seq() + " (" + event.kind() + ") encodes to " + n
                        + " bytes even with its memory blocks in the blob store; a journal entry holds at most " + MAX_PAYLOAD);
            }
        }
        return n;
    }

    private int encodeOnce(Event event) throws RecordingException {
        output.reset();
        try {
            kryo.writeClassAndObject(output, event);
        } catch (BlobFailure f) {
            throw f.cause;
        }
        return output.position();
    }

    public byte[] buffer() {
        return output.getBuffer();
    }

    /** While {@link #decodeWithoutData} decodes: memory blocks are passed over, not read. */
    private boolean withoutData;

    /**
     * As {@link #decode}, the memory blocks passed over (their headers and lengths checked, their bytes not
     * decompressed; those in the blob store still loaded, see {@link #skipBlock}): the event's block lists are empty.
     */
    public Event decodeWithoutData(byte[] payload, int length) throws RecordingException, DecodeException {
        withoutData = true;
        try {
            return decode(payload, length);
        } finally {
            withoutData = false;
        }
    }

    /** Decodes one payload. Throws {@link DecodeException} (with what went wrong) on malformed bytes. */
    public Event decode(byte[] payload, int length) throws RecordingException, DecodeException {
        input.setBuffer(payload, 0, length);
        Object o;
        try {
            o = kryo.readClassAndObject(input);
        } catch (BlobFailure f) {
            throw f.cause;
        } catch (RuntimeException e) {   // KryoException, IllegalArgumentException from a record, LZ4Exception, ...
            throw new DecodeException("cannot decode the event: " + e.getMessage(), e);
        }
        if (!(o instanceof Event ev)) {
            throw new DecodeException("the entry holds a " + (o == null ? "null" : o.getClass().getSimpleName()) + ", not an event", null);
        }
        if (input.position() != length) {
            throw new DecodeException("the event ends at byte " + input.position() + " of a " + length + "-byte payload", null);
        }
        return ev;
    }

    /** Malformed payload bytes that passed the checksum (a writer bug or a format mismatch). */
    public static final class DecodeException extends Exception {
        DecodeException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // ---- common fields: seq (varlong), pid, tid (zigzag varints), timeNs (int64)

    private static void writeCommon(Output out, Event e) {
        out.writeVarLong(e.seq(), true);
        out.writeVarInt(e.pid(), false);
        out.writeVarInt(e.tid(), false);
        out.writeLong(e.timeNs());
    }

    private record Common(long seq, int pid, int tid, long timeNs) {
        static Common read(Input in) {
            return new Common(in.readVarLong(true), in.readVarInt(false), in.readVarInt(false), in.readLong());
        }
    }

    private static void writeBytes(Output out, byte[] b) {
        out.writeVarInt(b.length, true);
        out.writeBytes(b);
    }

    private static byte[] readBytes(Input in) {
        return in.readBytes(in.readVarInt(true));
    }

    // ---- memory blocks

    private void writeBlock(Output out, MemoryBlock b) {
        out.writeVarInt(b.arg() + 1, true);
        out.writeVarLong(b.address(), false);
        byte[] data = b.data();
        int clen = Integer.MAX_VALUE;
        if (data.length >= COMPRESS_THRESHOLD) {
            int max = compressor.maxCompressedLength(data.length);
            if (scratch.length < max) scratch = new byte[max];
            clen = compressor.compress(data, 0, data.length, scratch, 0, max);
        }
        if (Math.min(clen, data.length) >= externalThreshold) {
            String hash;
            try {
                hash = sink.store(data);
            } catch (RecordingException e) {
                throw new BlobFailure(e);
            }
            out.writeByte(BLOCK_BLOB);
            out.writeVarInt(data.length, true);
            out.writeBytes(HexFormat.of().parseHex(hash));
            return;
        }
        if (clen < data.length) {
            out.writeByte(BLOCK_LZ4);
            out.writeVarInt(data.length, true);
            out.writeVarInt(clen, true);
            out.writeBytes(scratch, 0, clen);
            return;
        }
        out.writeByte(BLOCK_RAW);
        writeBytes(out, data);
    }

    private MemoryBlock readBlock(Input in) {
        int arg = in.readVarInt(true) - 1;
        long address = in.readVarLong(false);
        int encoding = in.readByte();
        byte[] data;
        switch (encoding) {
            case BLOCK_RAW -> data = readBytes(in);
            case BLOCK_LZ4 -> {
                int rawLen = in.readVarInt(true);
                int clen = in.readVarInt(true);
                byte[] compressed = in.readBytes(clen);
                data = new byte[rawLen];
                int used = decompressor.decompress(compressed, 0, data, 0, rawLen);
                if (used != clen) {
                    throw new IllegalArgumentException("LZ4 block of " + clen + " bytes decompressed from only " + used);
                }
            }
            case BLOCK_BLOB -> {
                int rawLen = in.readVarInt(true);
                String hash = HexFormat.of().formatHex(in.readBytes(32));
                try {
                    data = source.load(hash, rawLen);
                } catch (RecordingException e) {
                    throw new BlobFailure(e);
                }
            }
            default -> throw new IllegalArgumentException("unknown memory block encoding " + encoding);
        }
        return new MemoryBlock(arg, address, data);
    }

    /**
     * Passes over one block as {@link #readBlock} would read it. A block in the blob store is still loaded (and so
     * checked): they are rare (1 MiB and more), and a damaged one is then refused before a replay starts.
     */
    private void skipBlock(Input in) {
        in.readVarInt(true);
        in.readVarLong(false);
        int encoding = in.readByte();
        long bytes = switch (encoding) {
            case BLOCK_RAW -> in.readVarInt(true);
            case BLOCK_LZ4 -> {
                in.readVarInt(true);
                yield in.readVarInt(true);
            }
            case BLOCK_BLOB -> {
                int rawLen = in.readVarInt(true);
                try {
                    source.load(HexFormat.of().formatHex(in.readBytes(32)), rawLen);
                } catch (RecordingException e) {
                    throw new BlobFailure(e);
                }
                yield 0;
            }
            default -> throw new IllegalArgumentException("unknown memory block encoding " + encoding);
        };
        if (bytes < 0 || bytes > in.limit() - in.position()) {
            throw new IllegalArgumentException("a memory block of " + bytes + " bytes exceeds the payload");
        }
        in.setPosition(in.position() + (int) bytes);
    }

    private void writeBlocks(Output out, List<MemoryBlock> blocks) {
        out.writeVarInt(blocks.size(), true);
        for (MemoryBlock b : blocks) writeBlock(out, b);
    }

    private List<MemoryBlock> readBlocks(Input in) {
        int n = in.readVarInt(true);
        if (n > in.limit() - in.position()) throw new IllegalArgumentException("block count " + n + " exceeds the payload");
        if (withoutData) {
            for (int i = 0; i < n; i++) skipBlock(in);
            return List.of();
        }
        List<MemoryBlock> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) list.add(readBlock(in));
        return list;
    }

    private static void writeStrings(Output out, List<String> list) {
        out.writeVarInt(list.size(), true);
        for (String s : list) out.writeString(s);
    }

    private static List<String> readStrings(Input in) {
        int n = in.readVarInt(true);
        if (n > in.limit() - in.position()) throw new IllegalArgumentException("string count " + n + " exceeds the payload");
        List<String> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) list.add(in.readString());
        return list;
    }

    // ---- serializers, one per type; field order documented in docs/format.md

    private final class SyscallSerializer extends Serializer<SyscallEvent> {
        @Override
        public void write(Kryo k, Output out, SyscallEvent e) {
            writeCommon(out, e);
            out.writeVarLong(e.exitTimeNs() - e.timeNs(), false);
            out.writeVarInt(e.nr(), false);
            for (int i = 0; i < 6; i++) out.writeVarLong(e.arg(i), false);
            writeBlocks(out, e.inputs());
            out.writeVarLong(e.result(), false);
            writeBlocks(out, e.outputs());
            out.writeVarInt(e.flags(), true);
        }

        @Override
        public SyscallEvent read(Kryo k, Input in, Class<? extends SyscallEvent> type) {
            Common c = Common.read(in);
            long exitTime = c.timeNs + in.readVarLong(false);
            int nr = in.readVarInt(false);
            long[] args = new long[6];
            for (int i = 0; i < 6; i++) args[i] = in.readVarLong(false);
            List<MemoryBlock> inputs = readBlocks(in);
            long result = in.readVarLong(false);
            List<MemoryBlock> outputs = readBlocks(in);
            int flags = in.readVarInt(true);
            return new SyscallEvent(c.seq, c.pid, c.tid, c.timeNs, exitTime, nr, args, inputs, result, outputs, flags);
        }
    }

    private static final class SignalSerializer extends Serializer<SignalEvent> {
        @Override
        public void write(Kryo k, Output out, SignalEvent e) {
            writeCommon(out, e);
            out.writeVarInt(e.signo(), false);
            out.writeVarInt(e.code(), false);
            out.writeVarInt(e.senderPid(), false);
            out.writeVarInt(e.senderUid(), false);
            writeBytes(out, e.siginfo());
            out.writeBoolean(e.delivered());
        }

        @Override
        public SignalEvent read(Kryo k, Input in, Class<? extends SignalEvent> type) {
            Common c = Common.read(in);
            return new SignalEvent(c.seq, c.pid, c.tid, c.timeNs, in.readVarInt(false), in.readVarInt(false),
                    in.readVarInt(false), in.readVarInt(false), readBytes(in), in.readBoolean());
        }
    }

    private static final class SpawnSerializer extends Serializer<SpawnEvent> {
        @Override
        public void write(Kryo k, Output out, SpawnEvent e) {
            writeCommon(out, e);
            out.writeByte(switch (e.spawnKind()) {
                case FORK -> 0;
                case VFORK -> 1;
                case THREAD -> 2;
                case CLONE -> 3;
            });
            out.writeVarInt(e.childPid(), false);
            out.writeVarInt(e.childTid(), false);
            out.writeVarLong(e.cloneFlags(), true);
        }

        @Override
        public SpawnEvent read(Kryo k, Input in, Class<? extends SpawnEvent> type) {
            Common c = Common.read(in);
            int code = in.readByte();
            SpawnEvent.Kind kind = switch (code) {
                case 0 -> SpawnEvent.Kind.FORK;
                case 1 -> SpawnEvent.Kind.VFORK;
                case 2 -> SpawnEvent.Kind.THREAD;
                case 3 -> SpawnEvent.Kind.CLONE;
                default -> throw new IllegalArgumentException("unknown spawn kind " + code);
            };
            return new SpawnEvent(c.seq, c.pid, c.tid, c.timeNs, kind, in.readVarInt(false), in.readVarInt(false),
                    in.readVarLong(true));
        }
    }

    private static final class ExecSerializer extends Serializer<ExecEvent> {
        @Override
        public void write(Kryo k, Output out, ExecEvent e) {
            writeCommon(out, e);
            out.writeVarInt(e.formerTid(), false);
            out.writeString(e.path());
            writeStrings(out, e.argv());
            out.writeString(e.exeBlob());
            long[] auxv = e.auxv();
            out.writeVarInt(auxv.length, true);
            for (long v : auxv) out.writeVarLong(v, true);
            writeBytes(out, e.atRandom());
        }

        @Override
        public ExecEvent read(Kryo k, Input in, Class<? extends ExecEvent> type) {
            Common c = Common.read(in);
            int formerTid = in.readVarInt(false);
            String path = in.readString();
            List<String> argv = readStrings(in);
            String exeBlob = in.readString();
            int n = in.readVarInt(true);
            if (n > in.limit() - in.position()) throw new IllegalArgumentException("auxv length " + n + " exceeds the payload");
            long[] auxv = new long[n];
            for (int i = 0; i < n; i++) auxv[i] = in.readVarLong(true);
            return new ExecEvent(c.seq, c.pid, c.tid, c.timeNs, formerTid, path, argv, exeBlob, auxv, readBytes(in));
        }
    }

    private static final class ExitSerializer extends Serializer<ExitEvent> {
        @Override
        public void write(Kryo k, Output out, ExitEvent e) {
            writeCommon(out, e);
            out.writeBoolean(e.processExit());
            out.writeVarInt(e.exitCode(), false);
            out.writeVarInt(e.termSignal(), false);
            out.writeBoolean(e.coreDumped());
        }

        @Override
        public ExitEvent read(Kryo k, Input in, Class<? extends ExitEvent> type) {
            Common c = Common.read(in);
            return new ExitEvent(c.seq, c.pid, c.tid, c.timeNs, in.readBoolean(), in.readVarInt(false),
                    in.readVarInt(false), in.readBoolean());
        }
    }

    /**
     * Format version 2: kind (0 start, 1 preempt), resumeNs, register count and words, stack hash, run
     * time; version 3 appends the deeper stack hash (a version-2 payload ends before it); version 5 the
     * memory witness: register mask, pointer count and pointers, the two hashes (an older payload ends
     * before them).
     */
    private static final class ScheduleSerializer extends Serializer<ScheduleEvent> {
        @Override
        public void write(Kryo k, Output out, ScheduleEvent e) {
            writeCommon(out, e);
            out.writeVarInt(e.scheduleKind().ordinal(), true);
            out.writeLong(e.resumeNs());
            out.writeVarInt(e.registerCount(), true);
            for (int i = 0; i < e.registerCount(); i++) out.writeLong(e.register(i));
            out.writeLong(e.stackHash());
            out.writeVarLong(e.runNs(), true);
            out.writeLong(e.deeperStackHash());
            out.writeVarInt(e.memoryMask(), true);
            long[] pointers = e.memoryPointers();
            out.writeVarInt(pointers.length, true);
            for (long p : pointers) out.writeVarLong(p, true);
            out.writeLong(e.memoryHash());
            out.writeLong(e.memoryDeepHash());
        }

        @Override
        public ScheduleEvent read(Kryo k, Input in, Class<? extends ScheduleEvent> type) {
            Common c = Common.read(in);
            int kind = in.readVarInt(true);
            if (kind < 0 || kind >= ScheduleEvent.Kind.values().length) {
                throw new IllegalArgumentException("unknown schedule kind " + kind);
            }
            long resumeNs = in.readLong();
            int n = in.readVarInt(true);
            if (n > (in.limit() - in.position()) / 8) throw new IllegalArgumentException("register count " + n + " exceeds the payload");
            long[] regs = new long[n];
            for (int i = 0; i < n; i++) regs[i] = in.readLong();
            long stackHash = in.readLong();
            long runNs = in.readVarLong(true);
            long deeper = in.limit() - in.position() >= Long.BYTES ? in.readLong() : ScheduleEvent.NO_DEEPER_HASH;
            int memoryMask = 0;
            long[] pointers = new long[0];
            long memoryHash = 0;
            long memoryDeepHash = 0;
            if (in.limit() > in.position()) {
                memoryMask = in.readVarInt(true);
                int m = in.readVarInt(true);
                if (m > in.limit() - in.position()) throw new IllegalArgumentException("pointer count " + m + " exceeds the payload");
                pointers = new long[m];
                for (int i = 0; i < m; i++) pointers[i] = in.readVarLong(true);
                memoryHash = in.readLong();
                memoryDeepHash = in.readLong();
            }
            return new ScheduleEvent(c.seq, c.pid, c.tid, c.timeNs, ScheduleEvent.Kind.values()[kind], resumeNs, regs,
                    stackHash, deeper, runNs, memoryMask, pointers, memoryHash, memoryDeepHash);
        }
    }

    private static final class MappingSerializer extends Serializer<MappingEvent> {
        @Override
        public void write(Kryo k, Output out, MappingEvent e) {
            writeCommon(out, e);
            out.writeVarLong(e.address(), true);
            out.writeVarLong(e.length(), true);
            out.writeVarInt(e.prot(), true);
            out.writeVarInt(e.flags(), true);
            out.writeVarLong(e.offset(), true);
            out.writeString(e.path());
            out.writeVarLong(e.fileSize(), true);
            out.writeString(e.blob());
        }

        @Override
        public MappingEvent read(Kryo k, Input in, Class<? extends MappingEvent> type) {
            Common c = Common.read(in);
            return new MappingEvent(c.seq, c.pid, c.tid, c.timeNs, in.readVarLong(true), in.readVarLong(true),
                    in.readVarInt(true), in.readVarInt(true), in.readVarLong(true), in.readString(),
                    in.readVarLong(true), in.readString());
        }
    }

    private static final class ProcessContextSerializer extends Serializer<ProcessContext> {
        @Override
        public void write(Kryo k, Output out, ProcessContext p) {
            out.writeVarInt(p.pid(), false);
            out.writeVarInt(p.ppid(), false);
            out.writeVarInt(p.uid(), false);
            out.writeVarInt(p.gid(), false);
            out.writeVarInt(p.euid(), false);
            out.writeVarInt(p.egid(), false);
            out.writeString(p.comm());
            out.writeString(p.exe());
            out.writeString(p.cwd());
        }

        @Override
        public ProcessContext read(Kryo k, Input in, Class<? extends ProcessContext> type) {
            return new ProcessContext(in.readVarInt(false), in.readVarInt(false), in.readVarInt(false),
                    in.readVarInt(false), in.readVarInt(false), in.readVarInt(false), in.readString(), in.readString(),
                    in.readString());
        }
    }

    private final class ContextSerializer extends Serializer<ContextEvent> {
        @Override
        public void write(Kryo k, Output out, ContextEvent e) {
            writeCommon(out, e);
            k.writeObject(out, e.context());
        }

        @Override
        public ContextEvent read(Kryo k, Input in, Class<? extends ContextEvent> type) {
            Common c = Common.read(in);
            return new ContextEvent(c.seq, c.pid, c.tid, c.timeNs, k.readObject(in, ProcessContext.class));
        }
    }

    private final class BlockSerializer extends Serializer<MemoryBlock> {
        @Override
        public void write(Kryo k, Output out, MemoryBlock b) {
            writeBlock(out, b);
        }

        @Override
        public MemoryBlock read(Kryo k, Input in, Class<? extends MemoryBlock> type) {
            return readBlock(in);
        }
    }
}
