package dev.deja.device;

/**
 * A debugger driving a traced run (deja's gdb server): the device stops a thread for it at the
 * program's first instruction, at the software breakpoints it inserted ({@link Tracee#insertBreakpoint})
 * and after each single step, and asks how the thread goes on. Called on the tracing thread with the
 * thread stopped; an implementation blocks there while it inspects the thread through {@link Tracee}
 * (ptrace requests must come from this thread). A tracer offers one through {@link Tracer#debugAgent()}.
 */
public interface DebugAgent {

    /** Why a thread stopped for the debugger. */
    sealed interface Stop {
    }

    /** The program's first instruction after its execve (the dynamic loader's entry, for a dynamic program). */
    record Start() implements Stop {
    }

    /** An int3 the debugger inserted was hit; the instruction pointer is back at {@code address}. */
    record Breakpoint(long address) implements Stop {
    }

    /** A single step completed (one instruction; a {@code syscall} instruction with its replayed call). */
    record Stepped() implements Stop {
    }

    /**
     * An access into a page the debugger watches ({@link Tracee#watchMemory}) has run: a store, or with a
     * watch for reads any load too. The thread is after the instruction (as after a hardware watchpoint),
     * {@code address} the first byte it touched in a watched page (not necessarily inside a watched range:
     * the page is the unit). The debugger compares the bytes it watches, or the address with the ranges it
     * watches for reads. {@code storePc}: the instruction's address (going back stops before it).
     * {@code stepEnded}: the debugger's own single step ended with this instruction. {@code wrote}: it
     * stored into a watched page (false: it only loaded from one).
     */
    record Stored(long address, long storePc, boolean stepEnded, boolean wrote) implements Stop {
    }

    /** How the stopped thread goes on. */
    enum Resume {
        /** Run until the next breakpoint, step, or the end. */
        CONTINUE,
        /** Execute one instruction (a {@code syscall} instruction's call is answered as the run answers it). */
        STEP
    }

    /** {@code thread} stopped for {@code why}; returns when the debugger lets it go on, and how. */
    Resume stopped(Stop why, Tracee thread);
}
