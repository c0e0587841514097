package dev.deja.device;

import dev.deja.device.ffm.Ptrace;
import dev.deja.device.ffm.Wait;
import dev.deja.device.syscall.TraceeMemory;
import dev.deja.device.x86.AnswerStub;
import dev.deja.device.x86.GuardStub;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * An {@link AnswerStub} in a replayed thread: the answers the tracer gave ahead for its next calls
 * ({@link Tracee#answerAhead}), put in at the exit stop of the call they follow and taken out at the
 * thread's next syscall stop, whichever call it is. Between the two the program runs without a stop,
 * its calls at the one patched {@code syscall} answered from the buffer. Nothing of the stub outlives
 * the run: its page is unmapped and the code put back before the program makes any call deja does not
 * answer, so no mmap, fork or exec of the program ever sees it.
 */
final class AheadAnswers {
    /** x86_64 syscall numbers (the device is x86_64 only). */
    private static final int NR_MMAP = 9;
    private static final int NR_MUNMAP = 11;
    private static final int PROT_RWX = 0x7;
    private static final int MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE = 0x02 | 0x20 | 0x100000;
    /** DEJA_NO_AHEAD=1: every answered call at its own stop (for comparisons). */
    static final boolean ENABLED = System.getenv("DEJA_NO_AHEAD") == null;

    final AnswerStub stub;
    final List<AnswerStub.Entry> entries;
    private final byte[] original;
    /** Entries already reported to the tracer as taken. */
    int reported;

    private AheadAnswers(AnswerStub stub, List<AnswerStub.Entry> entries, byte[] original) {
        this.stub = stub;
        this.entries = entries;
        this.original = original;
    }

    long size() {
        int bytes = 0;
        for (AnswerStub.Entry e : entries) bytes += e.size();
        return AnswerStub.size(bytes);
    }

    /**
     * Puts the stub in for the {@code syscall} instruction at {@code site} in thread {@code tid}, stopped
     * at an exit (or any stop but a syscall entry) with {@code regs}; null (with the reason under
     * DEJA_DEBUG_MATCH) when no patch fits there or no page is free in reach. The thread's registers may
     * be changed: one standing inside the bytes patched goes on from the stub's copy of them.
     */
    static AheadAnswers install(Ptrace ptrace, Wait wait, int tid, int pid, TraceeMemory memory,
                                InThreadGuard.CodeWriter code, long site, long[] regs, List<AnswerStub.Entry> entries,
                                boolean debug) {
        String maps = InThreadGuard.maps(pid);
        long syscallInsn = InThreadGuard.syscallInstruction(maps, memory);
        long module = InThreadGuard.moduleBase(maps, site);
        FunctionBounds.Range function = module == 0 ? null : FunctionBounds.of(memory, module, site);
        String why = null;
        AnswerStub stub = null;
        byte[] original = null;
        int bytes = 0;
        for (AnswerStub.Entry e : entries) bytes += e.size();
        long size = AnswerStub.size(bytes);
        long page = InThreadGuard.freeSpaceNear(maps, site, size);
        if (syscallInsn == 0) why = "no syscall instruction in the vDSO";
        else if (function == null) why = "no function bounds at the call";
        else if (function.end() - function.start() > GuardStub.MAX_FUNCTION) why = "the function is too large to check";
        else if (page == 0) why = "no free space in reach";
        if (why == null) {
            byte[] text = new byte[(int) (function.end() - function.start())];
            if (memory.read(function.start(), text, 0, text.length) != text.length) {
                why = "the function's code cannot be read";
            } else {
                try {
                    stub = AnswerStub.build(text, function.start(), site, page, entries);
                    int from = (int) (stub.patchAddress() - function.start());
                    original = Arrays.copyOfRange(text, from, from + stub.patch().length);
                } catch (GuardStub.Refused r) {
                    why = r.getMessage();
                }
            }
        }
        if (why == null) {
            long got = RemoteSyscall.through(ptrace, wait, tid, syscallInsn, NR_MMAP, page, size, PROT_RWX,
                    MAP_PRIVATE_ANONYMOUS_FIXED_NOREPLACE, -1, 0);
            if (got != page) why = "mmap of its pages gave " + got;
        }
        if (why != null) {
            if (debug) System.err.println("deja: ahead tid " + tid + " no stub at 0x" + Long.toHexString(site) + ": " + why);
            return null;
        }
        code.write(page, stub.code());
        code.write(stub.patchAddress(), stub.patch());
        long rip = regs[X86Regs.RIP];
        if (rip > stub.patchAddress() && rip < stub.patchAddress() + stub.patch().length) {
            // Back from the call inside the bytes now patched: on from the stub's copy of the instructions after it.
            long[] moved = regs.clone();
            moved[X86Regs.RIP] = stub.afterAddress();
            ptrace.setRegs(tid, moved);
        }
        return new AheadAnswers(stub, entries, original);
    }

    /** How many entries the thread has taken so far (the cursor in its data page); -1 when it cannot be read. */
    int taken(TraceeMemory memory) {
        byte[] word = new byte[8];
        if (memory.read(stub.cursorAddress(), word, 0, 8) != 8) return -1;
        return stub.taken(ByteBuffer.wrap(word).order(ByteOrder.LITTLE_ENDIAN).getLong(), entries);
    }

    /**
     * At a syscall entry stop (seccomp's) with registers {@code regs}: the registers that turn the thread's
     * own call into the munmap of the stub's pages. The thread then goes on to that call's exit, and
     * {@link #reissuing} puts it back on the program's {@code syscall} instruction with its call, which deja
     * then sees as if for the first time.
     */
    long[] unmapping(long[] regs) {
        long[] unmap = regs.clone();
        unmap[X86Regs.ORIG_RAX] = NR_MUNMAP;
        unmap[X86Regs.RDI] = stub.stubAddress();
        unmap[X86Regs.RSI] = size();
        return unmap;
    }

    /** The registers {@code regs} of {@link #unmapping}'s entry stop, back on the program's syscall instruction to issue it again. */
    long[] reissuing(long[] regs) {
        long rip = regs[X86Regs.RIP];
        long[] back = regs.clone();
        back[X86Regs.RIP] = rip == stub.realSyscall() + 2 ? stub.syscallAddress() : rip - 2;
        back[X86Regs.RAX] = regs[X86Regs.ORIG_RAX];
        back[X86Regs.ORIG_RAX] = -1;
        return back;
    }

    /** The program's code back (unless it rewrote those bytes meanwhile). */
    void putCodeBack(TraceeMemory memory, InThreadGuard.CodeWriter code) {
        byte[] now = new byte[original.length];
        if (memory.read(stub.patchAddress(), now, 0, now.length) != now.length || Arrays.equals(now, stub.patch())) {
            code.write(stub.patchAddress(), original);
        }
    }
}
