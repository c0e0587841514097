package dev.deja.replayer.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The watch set's decisions: what may be watched, which store is a hit, which replayed call writes watched bytes. */
class WatchSetTest {
    /** Memory of 256 bytes at 0x1000. */
    private final byte[] memory = new byte[256];

    private static List<WatchSet.Kind> kinds(List<WatchSet.Watch> hits) {
        return hits.stream().map(WatchSet.Watch::kind).toList();
    }

    private byte[] read(long address, int length) {
        if (address < 0x1000 || address + length > 0x1000 + memory.length) return null;
        return Arrays.copyOfRange(memory, (int) (address - 0x1000), (int) (address - 0x1000) + length);
    }

    private WatchSet watching(long address, int length) {
        WatchSet w = new WatchSet();
        w.add(address, read(address, length), WatchSet.Kind.WRITE);
        return w;
    }

    @Test
    void aStoreThatChangesTheWatchedBytesIsAHitAndTheNewValueIsTheNextOldOne() {
        WatchSet w = watching(0x1004, 4);
        assertNull(w.changed(this::read), "nothing stored yet");
        memory[5] = 8;
        WatchSet.Watch hit = w.changed(this::read);
        assertNotNull(hit);
        assertEquals(0x1004, hit.address());
        assertArrayEquals(new byte[] {0, 8, 0, 0}, hit.last());
        assertNull(w.changed(this::read), "the same value again is no hit");
    }

    @Test
    void aRestoredRunTakesItsOwnBytesAsLastSeenAndAnUnmappedRangeAsZeros() {
        WatchSet w = watching(0x1004, 4);
        w.add(0x2000, new byte[] {1, 2}, WatchSet.Kind.WRITE); // readable when gdb inserted it, not mapped in the copy
        memory[4] = 9; // the copy holds another value than the stop gdb left
        w.rebase(this::read);
        assertNull(w.changed(this::read), "the copy's own bytes are no change");
        assertArrayEquals(new byte[] {9, 0, 0, 0}, w.watches().get(0).last());
        assertArrayEquals(new byte[] {0, 0}, w.watches().get(1).last());
        memory[4] = 3;
        assertEquals(0x1004, w.changed(this::read).address());
    }

    @Test
    void aStoreOfTheSameValueOrBesideTheRangeIsNoHit() {
        memory[4] = 7;
        WatchSet w = watching(0x1004, 4);
        memory[4] = 7;
        memory[3] = 1;
        memory[8] = 1;
        assertNull(w.changed(this::read));
    }

    @Test
    void withSeveralWatchesChangedByOneStoreEachIsReportedOnceInTheOrderInserted() {
        WatchSet w = new WatchSet();
        w.add(0x1010, read(0x1010, 1), WatchSet.Kind.WRITE);
        w.add(0x1000, read(0x1000, 8), WatchSet.Kind.WRITE);
        w.add(0x1020, read(0x1020, 2), WatchSet.Kind.WRITE);
        memory[0x21] = 5;
        memory[2] = 5;
        assertEquals(0x1000, w.changed(this::read).address(), "inserted before 0x1020");
        assertEquals(0x1020, w.changed(this::read).address(), "the second change, at the same stop");
        assertNull(w.changed(this::read));
        memory[0x10] = 9;
        assertEquals(0x1010, w.changed(this::read).address());
    }

    @Test
    void aChangeNotReportedYetSurvivesGdbRemovingAndReinsertingTheWatchAtAStop() {
        WatchSet w = new WatchSet();
        w.add(0x1000, read(0x1000, 4), WatchSet.Kind.WRITE);
        w.add(0x1008, read(0x1008, 4), WatchSet.Kind.WRITE);
        memory[0] = 1;
        memory[8] = 1;
        assertEquals(0x1000, w.changed(this::read).address());
        // gdb at the stop: z2 for both; before it resumes: Z2 for both, then vCont.
        w.remove(0x1000, 4, WatchSet.Kind.WRITE);
        w.remove(0x1008, 4, WatchSet.Kind.WRITE);
        w.add(0x1000, read(0x1000, 4), WatchSet.Kind.WRITE);
        w.add(0x1008, read(0x1008, 4), WatchSet.Kind.WRITE);
        w.resumed();
        assertEquals(0x1008, w.changed(this::read).address(), "still a change against its old value");
        assertNull(w.changed(this::read));
    }

