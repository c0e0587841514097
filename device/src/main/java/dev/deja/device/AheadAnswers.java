package dev.deja.device;

import dev.deja.device.ffm.Ptrace;
import dev.deja.device.ffm.Wait;
import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.Schemas;
import dev.deja.device.syscall.TraceeMemory;
import dev.deja.device.x86.AnswerStub;
import dev.deja.device.x86.GuardStub;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link AnswerStub}s in a replayed thread: the answers the tracer gave ahead for its next calls
 * ({@link Tracee#answerAhead}), put in at the exit stop of the call they follow and taken out at the
 * thread's next syscall stop, whichever call it is. Between the two the program runs without a stop,
 * its calls answered from the buffer at the syscall instructions patched: those where the process made
 * the same calls before (each call's wrapper in libc). Nothing of the stub outlives
 * the run: its page is unmapped and the code put back before the program makes any call deja does not
 * answer, so no mmap, fork or exec of the program ever sees it.
 */
final class AheadAnswers {
    /** x86_64 syscall numbers (the device is x86_64 only). */
    static final int NR_MMAP = 9;
    private static final int NR_MUNMAP = 11;
    private static final int PROT_RWX = 0x7;
    private static final int MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE = 0x02 | 0x20 | 0x100000;
    /** Syscall instructions one stretch patches at most (a page of code each, before the data page). */
    static final int MAX_SITES = 16;
    /** How far a site may be from the stubs' pages (rel32 reach, with room to spare). */
    private static final long REACH = 1L << 30;
    /** The numbers of the calls a stub may make for real ({@link AnswerStub#PERFORMABLE}), x86_64's. */
    static final java.util.Set<Integer> PERFORMABLE = AnswerStub.PERFORMABLE.stream()
            .map(n -> Schemas.of(Arch.X86_64).table().number(n).orElseThrow()).collect(java.util.stream.Collectors.toUnmodifiableSet());
    /** DEJA_NO_AHEAD=1: every answered call at its own stop (for comparisons). */
    static final boolean ENABLED = System.getenv("DEJA_NO_AHEAD") == null;

    /** One patched syscall instruction: its stub and the program's bytes the patch replaced. */
    private record Site(AnswerStub stub, byte[] original) {
    }

    /**
     * The function around a syscall instruction, read once per process ({@code text} null: no stub can go
     * there): a process's stretches patch the same wrappers again and again, and finding a function's
     * bounds reads its module's unwind tables.
     */
    record Function(long start, byte[] text, String refused) {
    }

    private final long region;
    private final long regionSize;
    private final long dataAddress;
    /** The answers in place: those given, up to the first whose call has no site a stub could go at. */
    final List<AnswerStub.Entry> entries;
    private final List<Site> sites;
    /** Entries already reported to the tracer as taken. */
    int reported;

    private AheadAnswers(long region, long regionSize, long dataAddress, List<AnswerStub.Entry> entries, List<Site> sites) {
        this.region = region;
        this.regionSize = regionSize;
        this.dataAddress = dataAddress;
        this.entries = entries;
        this.sites = sites;
    }

    /**
     * Puts the stubs in for thread {@code tid}, stopped at the exit of a call made at {@code site} (or at
     * any stop but a syscall entry) with {@code regs}, their pages mapped through {@code syscallInsn}: one for each
     * syscall instruction the calls of {@code entries} were made at in this process ({@code sitesByNr}), up to
     * the first call with none known, in reach, and where a patch fits. Null (with the reason under DEJA_DEBUG_MATCH) when not
     * one answer can go in. The thread's registers may be changed: one standing inside bytes patched goes
     * on from its stub's copy of them.
     */
    static AheadAnswers install(Ptrace ptrace, Wait wait, int tid, int pid, TraceeMemory memory,
                                InThreadGuard.CodeWriter code, long syscallInsn, long site, Map<Integer, List<Long>> sitesByNr,
                                Map<Long, Function> functions, StubMemo<AnswerStub> stubs, long[] regs, List<AnswerStub.Entry> entries,
                                long marker, boolean debug) {
        if (!sitesByNr.containsKey(entries.getFirst().nr())) return null; // not made here yet: nowhere to answer it
        String maps = InThreadGuard.maps(pid);
        long size = MAX_SITES * (long) AnswerStub.PAGE + AnswerStub.dataSize(entries);
        long region = InThreadGuard.freeSpaceNear(maps, site, size, mappedMeanwhile(entries));
        String why = region == 0 ? "no free space in reach" : null;
        List<Site> sites = new ArrayList<>();
        Map<Long, Boolean> tried = new HashMap<>();
        long data = region + MAX_SITES * (long) AnswerStub.PAGE;
        int taken = 0;
        for (; why == null && taken < entries.size(); taken++) {
            AnswerStub.Entry e = entries.get(taken);
            // the filter would stop it
            if (e.performed() && (marker == 0 || !(e.call() == null ? PERFORMABLE.contains(e.nr()) : e.nr() == NR_MMAP))) break;
            // Every syscall instruction the call was made at gets a stub; the answer needs one at least.
            boolean any = false;
            for (long at : sitesByNr.getOrDefault(entries.get(taken).nr(), List.of())) {
                Boolean ok = tried.get(at);
                if (ok == null) {
                    ok = sites.size() < MAX_SITES && Math.abs(at - region) < REACH && site(memory, maps, functions, stubs, at,
                            region + sites.size() * (long) AnswerStub.PAGE, data, sites, debug, tid);
                    tried.put(at, ok);
                }
                any |= ok;
            }
            if (!any) break;
        }
        if (why == null && taken == 0) why = "no site for the first answer";
        if (why == null) {
            long got = RemoteSyscall.through(ptrace, wait, tid, syscallInsn, NR_MMAP, region, size, PROT_RWX,
                    MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE, -1, 0);
            if (got != region) why = "mmap of its pages gave " + got;
        }
        if (why != null) {
            if (debug) System.err.println("deja: ahead tid " + tid + " no stub at 0x" + Long.toHexString(site) + ": " + why);
            return null;
        }
        List<AnswerStub.Entry> given = List.copyOf(entries.subList(0, taken));
        code.write(data, AnswerStub.data(data, given, marker));
        long rip = regs[X86Regs.RIP];
        long[] moved = null;
        for (Site s : sites) {
            AnswerStub stub = s.stub();
            code.write(stub.codeAddress(), stub.code());
            code.write(stub.patchAddress(), stub.patch());
            if (rip > stub.patchAddress() && rip < stub.patchAddress() + stub.patch().length) {
                // Back from the call inside bytes now patched: on from the stub's copy of the instructions after it.
                moved = regs.clone();
                moved[X86Regs.RIP] = stub.afterAddress();
            }
        }
        if (moved != null) ptrace.setRegs(tid, moved);
        if (debug) System.err.println("deja: ahead tid " + tid + " " + given.size() + " answers at " + sites.size() + " sites");
        return new AheadAnswers(region, size, data, given, sites);
    }

    /**
     * The ranges the program maps or unmaps by the calls of {@code entries} made in the stubs: the stubs' pages
     * must not be there (a fixed mapping would replace the code it runs).
     */
    static List<long[]> mappedMeanwhile(List<AnswerStub.Entry> entries) {
        List<long[]> ranges = new ArrayList<>();
        for (AnswerStub.Entry e : entries) {
            if (!e.performed()) continue;
            long[] a = e.call() != null ? e.call() : e.args();
            if (e.nr() == NR_MMAP || e.nr() == NR_MUNMAP) ranges.add(new long[] {a[0] & -4096L, (a[0] + a[1] + 4095) & -4096L});
        }
        return ranges;
    }

    /** Builds the stub for the syscall instruction at {@code at} into {@code sites}; false when none fits there. */
    private static boolean site(TraceeMemory memory, String maps, Map<Long, Function> functions, StubMemo<AnswerStub> stubs,
                                long at, long codeAddress, long data, List<Site> sites, boolean debug, int tid) {
        Function known = functions.get(at);
        if (known == null) {
            // Not there yet (a site another process of the program made its call at, in a library this one has
            // not loaded yet): not remembered as refused, the code may come
            byte[] insn = new byte[2];
            if (memory.read(at, insn, 0, 2) != 2 || insn[0] != 0x0f || insn[1] != 0x05) return false;
            known = function(memory, maps, at);
            functions.put(at, known);
        }
        Function f = known;
        String why = f.refused();
        if (why == null) {
            try {
                AnswerStub stub = stubs.get(f.text(), null, () -> AnswerStub.build(f.text(), f.start(), at, codeAddress, data),
                        f.start(), at, codeAddress, data);
                int from = (int) (stub.patchAddress() - f.start());
                byte[] original = Arrays.copyOfRange(f.text(), from, from + stub.patch().length);
                byte[] now = new byte[original.length];
                if (memory.read(stub.patchAddress(), now, 0, now.length) != now.length || !Arrays.equals(now, original)) {
                    functions.remove(at); // other code there since it was read (a library unloaded, another loaded)
                    return false;
                }
                sites.add(new Site(stub, original));
                return true;
            } catch (GuardStub.Refused r) {
                why = r.getMessage();
                functions.put(at, new Function(0, null, why)); // the same code refuses the same way
            }
        }
        if (debug) System.err.println("deja: ahead tid " + tid + " no stub at 0x" + Long.toHexString(at) + ": " + why);
        return false;
    }

    /** The function holding the syscall instruction at {@code at}, read from the process. */
    static Function function(TraceeMemory memory, String maps, long at) {
        byte[] insn = new byte[2];
        if (memory.read(at, insn, 0, 2) != 2 || insn[0] != 0x0f || insn[1] != 0x05) return new Function(0, null, "no syscall instruction");
        long module = InThreadGuard.moduleBase(maps, at);
        FunctionBounds.Range range = module == 0 ? null : FunctionBounds.of(memory, module, at);
        if (range == null) return new Function(0, null, "no function bounds");
        if (range.end() - range.start() > GuardStub.MAX_FUNCTION) return new Function(0, null, "the function is too large to check");
        byte[] text = new byte[(int) (range.end() - range.start())];
        if (memory.read(range.start(), text, 0, text.length) != text.length) {
            return new Function(0, null, "the function's code cannot be read");
        }
        return new Function(range.start(), text, null);
    }

    /** How many entries the thread has taken so far (the cursor in the data page); -1 when it cannot be read. */
    int taken(TraceeMemory memory) {
        byte[] word = new byte[8];
        if (memory.read(AnswerStub.cursorAddress(dataAddress), word, 0, 8) != 8) return -1;
        return AnswerStub.taken(dataAddress, ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getLong(), entries);
    }

    long region() {
        return region;
    }

    /**
     * A thread that faulted at {@code regs} in a stub's copy of outputs (the recorded bytes go where the
     * live program cannot write: the kernel would have failed the call): the registers that make the same
     * call at that stub's own syscall instruction, with its arguments, number and flags as they were, so
     * that deja meets it at a stop as any call it did not answer (and reports the difference there); null
     * when the fault is not a stub's.
     */
    long[] remakeFaultedCall(long[] regs, TraceeMemory memory) {
        long rip = regs[X86Regs.RIP];
        if (rip < region || rip >= region + MAX_SITES * (long) AnswerStub.PAGE) return null;
        int index = (int) ((rip - region) / AnswerStub.PAGE);
        if (index >= sites.size()) return null;
        byte[] words = new byte[AnswerStub.WORDS_READ];
        if (memory.read(dataAddress, words, 0, words.length) != words.length) return null;
        long entry = ByteBuffer.wrap(words).order(ByteOrder.LITTLE_ENDIAN).getLong(words.length - 8);
        byte[] nr = new byte[8];
        if (entry == 0 || memory.read(entry, nr, 0, 8) != 8) return null;
        long[] call = AnswerStub.callAfterFault(words, ByteBuffer.wrap(nr).order(ByteOrder.LITTLE_ENDIAN).getLong());
        if (call == null) return null;
        long[] out = regs.clone();
        for (int i = 0; i < 6; i++) out[X86Regs.ARGS[i]] = call[i];
        out[X86Regs.RAX] = call[6];
        out[X86Regs.EFLAGS] = regs[X86Regs.R11]; // the stub keeps the program's flags in r11 until it is done
        out[X86Regs.RIP] = sites.get(index).stub().realSyscall();
        return out;
    }

    /**
     * At a syscall entry stop (seccomp's) with registers {@code regs}: the registers that turn the thread's
     * own call into the munmap of the stubs' pages. The thread then goes on to that call's exit, and
     * {@link #reissuing} puts it back on the program's {@code syscall} instruction with its call, which deja
     * then sees as if for the first time.
     */
    long[] unmapping(long[] regs) {
        long[] unmap = regs.clone();
        unmap[X86Regs.ORIG_RAX] = NR_MUNMAP;
        unmap[X86Regs.RDI] = region;
        unmap[X86Regs.RSI] = regionSize;
        return unmap;
    }

    /** The registers {@code regs} of {@link #unmapping}'s entry stop, back on the program's syscall instruction to issue it again. */
    long[] reissuing(long[] regs) {
        long rip = regs[X86Regs.RIP];
        long at = rip - 2;
        for (Site s : sites) if (rip == s.stub().realSyscall() + 2) at = s.stub().syscallAddress();
        long[] back = regs.clone();
        back[X86Regs.RIP] = at;
        back[X86Regs.RAX] = regs[X86Regs.ORIG_RAX];
        back[X86Regs.ORIG_RAX] = -1;
        return back;
    }

    /** The program's code back (unless it rewrote those bytes meanwhile). */
    void putCodeBack(TraceeMemory memory, InThreadGuard.CodeWriter code) {
        for (Site s : sites) {
            byte[] now = new byte[s.original().length];
            AnswerStub stub = s.stub();
            if (memory.read(stub.patchAddress(), now, 0, now.length) != now.length || Arrays.equals(now, stub.patch())) {
                code.write(stub.patchAddress(), s.original());
            }
        }
    }
}
