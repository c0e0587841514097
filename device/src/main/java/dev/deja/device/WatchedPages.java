package dev.deja.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Watchpoints without debug registers (mprotect(2), sigaction(2) for SEGV_ACCERR): the pages a
 * debugger watches for writes are made read-only in the traced process, so that a store into one of
 * them faults; the pages it watches for reads (or any access) get no access at all, so that a load
 * faults too. The device catches that SIGSEGV (the program never sees it), gives the page its
 * protection back, single-steps the instruction and protects the page again; the debugger then
 * compares the watched bytes, or the faulting address. A fault in a page without access is stepped
 * with the page readable but not writable first: a store faults a second time, which tells a write
 * from a read (the fault's error code never reaches a tracer). Several watched ranges share a page by
 * reference count.
 *
 * <p>The program's own protection of each page is kept, so that what it asked for is what it has:
 * around every call the replay lets run for real the pages get it back (the kernel would fail such a
 * call with EFAULT where it writes into them, and a forked child inherits the program's protections,
 * not deja's), and after such a call the protections are read again from /proc/PID/maps (the call
 * may have been the program's own mprotect, munmap or mmap of a watched page).
 */
final class WatchedPages {
    static final long PAGE = 4096;
    static final int PROT_NONE = 0;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    /** si_code of a SIGSEGV raised by an access the page's protection forbids. */
    static final int SEGV_ACCERR = 2;

    /** Makes the thread concerned execute a syscall now; the raw result (negative errno). */
    @FunctionalInterface
    interface Injector {
        long call(int nr, long... args);
    }

    /**
     * A watched page: how many watched ranges touch it, how many of those watch reads as well, and the
     * protection the program gave it (-1: unmapped).
     */
    private record Page(int refs, int readRefs, int programProt) {
        /** Whether deja protects it: the program can do there what a watch must see. */
        boolean protectable() {
            if (programProt < 0) return false;
            return readRefs > 0 ? (programProt & (PROT_READ | PROT_WRITE)) != 0 : (programProt & PROT_WRITE) != 0;
        }

        /** The protection deja gives it while it is watched. */
        int watchedProt() {
            return readRefs > 0 ? PROT_NONE : programProt & ~PROT_WRITE;
        }

        Page with(int refsDelta, int readRefsDelta) {
            return new Page(refs + refsDelta, Math.max(0, readRefs + readRefsDelta), programProt);
        }
    }

    private final int nrMprotect;
    private final Map<Integer, TreeMap<Long, Page>> byPid = new HashMap<>();

    WatchedPages(int nrMprotect) {
        this.nrMprotect = nrMprotect;
    }

    boolean any(int pid) {
        TreeMap<Long, Page> pages = byPid.get(pid);
        return pages != null && !pages.isEmpty();
    }

    /** The process is gone or ran exec: its pages went with its memory. */
    void forget(int pid) {
        byPid.remove(pid);
    }

    /**
     * Watches the pages of {@code [address, address+length)} for stores ({@code reads} false: each page
     * the program can write becomes read-only) or for any access ({@code reads} true: each page the
     * program can read or write loses all access). {@code maps} is the process's /proc/PID/maps.
     */
    void watch(int pid, long address, long length, boolean reads, String maps, Injector inject) {
        TreeMap<Long, Page> pages = byPid.computeIfAbsent(pid, p -> new TreeMap<>());
        for (long page : pagesOf(address, length)) {
            Page old = pages.get(page);
            Page now = old != null ? old.with(1, reads ? 1 : 0) : new Page(1, reads ? 1 : 0, protectionAt(maps, page));
            pages.put(page, now);
            reprotect(pid, page, old, now, inject);
        }
    }

    /**
     * Stops watching {@code [address, address+length)} as {@link #watch} began it: pages no watched range
     * holds any more get the program's protection back, pages no read watch holds any more become readable.
     */
    void unwatch(int pid, long address, long length, boolean reads, Injector inject) {
        TreeMap<Long, Page> pages = byPid.get(pid);
        if (pages == null) return;
        for (long page : pagesOf(address, length)) {
            Page old = pages.get(page);
            if (old == null) continue;
            Page now = old.with(-1, reads ? -1 : 0);
            if (now.refs == 0) pages.remove(page);
            else pages.put(page, now);
            reprotect(pid, page, old, now.refs == 0 ? null : now, inject);
        }
    }

    /** Gives a page the protection its new watch state asks for ({@code now} null: no longer watched), when that changed. */
    private void reprotect(int pid, long page, Page old, Page now, Injector inject) {
        int before = old != null && old.protectable() ? old.watchedProt() : -1;
        int after = now != null && now.protectable() ? now.watchedProt() : -1;
        if (before == after) return;
        Page known = now != null ? now : old;
        mprotect(pid, page, after >= 0 ? after : known.programProt, inject);
    }

    /**
     * Whether a SIGSEGV with this siginfo is an access deja's protection forbade (SEGV_ACCERR at a
     * watched page deja protected); returns the faulting address, or -1 when the signal is the
     * program's own.
     */
    long watchFault(int pid, byte[] siginfo) {
        ByteBuffer b = ByteBuffer.wrap(siginfo).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(8) != SEGV_ACCERR) return -1;
        long address = b.getLong(16);
        TreeMap<Long, Page> pages = byPid.get(pid);
        Page p = pages == null ? null : pages.get(address & -PAGE);
        return p != null && p.protectable() ? address : -1;
    }

    /** Whether a watched page of the process has no access at all (a read or access watch holds it). */
    boolean unreadable(int pid, long page) {
        TreeMap<Long, Page> pages = byPid.get(pid);
        Page p = pages == null ? null : pages.get(page);
        return p != null && p.protectable() && p.readRefs > 0;
    }

    /** Whether the program itself may store into a watched page (else a store there is its own fault). */
    boolean programWrites(int pid, long page) {
        TreeMap<Long, Page> pages = byPid.get(pid);
        Page p = pages == null ? null : pages.get(page);
        return p != null && p.programProt >= 0 && (p.programProt & PROT_WRITE) != 0;
    }

    /** Gives one watched page the program's protection back for a moment (the step over a store). */
    void relax(int pid, long page, Injector inject) {
        Page p = byPid.get(pid).get(page);
        mprotect(pid, page, p.programProt, inject);
    }

    /** Lets the program read, but not write, a page without access for a moment (the first step over a load or a store). */
    void relaxForReads(int pid, long page, Injector inject) {
        Page p = byPid.get(pid).get(page);
        mprotect(pid, page, p.programProt & ~PROT_WRITE, inject);
    }

    /** Protects a page relaxed by {@link #relax} again, if it is still watched. */
    void restrict(int pid, long page, Injector inject) {
        TreeMap<Long, Page> pages = byPid.get(pid);
        Page p = pages == null ? null : pages.get(page);
        if (p != null && p.protectable()) mprotect(pid, page, p.watchedProt(), inject);
    }

    /** Before a call that runs for real: every watched page of the process gets the program's protection back. */
    void relaxAll(int pid, Injector inject) {
        TreeMap<Long, Page> pages = byPid.get(pid);
        if (pages == null) return;
        for (Map.Entry<Long, Page> e : pages.entrySet()) {
            if (e.getValue().protectable()) mprotect(pid, e.getKey(), e.getValue().programProt, inject);
        }
    }

    /**
     * After a call that ran for real with the pages relaxed: each page now has the protection the
     * program gave it ({@code maps}, read after the call: its own mprotect or mmap counts, an unmapped
     * page is no longer protected), and the writable ones are protected again.
     */
    void restrictAll(int pid, String maps, Injector inject) {
        TreeMap<Long, Page> pages = byPid.get(pid);
        if (pages == null) return;
        for (Map.Entry<Long, Page> e : pages.entrySet()) {
            Page now = new Page(e.getValue().refs, e.getValue().readRefs, protectionAt(maps, e.getKey()));
            e.setValue(now);
            if (now.protectable()) mprotect(pid, e.getKey(), now.watchedProt(), inject);
        }
    }

    /** Whether {@code [address, address+length)} touches a page deja protected (read-only, or without access). */
    boolean overlaps(int pid, long address, long length) {
        return touches(pid, address, length, false);
    }

    /** Whether {@code [address, address+length)} touches a page deja made inaccessible for a read or access watch. */
    boolean overlapsUnreadable(int pid, long address, long length) {
        return touches(pid, address, length, true);
    }

    private boolean touches(int pid, long address, long length, boolean unreadableOnly) {
        TreeMap<Long, Page> pages = byPid.get(pid);
        if (pages == null || length <= 0) return false;
        for (Map.Entry<Long, Page> e : pages.subMap(address & -PAGE, true, address + length - 1, true).entrySet()) {
            Page p = e.getValue();
            if (p.protectable() && (!unreadableOnly || p.readRefs > 0)) return true;
        }
        return false;
    }

    private void mprotect(int pid, long page, int prot, Injector inject) {
        long r = inject.call(nrMprotect, page, PAGE, prot);
        if (r != 0) {
            throw new DeviceException("cannot change the protection of the watched page 0x" + Long.toHexString(page)
                    + " in pid " + pid + " (mprotect: errno " + -r + ")");
        }
    }

    /** The page-aligned addresses of the pages {@code [address, address+length)} touches. */
    static List<Long> pagesOf(long address, long length) {
        List<Long> out = new ArrayList<>();
        if (length <= 0) return out;
        for (long p = address & -PAGE; p < address + length; p += PAGE) out.add(p);
        return out;
    }

    /** The protection (PROT_READ 1 | PROT_WRITE 2 | PROT_EXEC 4) of the mapping holding {@code page} in a maps text, or -1. */
    static int protectionAt(String maps, long page) {
        for (String line : maps.lines().toList()) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash < 0 || space < dash || line.length() < space + 4) continue;
            long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
            long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
            if (Long.compareUnsigned(page, start) < 0 || Long.compareUnsigned(page, end) >= 0) continue;
            int prot = 0;
            if (line.charAt(space + 1) == 'r') prot |= 1;
            if (line.charAt(space + 2) == 'w') prot |= PROT_WRITE;
            if (line.charAt(space + 3) == 'x') prot |= 4;
            return prot;
        }
        return -1;
    }
}