    @Test
    void aWatchRemovedWhileTheProgramRanStartsAfreshWhenInsertedAgain() {
        WatchSet w = new WatchSet();
        w.add(0x1000, read(0x1000, 4), WatchSet.Kind.WRITE);
        w.remove(0x1000, 4, WatchSet.Kind.WRITE);
        w.resumed(); // the program ran without it
        memory[0] = 3;
        w.add(0x1000, read(0x1000, 4), WatchSet.Kind.WRITE);
        assertNull(w.changed(this::read), "its old value is the one it has when set again");
    }

    @Test
    void anUnreadableRangeIsNeverAHitAndKeepsItsLastBytes() {
        WatchSet w = new WatchSet();
        w.add(0x10fc, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, WatchSet.Kind.WRITE);
        assertNull(w.changed(this::read), "runs past the readable memory");
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, w.watches().getFirst().last());
    }

    @Test
    void aLoadIsARangesReadAndAccessHitButNoWriteHit() {
        WatchSet w = new WatchSet();
        w.add(0x1010, read(0x1010, 4), WatchSet.Kind.WRITE);
        w.add(0x1010, read(0x1010, 4), WatchSet.Kind.READ);
        w.add(0x1010, read(0x1010, 4), WatchSet.Kind.ACCESS);
        List<WatchSet.Watch> hits = w.accessed(0x1012, false, this::read);
        assertEquals(List.of(WatchSet.Kind.READ, WatchSet.Kind.ACCESS), kinds(hits));
        assertEquals("rwatch:1010;", hits.get(0).stopInfo());
        assertEquals("awatch:1010;", hits.get(1).stopInfo());
        assertEquals(List.of(), w.accessed(0x1014, false, this::read), "just past the range");
        assertEquals(List.of(), w.accessed(0x1000, false, this::read), "another word of the page");
    }

    @Test
    void aLoadIsSeenByItsFirstByte() {
        WatchSet w = new WatchSet();
        w.add(0x1014, read(0x1014, 4), WatchSet.Kind.READ);
        assertEquals(List.of(), w.accessed(0x1013, false, this::read), "a neighbour's byte (or a wider load beginning there)");
        assertEquals(1, w.accessed(0x1014, false, this::read).size());
        assertEquals(1, w.accessed(0x1017, false, this::read).size(), "its last byte");
    }

    @Test
    void aStoreIsAnAccessHitAndAWriteHitWhenItChangedTheBytesButNeverAReadHit() {
        WatchSet w = new WatchSet();
        w.add(0x1010, read(0x1010, 4), WatchSet.Kind.READ);
        w.add(0x1010, read(0x1010, 4), WatchSet.Kind.ACCESS);
        w.add(0x1010, read(0x1010, 4), WatchSet.Kind.WRITE);
        assertEquals(List.of(WatchSet.Kind.ACCESS), kinds(w.accessed(0x1010, true, this::read)),
                "the same value stored: an access, no change");
        memory[0x11] = 4;
        assertEquals(List.of(WatchSet.Kind.ACCESS, WatchSet.Kind.WRITE),
                kinds(w.accessed(0x1010, true, this::read)));
        assertNull(w.changed(this::read), "every watch took the new bytes");
        assertEquals(2, w.accessed(0x1011, false, this::read).size(), "a later load of the new value is a read");
    }

    @Test
    void aReplayedCallsChangeIsAWriteOrAccessHitAndARangeReadWatchTakesItSilently() {
        WatchSet w = new WatchSet();
        w.add(0x1010, read(0x1010, 4), WatchSet.Kind.READ);
        w.add(0x1020, read(0x1020, 4), WatchSet.Kind.ACCESS);
        memory[0x10] = 1;
        memory[0x20] = 1;
        assertEquals("awatch:1020;", w.changed(this::read).stopInfo());
        assertNull(w.changed(this::read));
        assertArrayEquals(new byte[] {1, 0, 0, 0}, w.watches().getFirst().last(), "the read watch holds the new bytes");
        assertEquals(1, w.accessed(0x1010, false, this::read).size(), "so a load of them is a read");
    }

    @Test
    void removeMatchesTheKindToo() {
        WatchSet w = new WatchSet();
        w.add(0x1000, new byte[4], WatchSet.Kind.READ);
        assertFalse(w.remove(0x1000, 4, WatchSet.Kind.WRITE));
        assertFalse(w.remove(0x1000, 4, WatchSet.Kind.ACCESS));
        assertTrue(w.remove(0x1000, 4, WatchSet.Kind.READ));
        assertTrue(w.isEmpty());
    }

    @Test
    void removeTakesOneWatchOfExactlyThatRange() {
        WatchSet w = new WatchSet();
        w.add(0x1000, new byte[4], WatchSet.Kind.WRITE);
        w.add(0x1000, new byte[4], WatchSet.Kind.WRITE);
        assertFalse(w.remove(0x1000, 2, WatchSet.Kind.WRITE));
        assertFalse(w.remove(0x1001, 4, WatchSet.Kind.WRITE));
        assertTrue(w.remove(0x1000, 4, WatchSet.Kind.WRITE));
        assertEquals(1, w.size());
        assertTrue(w.remove(0x1000, 4, WatchSet.Kind.WRITE));
        assertTrue(w.isEmpty());
        assertFalse(w.remove(0x1000, 4, WatchSet.Kind.WRITE));
    }

    @Test
    void refusesEmptyTooLongWrappingAndOneWatchTooMany() {
        WatchSet w = new WatchSet();
        assertNotNull(w.refusal(0x1000, 0));
        assertNull(w.refusal(0x1000, WatchSet.MAX_LENGTH));
        assertNotNull(w.refusal(0x1000, WatchSet.MAX_LENGTH + 1));
        assertNotNull(w.refusal(-16, 8));
        assertNotNull(w.refusal(Long.MAX_VALUE - 2, 8));
        for (int i = 0; i < WatchSet.MAX_WATCHES; i++) {
            assertNull(w.refusal(0x1000 + 8L * i, 8), "watch " + i);
            w.add(0x1000 + 8L * i, new byte[8], WatchSet.Kind.WRITE);
        }
        String why = w.refusal(0x2000, 8);
        assertNotNull(why);
        assertTrue(why.contains(Integer.toString(WatchSet.MAX_WATCHES)), why);
        w.remove(0x1000, 8, WatchSet.Kind.WRITE);
        assertNull(w.refusal(0x2000, 8), "room again after a delete");
    }

    private static SyscallEvent read(long recordedBuffer, long liveBuffer, int got, List<MemoryBlock> extra) {
        long[] args = {3, recordedBuffer, 64, 0, 0, 0};
        List<MemoryBlock> outputs = new java.util.ArrayList<>();
        outputs.add(new MemoryBlock(1, recordedBuffer, new byte[got]));
        outputs.addAll(extra);
        return new SyscallEvent(9, 100, 100, 0, 0, 0, args, List.of(), got, outputs, 0);
    }

    @Test
    void aReplayedReadWritesTheWatchedBytesWhenItsBufferAtTheLiveAddressOverlapsThem() {
        WatchSet w = new WatchSet();
        w.add(0x5004, new byte[4], WatchSet.Kind.WRITE);
        long[] live = {3, 0x5000, 64, 0, 0, 0};
        assertTrue(w.written(read(0x5000, 0x5000, 12, List.of()), live));
        assertTrue(w.written(read(0x5000, 0x5000, 5, List.of()), live), "one byte of the watch");
        assertFalse(w.written(read(0x5000, 0x5000, 4, List.of()), live), "ends just before the watch");
        // Recorded at another address: the block moves with the live argument, as the replay writes it.
        assertTrue(w.written(read(0x9000, 0x5000, 12, List.of()), live));
        assertFalse(w.written(read(0x5000, 0x5000, 12, List.of()), new long[] {3, 0x6000, 64, 0, 0, 0}));
    }

    @Test
    void aBlockReachedThroughAPointerIsPlacedAtItsRecordedAddress() {
        WatchSet w = new WatchSet();
        w.add(0x7000, new byte[8], WatchSet.Kind.WRITE);
        long[] live = {3, 0x5000, 64, 0, 0, 0};
        assertTrue(w.written(read(0x5000, 0x5000, 0, List.of(new MemoryBlock(-1, 0x6ffc, new byte[8]))), live));
        assertFalse(w.written(read(0x5000, 0x5000, 0, List.of(new MemoryBlock(-1, 0x7008, new byte[8]))), live));
        assertFalse(new WatchSet().written(read(0x7000, 0x7000, 12, List.of()), new long[] {3, 0x7000, 64, 0, 0, 0}),
                "nothing watched");
    }
}
