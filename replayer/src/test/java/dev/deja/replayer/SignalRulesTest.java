package dev.deja.replayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deja.device.syscall.Arch;
import dev.deja.device.syscall.SyscallTable;
import dev.deja.formats.event.MemoryBlock;
import dev.deja.formats.event.SignalEvent;
import dev.deja.formats.event.SyscallEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replay's signal decisions, for recordings of format version 4 (kills answered from the recording) and
 * before (kills sent for real), on the events the recorder writes: a kill from one recorded process to another,
 * a timer's signal, a fault, a write's SIGPIPE, a kill from outside, and the wait statuses of job control.
 */
class SignalRulesTest {
    private static final SyscallTable TABLE = SyscallTable.of(Arch.X86_64);
    private static final int PARENT = 100;
    private static final int CHILD = 101;
    private static final int OUTSIDE = 4242;
    private static final SignalRules V4 = new SignalRules(TABLE, true, pid -> pid == PARENT || pid == CHILD);
    private static final SignalRules V3 = new SignalRules(TABLE, false, pid -> pid == PARENT || pid == CHILD);

    private static int nr(String name) {
        return TABLE.number(name).orElseThrow();
    }

    private static SyscallEvent call(String name, long result, List<MemoryBlock> outputs, long... args) {
        long[] six = new long[6];
        System.arraycopy(args, 0, six, 0, args.length);
        return new SyscallEvent(7, PARENT, PARENT, 1, 2, nr(name), six, List.of(), result, outputs, 0);
    }

    private static SyscallEvent call(String name, long result, long... args) {
        return call(name, result, List.of(), args);
    }

    private static final int SI_USER = 0;
    private static final int SI_TKILL = -6;
    private static final int SI_KERNEL = 0x80;
    private static final int SEGV_MAPERR = 1;

    private static SignalEvent signal(int signo, int code, int sender) {
        return new SignalEvent(8, CHILD, CHILD, 3, signo, code, sender, 0, new byte[128], true);
    }

    @Test
    void theSignalOfEachSenderIsItsArgument() {
        assertEquals(10, V4.signalArg(call("kill", 0, CHILD, 10)));
        assertEquals(12, V4.signalArg(call("tkill", 0, CHILD, 12)));
        assertEquals(15, V4.signalArg(call("tgkill", 0, CHILD, CHILD, 15)));
        assertEquals(34, V4.signalArg(call("rt_sigqueueinfo", 0, CHILD, 34, 0x7ffc0000L)));
        assertEquals(35, V4.signalArg(call("rt_tgsigqueueinfo", 0, CHILD, CHILD, 35, 0x7ffc0000L)));
        for (String n : List.of("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")) {
            assertTrue(V4.sendsSignal(nr(n)), n);
        }
        assertFalse(V4.sendsSignal(nr("write")));
        assertFalse(V4.sendsSignal(nr("pidfd_send_signal")), "pidfd_send_signal: answered from the recording as any call");
    }

    @Test
    void sinceVersion4OnlySigkillBetweenRecordedProcessesRunsForReal() {
        assertFalse(V4.sentForReal(call("kill", 0, CHILD, 10), true));
        assertFalse(V4.sentForReal(call("tgkill", 0, CHILD, CHILD, 19), true), "a stop: replay carries out none");
        assertFalse(V4.sentForReal(call("kill", 0, CHILD, 18), true), "SIGCONT");
        assertTrue(V4.sentForReal(call("kill", 0, CHILD, 9), true));
        assertTrue(V4.sentForReal(call("tgkill", 0, CHILD, CHILD, 9), true));
        assertFalse(V4.sentForReal(call("kill", 0, OUTSIDE, 9), false), "a process outside the replay: never touched");
        assertFalse(V4.sentForReal(call("kill", -3, CHILD, 9), true), "a kill that failed: its error is the answer");
        assertFalse(V4.sentForReal(call("write", 1, 1, 0, 1), true));
    }

    @Test
    void beforeVersion4EveryKillBetweenRecordedProcessesRanForReal() {
        for (int signo : new int[] {9, 10, 15, 18, 19}) {
            assertTrue(V3.sentForReal(call("kill", 0, CHILD, signo), true), "signal " + signo);
        }
        assertFalse(V3.sentForReal(call("kill", 0, OUTSIDE, 10), false));
        assertFalse(V3.sentForReal(call("kill", -1, CHILD, 10), true));
    }

    @Test
    void aSignalOneRecordedProcessSentIsInjectedSinceVersion4() {
        assertTrue(V4.injects(signal(10, SI_USER, PARENT), null));
        assertTrue(V4.injects(signal(10, SI_TKILL, CHILD), call("nanosleep", -4, 0x1000)));
        assertFalse(V4.injects(signal(9, SI_USER, PARENT), null), "SIGKILL is sent for real");
        assertFalse(V3.injects(signal(10, SI_USER, PARENT), null), "before 4: the live kill delivers it");
    }

    @Test
    void timersAndOutsideSendersAreInjectedFaultsAreNot() {
        for (SignalRules rules : List.of(V3, V4)) {
            assertTrue(rules.injects(signal(14, SI_KERNEL, 0), null), "an itimer's SIGALRM");
            assertTrue(rules.injects(signal(17, 1, CHILD), null), "SIGCHLD (CLD_EXITED): the kernel's, code > 0");
            assertTrue(rules.injects(signal(2, SI_USER, OUTSIDE), null), "a kill from outside the recording");
            assertFalse(rules.injects(signal(11, SEGV_MAPERR, 0), null), "a fault: the program makes it again");
            assertFalse(rules.injects(new SignalEvent(8, CHILD, CHILD, 3, 10, SI_USER, OUTSIDE, 0, new byte[128], false),
                    null), "not delivered (ignored, or consumed by sigtimedwait)");
        }
    }

