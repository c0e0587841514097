package dev.deja.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which pages deja protects for watchpoints, with what, and which faults are its own (the mprotect calls recorded, not made). */
class WatchedPagesTest {
    private static final int NR_MPROTECT = 10;
    private static final String MAPS = """
            555555554000-555555555000 r--p 00000000 08:01 123 /prog
            555555555000-555555556000 r-xp 00001000 08:01 123 /prog
            555555558000-55555555a000 rw-p 00003000 08:01 123 /prog
            7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]
            """;

    private final List<String> calls = new ArrayList<>();

    private long mprotect(int nr, long... args) {
        assertEquals(NR_MPROTECT, nr);
        calls.add(Long.toHexString(args[0]) + "/" + args[1] + "/" + args[2]);
        return 0;
    }

    private static byte[] segv(int code, long address) {
        ByteBuffer b = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 11).putInt(8, code).putLong(16, address);
        return b.array();
    }

    @Test
    void protectionIsReadFromTheMapsLine() {
        assertEquals(1, WatchedPages.protectionAt(MAPS, 0x555555554000L));
        assertEquals(5, WatchedPages.protectionAt(MAPS, 0x555555555000L));
        assertEquals(3, WatchedPages.protectionAt(MAPS, 0x555555559000L));
        assertEquals(-1, WatchedPages.protectionAt(MAPS, 0x55555555a000L), "just past the end");
        assertEquals(-1, WatchedPages.protectionAt(MAPS, 0x1000L));
        assertEquals(-1, WatchedPages.protectionAt("", 0x1000L));
    }

    @Test
    void pagesOfARangeIncludeBothEnds() {
        assertEquals(List.of(0x1000L), WatchedPages.pagesOf(0x1ffc, 4));
        assertEquals(List.of(0x1000L, 0x2000L), WatchedPages.pagesOf(0x1ffc, 5));
        assertEquals(List.of(), WatchedPages.pagesOf(0x1000, 0));
        assertEquals(3, WatchedPages.pagesOf(0x1000, 0x2001).size());
    }

    @Test
    void aWritablePageBecomesReadOnlyOnceAndGetsItsProtectionBackWithItsLastWatch() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        w.watch(7, 0x555555558084L, 4, false, MAPS, this::mprotect);
        w.watch(7, 0x555555558090L, 8, false, MAPS, this::mprotect);
        assertEquals(List.of("555555558000/4096/1"), calls, "one mprotect for two watches in one page");
        assertTrue(w.any(7));
        assertFalse(w.any(8));
        w.unwatch(7, 0x555555558084L, 4, false, this::mprotect);
        assertEquals(1, calls.size(), "still watched by the second");
        w.unwatch(7, 0x555555558090L, 8, false, this::mprotect);
        assertEquals(List.of("555555558000/4096/1", "555555558000/4096/3"), calls);
        assertFalse(w.any(7));
    }

    @Test
    void aRangeAcrossTwoPagesProtectsBoth() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        w.watch(7, 0x555555558ffcL, 8, false, MAPS, this::mprotect);
        assertEquals(List.of("555555558000/4096/1", "555555559000/4096/1"), calls);
        assertTrue(w.overlaps(7, 0x555555559000L, 1));
        assertTrue(w.overlaps(7, 0x555555557fffL, 2));
        assertFalse(w.overlaps(7, 0x555555557000L, 0x1000));
        assertFalse(w.overlaps(7, 0x55555555a000L, 16));
    }

    @Test
    void aPageTheProgramCannotWriteIsNeverProtectedNorItsFaultsTaken() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        w.watch(7, 0x555555554010L, 4, false, MAPS, this::mprotect);
        assertEquals(List.of(), calls);
        assertEquals(-1, w.watchFault(7, segv(WatchedPages.SEGV_ACCERR, 0x555555554010L)), "the program's own fault");
        assertFalse(w.overlaps(7, 0x555555554010L, 4));
        w.unwatch(7, 0x555555554010L, 4, false, this::mprotect);
        assertEquals(List.of(), calls);
    }

    @Test
    void onlyAnAccessFaultInAWatchedPageOfThatProcessIsDejas() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        w.watch(7, 0x7fffffffe010L, 4, false, MAPS, this::mprotect);
        assertEquals(0x7fffffffe8f0L, w.watchFault(7, segv(WatchedPages.SEGV_ACCERR, 0x7fffffffe8f0L)), "anywhere in the page");
        assertEquals(-1, w.watchFault(7, segv(1 /* SEGV_MAPERR */, 0x7fffffffe010L)));
        assertEquals(-1, w.watchFault(7, segv(0x80 /* SI_KERNEL */, 0x7fffffffe010L)));
        assertEquals(-1, w.watchFault(7, segv(WatchedPages.SEGV_ACCERR, 0x7fffffffd010L)), "the next page down");
        assertEquals(-1, w.watchFault(8, segv(WatchedPages.SEGV_ACCERR, 0x7fffffffe010L)), "another process (a forked child)");
    }

    @Test
    void aReadWatchTakesAllAccessAndGivesBackOnlyWhatTheOtherWatchesNeed() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        w.watch(7, 0x555555558084L, 4, false, MAPS, this::mprotect);
        w.watch(7, 0x555555558090L, 4, true, MAPS, this::mprotect);
        assertEquals(List.of("555555558000/4096/1", "555555558000/4096/0"), calls);
        assertTrue(w.unreadable(7, 0x555555558000L));
        assertTrue(w.overlapsUnreadable(7, 0x555555558ff0L, 4));
        assertEquals(0x555555558010L, w.watchFault(7, segv(WatchedPages.SEGV_ACCERR, 0x555555558010L)));
        calls.clear();
        w.relaxForReads(7, 0x555555558000L, this::mprotect);
        w.relax(7, 0x555555558000L, this::mprotect);
        w.restrict(7, 0x555555558000L, this::mprotect);
        assertEquals(List.of("555555558000/4096/1", "555555558000/4096/3", "555555558000/4096/0"), calls);
        calls.clear();
        w.unwatch(7, 0x555555558090L, 4, true, this::mprotect);
        assertEquals(List.of("555555558000/4096/1"), calls, "the write watch still holds it: read-only again");
        assertFalse(w.unreadable(7, 0x555555558000L));
        w.unwatch(7, 0x555555558084L, 4, false, this::mprotect);
        assertEquals(List.of("555555558000/4096/1", "555555558000/4096/3"), calls);
    }

    @Test
    void aReadWatchOnAPageTheProgramOnlyReadsProtectsItButAStoreThereIsTheProgramsOwnFault() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        w.watch(7, 0x555555554010L, 4, true, MAPS, this::mprotect);
        assertEquals(List.of("555555554000/4096/0"), calls);
        assertEquals(0x555555554010L, w.watchFault(7, segv(WatchedPages.SEGV_ACCERR, 0x555555554010L)));
        assertFalse(w.programWrites(7, 0x555555554000L));
        assertFalse(w.programWrites(7, 0x555555558000L), "not watched at all");
        w.unwatch(7, 0x555555554010L, 4, true, this::mprotect);
        assertEquals(List.of("555555554000/4096/0", "555555554000/4096/1"), calls);
    }

    @Test
    void aStepRelaxesOnePageAndProtectsItAgain() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        w.watch(7, 0x555555558084L, 4, false, MAPS, this::mprotect);
        calls.clear();
        w.relax(7, 0x555555558000L, this::mprotect);
        w.restrict(7, 0x555555558000L, this::mprotect);
        assertEquals(List.of("555555558000/4096/3", "555555558000/4096/1"), calls);
        calls.clear();
        w.relax(7, 0x555555558000L, this::mprotect);
        w.unwatch(7, 0x555555558084L, 4, false, this::mprotect); // gdb deleted it meanwhile
        w.restrict(7, 0x555555558000L, this::mprotect);
        assertEquals(List.of("555555558000/4096/3", "555555558000/4096/3"), calls, "not protected again once unwatched");
    }

    @Test
    void aRealCallSeesTheProgramsProtectionsAndItsOwnMprotectOrMunmapIsKeptAfterIt() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        w.watch(7, 0x555555558084L, 4, false, MAPS, this::mprotect);
        w.watch(7, 0x7fffffffe010L, 4, false, MAPS, this::mprotect);
        calls.clear();
        w.relaxAll(7, this::mprotect);
        assertEquals(List.of("555555558000/4096/3", "7fffffffe000/4096/3"), calls);
        calls.clear();
        // The call was the program's mprotect(PROT_READ) of the data page; the stack page is as it was.
        String after = MAPS.replace("555555558000-55555555a000 rw-p", "555555558000-555555559000 r--p 00003000 08:01 123 /prog\n"
                + "555555559000-55555555a000 rw-p");
        w.restrictAll(7, after, this::mprotect);
        assertEquals(List.of("7fffffffe000/4096/1"), calls, "the read-only page is left to the program");
        assertEquals(-1, w.watchFault(7, segv(WatchedPages.SEGV_ACCERR, 0x555555558084L)), "its fault is the program's now");
        calls.clear();
        // Then the program unmaps the stack page (as munmap would): nothing to protect there any more.
        w.relaxAll(7, this::mprotect);
        calls.clear();
        w.restrictAll(7, after.lines().filter(l -> !l.contains("[stack]")).reduce("", (a, b) -> a + b + "\n"), this::mprotect);
        assertEquals(List.of(), calls);
        w.relaxAll(7, this::mprotect);
        assertEquals(List.of(), calls, "no unmapped page gets an mprotect");
    }

    @Test
    void aFailedMprotectIsAnErrorNamingThePage() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        DeviceException e = assertThrows(DeviceException.class, () -> w.watch(7, 0x555555558084L, 4, false, MAPS, (nr, args) -> -12));
        assertTrue(e.getMessage().contains("0x555555558000") && e.getMessage().contains("errno 12"), e.getMessage());
    }

    @Test
    void forgettingAProcessDropsItsPages() {
        WatchedPages w = new WatchedPages(NR_MPROTECT);
        w.watch(7, 0x555555558084L, 4, false, MAPS, this::mprotect);
        w.forget(7);
        assertFalse(w.any(7));
        assertFalse(w.overlaps(7, 0x555555558084L, 4));
    }
}
