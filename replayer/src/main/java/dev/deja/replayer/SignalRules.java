package dev.deja.replayer;

import dev.deja.device.ffm.Signals;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * What replay does with the recorded signals and the calls that send or report them, decided from the
 * recorded events alone: which signal deja sends itself where the recording saw it land, which kill runs
 * for real, which stop is dropped at delivery, which child a wait reported. Pure: {@link ReplayTracer}
 * carries the decisions out.
 *
 * <p>The rules changed with format version 4 ({@link dev.deja.formats.RecordingFormat#KILLS_FROM_RECORDING_VERSION}):
 * from it on, a kill between recorded processes is answered from the recording and its signal injected where it
 * landed (SIGKILL apart); before, every such kill ran for real.
 */
final class SignalRules {
    private static final int SIGPIPE = 13;
    private static final int CLD_TRAPPED = 4;
    private static final int CLD_STOPPED = 5;
    private static final int CLD_CONTINUED = 6;

    private final boolean killsFromRecording;
    private final IntPredicate recordedProcess;
    private final SyscallTable table;
    private final Set<Integer> senders = new HashSet<>();
    private final int nrWait4;
    private final int nrWaitid;

    /**
     * @param killsFromRecording whether the recording is of format version 4 or later
     * @param recordedProcess    whether a recorded pid is one of the recording's processes
     */
    SignalRules(SyscallTable table, boolean killsFromRecording, IntPredicate recordedProcess) {
        this.table = table;
        this.killsFromRecording = killsFromRecording;
        this.recordedProcess = recordedProcess;
        for (String n : List.of("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")) {
            table.number(n).ifPresent(senders::add);
        }
        nrWait4 = table.number("wait4").orElse(-2);
        nrWaitid = table.number("waitid").orElse(-2);
    }

    /** Whether call number {@code nr} sends a signal to a process or thread it names. */
    boolean sendsSignal(int nr) {
        return senders.contains(nr);
    }

    /** The signal number a recorded kill, tkill, tgkill, rt_sigqueueinfo or rt_tgsigqueueinfo sent. */
    int signalArg(SyscallEvent r) {
        String name = table.name(r.nr());
        return (int) r.arg(name.equals("tgkill") || name.equals("rt_tgsigqueueinfo") ? 2 : 1);
    }

    /**
     * Whether recorded kill {@code r}, which named a process the replay has live ({@code receiverLive}), runs for
     * real between the live processes: SIGKILL (it has no delivery the recording could place), or any kill of a
     * recording older than format version 4. A failed kill never does: its answer is the recording's.
     */
    boolean sentForReal(SyscallEvent r, boolean receiverLive) {
        return sendsSignal(r.nr()) && !r.failed() && receiverLive
                && (!killsFromRecording || Signals.sentForRealOnReplay(signalArg(r)));
    }

    /**
     * Whether deja sends recorded signal {@code s} itself: not a fault the program makes again, and not a signal
     * one of the recorded processes sent with a kill that replay runs for real. {@code before} is the call the
     * signal followed (null at a recorded point in the thread's own code): a write's EPIPE raises SIGPIPE from
     * the writer itself, which a skipped write does not, so deja sends that one.
     */
    boolean injects(SignalEvent s, SyscallEvent before) {
        if (!s.delivered()) return false;
        if (Signals.raisedByFault(s.signo(), s.code())) return false;
        boolean userSent = s.code() <= 0 && recordedProcess.test(s.senderPid());
        if (userSent && killsFromRecording) return !Signals.sentForRealOnReplay(s.signo());
        if (userSent && s.signo() == SIGPIPE && before != null && !sendsSignal(before.nr())) return true;
        return !userSent;
    }

    /**
     * Whether signal {@code signo} is dropped at its delivery: replay carries out no job-control stop (a stop
     * signal without a handler of the program's), where the recorded order already keeps the process from
     * running. Recordings before format version 4 sent stops for real.
     */
    boolean dropsAtDelivery(int signo, boolean caught) {
        return killsFromRecording && Signals.isStopSignal(signo) && !caught;
    }

    /**
     * The recorded pid of the child wait4 or waitid {@code r} reaped, or 0 when it reaped none: nothing ready
     * under WNOHANG, an error, a signal that ended the wait, or a child it found stopped or continued (answered
     * from the recording: replay stops no process for real). -1 for any other call.
     */
    int reapedChild(SyscallEvent r) {
        if (r.nr() != nrWait4 && r.nr() != nrWaitid) return -1;
        if (r.failed()) return 0;
        if (r.nr() == nrWait4) {
            for (MemoryBlock b : r.outputs()) {
                if (b.arg() == 1 && b.length() >= 4 && jobControlStatus(b.view().order(ByteOrder.LITTLE_ENDIAN).getInt(0))) {
                    return 0;
                }
            }
            return (int) r.result();
        }
        for (MemoryBlock b : r.outputs()) {
            // siginfo_t: si_signo, si_errno, si_code, then (after padding) si_pid at offset 16.
            if (b.arg() == 2 && b.length() >= 20) {
                int code = b.view().order(ByteOrder.LITTLE_ENDIAN).getInt(8);
                if (code == CLD_TRAPPED || code == CLD_STOPPED || code == CLD_CONTINUED) return 0;
                return b.view().order(ByteOrder.LITTLE_ENDIAN).getInt(16);
            }
        }
        return 0;
    }

    /** Whether a wait status says stopped (WIFSTOPPED) or continued (WIFCONTINUED) rather than ended. */
    static boolean jobControlStatus(int status) {
        return (status & 0xff) == 0x7f || status == 0xffff;
    }
}
