package dev.deja.replayer.gdb;

import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * gdb's watchpoints on a replay ({@code Z2} write, {@code Z3} read, {@code Z4} access): the watched
 * ranges, the bytes each held when last seen, and the decision whether an access or a replayed call is
 * a hit. A write watchpoint reports when the value changed (gdb's semantics for {@code watch}: a store of
 * the same value is no hit); a read watchpoint reports a load from the range (an instruction that
 * stored into a watched page is no read); an access watchpoint reports either. Hits come in the order
 * gdb inserted the watches. No tracee here: memory comes through {@link Memory}.
 */
final class WatchSet {
    /** At most this many watched ranges at once (each costs a protected page and a compare per store in it). */
    static final int MAX_WATCHES = 16;
    /** The longest range one watchpoint may cover (a struct or a buffer; every store in its pages is stepped). */
    static final long MAX_LENGTH = 64 * 1024;

    /** Reads the program's memory: the bytes of {@code [address, address+length)}, or null when not all are readable. */
    @FunctionalInterface
    interface Memory {
        byte[] read(long address, int length);
    }

    /** What a watchpoint stops at, and how its stop reply names it. */
    enum Kind {
        WRITE("watch"), READ("rwatch"), ACCESS("awatch");

        private final String stopKey;

        Kind(String stopKey) {
            this.stopKey = stopKey;
        }

        /** Whether loads must fault too (the pages lose all access, not just writes). */
        boolean reads() {
            return this != WRITE;
        }

        /** The kind of a {@code Z}/{@code z} packet's type digit (2, 3, 4), or null. */
        static Kind ofPacketType(char type) {
            return switch (type) {
                case '2' -> WRITE;
                case '3' -> READ;
                case '4' -> ACCESS;
                default -> null;
            };
        }
    }

    /** A watched range, the bytes it held when last seen, and what it watches for. */
    record Watch(long address, int length, byte[] last, Kind kind) {
        Watch {
            last = last.clone();
        }

        /** The same watch, with {@code now} as the bytes last seen. */
        Watch seeing(byte[] now) {
            return new Watch(address, length, now, kind);
        }

        /** The stop reply's watch field for this watch: {@code watch:ADDR;} (rwatch, awatch). */
        String stopInfo() {
            return kind.stopKey + ":" + Long.toHexString(address) + ";";
        }

        /**
         * Whether an access whose first byte is {@code at} touches the range. The fault gives that byte, not
         * the access's width: a wider load that begins before the range (a copy of the whole struct) is not
         * seen, and a load of a neighbour is never taken for one of the range.
         */
        boolean touchedBy(long at) {
            return at >= address && at < address + length;
        }

        @Override
        public byte[] last() {
            return last.clone();
        }

        boolean overlaps(long from, long len) {
            return len > 0 && from < address + length && address < from + len;
        }
    }

    private final List<Watch> watches = new ArrayList<>();
    /**
     * The last bytes of watches gdb removed since the program last ran, by "address/length": gdb takes its
     * watchpoints out at every stop and puts them back before it resumes, and a change not reported yet
     * (two watches changed by one store) must survive that.
     */
    private final Map<String, byte[]> retired = new HashMap<>();

    boolean isEmpty() {
        return watches.isEmpty();
    }

    int size() {
        return watches.size();
    }

    List<Watch> watches() {
        return List.copyOf(watches);
    }

    /** Why {@code [address, address+length)} cannot be watched now, or null when it can. */
    String refusal(long address, long length) {
        if (length <= 0) return "a watchpoint needs at least one byte";
        if (length > MAX_LENGTH) return "deja watches at most " + MAX_LENGTH + " bytes per watchpoint (asked: " + length + ")";
        if (watches.size() >= MAX_WATCHES) return "deja watches at most " + MAX_WATCHES + " ranges at once";
        if (address < 0 || address + length < address) return "the range wraps around the address space";
        return null;
    }

    /**
     * Adds a watch with its bytes now ({@code current}: gdb's old value is the one the range holds when it
     * is inserted), or with the last bytes it had when gdb removed it while the program stood still.
     */
    void add(long address, byte[] current, Kind kind) {
        byte[] last = retired.remove(key(address, current.length, kind));
        watches.add(new Watch(address, current.length, last != null ? last : current, kind));
    }

    private static String key(long address, long length, Kind kind) {
        return address + "/" + length + "/" + kind;
    }

    /** The program runs again: a watch removed and not put back is gone for good. */
    void resumed() {
        retired.clear();
    }

    /** Removes one watch of exactly that range and kind; false when there is none. */
    boolean remove(long address, long length, Kind kind) {
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            if (w.address() == address && w.length() == length && w.kind() == kind) {
                watches.remove(i);
                retired.put(key(address, length, kind), w.last);
                return true;
            }
        }
        return false;
    }

    void clear() {
        watches.clear();
        retired.clear();
    }

    /**
     * After a store or a replayed call: the first write or access watch whose bytes differ from those last
     * seen, which takes them as its last seen, or null (a read watch takes changed bytes silently: a
     * change is no read). gdb hears of one watch per stop (the one its stop reply names): another one the
     * same store changed is found by the next call, before the program goes on. A range that cannot be
     * read is left as it was.
     */
    Watch changed(Memory memory) {
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            byte[] now = memory.read(w.address(), w.length());
            if (now == null || Arrays.equals(now, w.last)) continue;
            Watch updated = w.seeing(now);
            watches.set(i, updated);
            if (w.kind() != Kind.READ) return updated;
        }
        return null;
    }

    /**
     * After an instruction touched a watched page at {@code at} ({@code wrote}: it stored into one, else it
     * only loaded): every watch it hits, in gdb's order, each taking the bytes now as last seen. A write
     * watch is hit when its bytes changed; a read watch when the load touched it and nothing was stored;
     * an access watch when the access touched it or its bytes changed.
     */
    List<Watch> accessed(long at, boolean wrote, Memory memory) {
        List<Watch> hits = new ArrayList<>();
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            byte[] now = memory.read(w.address(), w.length());
            boolean changed = now != null && !Arrays.equals(now, w.last);
            Watch seen = changed ? w.seeing(now) : w;
            watches.set(i, seen);
            boolean hit = switch (w.kind()) {
                case WRITE -> changed;
                case READ -> !wrote && w.touchedBy(at);
                case ACCESS -> changed || w.touchedBy(at);
            };
            if (hit) hits.add(seen);
        }
        return hits;
    }

    /**
     * The program is somewhere else (a copy restored to go back): every watch takes the bytes its range
     * holds there as last seen; a range not mapped there counts as zeros (an anonymous mapping's first content).
     */
    void rebase(Memory memory) {
        for (int i = 0; i < watches.size(); i++) {
            Watch w = watches.get(i);
            byte[] now = memory.read(w.address(), w.length());
            watches.set(i, w.seeing(now != null ? now : new byte[w.length()]));
        }
    }

    /**
     * Whether replaying {@code recorded} with the live arguments {@code liveArgs} writes watched bytes:
     * one of its recorded outputs, placed as the replay places it (a block hanging off argument i moves
     * with the live argument; a block reached through a pointer stays at its recorded address), overlaps
     * a watch.
     */
    boolean written(SyscallEvent recorded, long[] liveArgs) {
        for (MemoryBlock b : recorded.outputs()) {
            long at = b.arg() >= 0 ? liveArgs[b.arg()] + (b.address() - recorded.arg(b.arg())) : b.address();
            for (Watch w : watches) if (w.overlaps(at, b.length())) return true;
        }
        return false;
    }
}