    @Test
    void aWritesSigpipeIsInjectedAKillOfSigpipeFollowsItsSender() {
        SyscallEvent write = call("write", -32, 1, 0x1000, 5);
        SyscallEvent kill = call("kill", 0, PARENT, 13);
        // A write's EPIPE raises SIGPIPE from the writer itself (si_code SI_USER, its own pid).
        assertTrue(V3.injects(new SignalEvent(8, PARENT, PARENT, 3, 13, SI_USER, PARENT, 0, new byte[128], true), write));
        assertFalse(V3.injects(new SignalEvent(8, PARENT, PARENT, 3, 13, SI_USER, PARENT, 0, new byte[128], true), kill));
        assertTrue(V4.injects(new SignalEvent(8, PARENT, PARENT, 3, 13, SI_USER, PARENT, 0, new byte[128], true), kill));
    }

    @Test
    void stopsWithoutAHandlerAreDroppedAtDeliverySinceVersion4() {
        for (int stop : new int[] {19, 20, 21, 22}) {
            assertTrue(V4.dropsAtDelivery(stop, false), "signal " + stop);
            assertFalse(V4.dropsAtDelivery(stop, true), "caught: its handler runs");
            assertFalse(V3.dropsAtDelivery(stop, false));
        }
        for (int other : new int[] {1, 9, 10, 15, 17, 18}) assertFalse(V4.dropsAtDelivery(other, false), "signal " + other);
    }

    private static MemoryBlock status(int s) {
        return new MemoryBlock(1, 0x7ffc0000L, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(s).array());
    }

    private static MemoryBlock siginfo(int code, int pid) {
        ByteBuffer b = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 17).putInt(8, code).putInt(16, pid);
        return new MemoryBlock(2, 0x7ffc0000L, b.array());
    }

    @Test
    void aWait4ReapsTheChildItReportedEndedNotOneStoppedOrContinued() {
        assertEquals(CHILD, V4.reapedChild(call("wait4", CHILD, List.of(status(0x0300)), -1, 0x7ffc0000L, 0, 0)), "exited 3");
        assertEquals(CHILD, V4.reapedChild(call("wait4", CHILD, List.of(status(0x000f)), -1, 0x7ffc0000L, 0, 0)), "killed by 15");
        assertEquals(0, V4.reapedChild(call("wait4", CHILD, List.of(status(0x137f)), -1, 0x7ffc0000L, 2, 0)), "stopped by 19");
        assertEquals(0, V4.reapedChild(call("wait4", CHILD, List.of(status(0xffff)), -1, 0x7ffc0000L, 8, 0)), "continued");
        assertEquals(0, V4.reapedChild(call("wait4", 0, -1, 0x7ffc0000L, 1, 0)), "WNOHANG, none ready");
        assertEquals(0, V4.reapedChild(call("wait4", -10, -1, 0, 0, 0)), "ECHILD");
        assertEquals(0, V4.reapedChild(call("wait4", -4, -1, 0, 0, 0)), "EINTR");
        assertEquals(CHILD, V4.reapedChild(call("wait4", CHILD, -1, 0, 0, 0)), "no status asked for");
    }

    @Test
    void aWaitidReapsTheChildItsSiginfoNamesUnlessItStoppedOrContinued() {
        assertEquals(CHILD, V4.reapedChild(call("waitid", 0, List.of(siginfo(1, CHILD)), 0, 0, 0x7ffc0000L, 4)), "CLD_EXITED");
        assertEquals(CHILD, V4.reapedChild(call("waitid", 0, List.of(siginfo(2, CHILD)), 0, 0, 0x7ffc0000L, 4)), "CLD_KILLED");
        assertEquals(CHILD, V4.reapedChild(call("waitid", 0, List.of(siginfo(3, CHILD)), 0, 0, 0x7ffc0000L, 4)), "CLD_DUMPED");
        for (int code : new int[] {4, 5, 6}) {
            assertEquals(0, V4.reapedChild(call("waitid", 0, List.of(siginfo(code, CHILD)), 0, 0, 0x7ffc0000L, 6)), "code " + code);
        }
        assertEquals(0, V4.reapedChild(call("waitid", 0, List.of(siginfo(0, 0)), 0, 0, 0x7ffc0000L, 5)), "WNOHANG, none ready");
        assertEquals(0, V4.reapedChild(call("waitid", -10, 0, 0, 0x7ffc0000L, 4)), "ECHILD");
    }

    @Test
    void otherCallsReapNothing() {
        assertEquals(-1, V4.reapedChild(call("read", 5, 0, 0x1000, 5)));
    }

    @Test
    void jobControlStatusesAreStoppedAndContinued() {
        assertTrue(SignalRules.jobControlStatus(0x137f));
        assertTrue(SignalRules.jobControlStatus(0x057f), "a ptrace stop");
        assertTrue(SignalRules.jobControlStatus(0xffff));
        assertFalse(SignalRules.jobControlStatus(0));
        assertFalse(SignalRules.jobControlStatus(0x0100));
        assertFalse(SignalRules.jobControlStatus(0x0009));
        assertFalse(SignalRules.jobControlStatus(0x0089), "killed by 9, core dumped");
    }
}
