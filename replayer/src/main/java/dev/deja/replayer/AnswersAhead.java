package dev.deja.replayer;

import dev.deja.device.syscall.ArgKind;
import dev.deja.device.syscall.Errno;
import dev.deja.device.syscall.Schema;
import dev.deja.device.syscall.Schemas;
import dev.deja.device.x86.AnswerStub;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SyscallEvent;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which of a thread's next recorded calls a replay may answer ahead, in the thread, without a stop
 * ({@link dev.deja.device.Tracee#answerAhead}), and their answers. Only calls whose replay is all in the
 * answer: skipped, on the process alone, their inputs and outputs at their pointer
 * arguments (the stub compares the number, the scalar arguments and the input bytes, as the replay's
 * check does, a string with its NUL), no restart, not blocking. Each of them then happens exactly as at
 * a stop: the same comparison, the same bytes written, the same result.
 */
final class AnswersAhead {
    /**
     * Calls answered ahead: results and outputs from the recording, and what replay keeps track of for
     * them (a descriptor opened, duplicated or closed, a write to the terminal printed: {@link ReplayTracer}'s
     * effects) done when deja hears they were taken, with their steps. (A write in a stretch that goes ahead of
     * other processes is left to its stop: its output would come before theirs.)
     */
    static final List<String> CALLS = List.of("getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
            "getpgrp", "getpgid", "getsid", "getresuid", "getresgid", "uname", "sysinfo", "times", "getrusage",
            "clock_gettime", "clock_getres", "gettimeofday", "time", "getrandom", "fstat", "lseek", "read", "pread64",
            "getdents64", "getcwd", "fstatfs", "sched_getaffinity", "getpriority", "sched_yield", "newfstatat", "statx",
            "stat", "lstat", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "statfs", "open", "openat",
            "close", "fcntl", "fchdir", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
            "write", "pwrite64", "getrlimit");
    /** prlimit64 is answered ahead as a query only: with no new limit (one is set for real, at a stop). */
    private static final String PRLIMIT = "prlimit64";
    /** Recorded time a stretch may span at most: replay's progress limit counts from its start. */
    static final long MAX_SPAN_NS = 2_000_000_000L;
    /** Fewer than this many is not worth a stub (its mapping and removal cost about five stops). */
    static final int MIN = 16;
    /** A stretch the thread took fewer answers of than this cost more than it saved. */
    static final int WORTH = 8;
    static final int MAX = 8192;
    /** Answers given at first: the next stretch gives four times as many when a thread takes them all. */
    static final int FIRST = 64;
    static final int MAX_BYTES = 1 << 20;

    private final Schemas schemas;
    private final Set<Integer> calls = new HashSet<>();
    private final Set<Integer> performed = new HashSet<>();
    private final int prlimit;

    AnswersAhead(Schemas schemas) {
        this.schemas = schemas;
        for (String n : CALLS) schemas.table().number(n).ifPresent(calls::add);
        prlimit = schemas.table().number(PRLIMIT).orElse(-1);
        // Real calls that act on the process alone, made in the stub: their result must be the recorded one, as at a stop
        for (String n : AnswerStub.PERFORMABLE) schemas.table().number(n).ifPresent(performed::add);
    }

    /** Whether recorded call {@code e}'s kind is made for real in a stub when answered ahead. */
    boolean performed(SyscallEvent e) {
        return performed.contains(e.nr());
    }

    /** The answer to recorded call {@code e}, or null when it cannot be answered ahead. */
    AnswerStub.Entry entry(SyscallEvent e) {
        boolean real = performed.contains(e.nr());
        boolean query = e.nr() == prlimit && e.arg(2) == 0;
        if (!calls.contains(e.nr()) && !real && !query || !e.returned() || Errno.restartResult(e.result())) return null;
        // Made for real only as replay makes it at a stop: not when the recording device answered it itself
        if (real && (e.flags() & SyscallEvent.SKIPPED) != 0) return null;
        if ((e.flags() & (SyscallEvent.UNKNOWN_WRITES | SyscallEvent.REWRITTEN)) != 0) return null;
        Schema s = schemas.schema(e.nr()).orElse(null);
        if (s == null) return null;
        int compared = compared(s);
        if (query) compared |= 1 << 2; // its new limit's pointer null, as recorded: a call that sets one is not this answer
        List<AnswerStub.Block> inputs = new ArrayList<>();
        for (MemoryBlock b : e.inputs()) {
            if (b.arg() < 0 || b.arg() >= s.argCount() || b.length() == 0) return null;
            ArgKind k = s.arg(b.arg()).kind();
            // a string cut short (no NUL: longer than deja reads) would match any longer one
            if ((k == ArgKind.PATH || k == ArgKind.STR) && b.data()[b.length() - 1] != 0) return null;
            inputs.add(new AnswerStub.Block(b.arg(), b.address() - e.arg(b.arg()), b.data()));
        }
        List<AnswerStub.Block> outputs = new ArrayList<>();
        for (MemoryBlock b : e.outputs()) {
            if (b.arg() < 0 || b.arg() >= 6) return null;
            outputs.add(new AnswerStub.Block(b.arg(), b.address() - e.arg(b.arg()), b.data()));
        }
        return new AnswerStub.Entry(e.nr(), e.args(), compared, inputs, e.result(), outputs, real);
    }

    /**
     * The answer to recorded mmap {@code e}, which replay makes as {@code call} (at the recorded address; of
     * the recorded copy's descriptor, or anonymous: {@link AnswerStub.Entry#call}), made in the
     * stub; a failed one (no {@code call}) answered with its recorded result, as at a stop. Null when it cannot
     * be answered ahead.
     */
    AnswerStub.Entry mapping(SyscallEvent e, long[] call) {
        if (!e.returned() || Errno.restartResult(e.result()) || e.failed() != (call == null)) return null;
        if ((e.flags() & (SyscallEvent.UNKNOWN_WRITES | SyscallEvent.REWRITTEN)) != 0 || !e.inputs().isEmpty()) return null;
        Schema s = schemas.schema(e.nr()).orElse(null);
        if (s == null) return null;
        return new AnswerStub.Entry(e.nr(), e.args(), compared(s), List.of(), e.result(), List.of(), call != null, call);
    }

    /** The arguments a stub compares, as the replay's check at a stop does: the scalars, not the pointers. */
    private static int compared(Schema s) {
        int compared = 0;
        for (int i = 0; i < s.argCount() && i < 6; i++) {
            ArgKind k = s.arg(i).kind();
            if (!k.memory() && k != ArgKind.PTR) compared |= 1 << i;
        }
        return compared;
    }
}
