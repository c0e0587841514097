package dev.deja.formats.event;

import java.util.Arrays;

/**
 * A signal about to be delivered to a thread (a signal-delivery stop).
 *
 * @param siginfo the raw siginfo_t (128 bytes) as the kernel reported it
 * @param delivered false when the tracer suppressed it
 */
public record SignalEvent(long seq, int pid, int tid, long timeNs, int signo, int code, int senderPid,
                          int senderUid, byte[] siginfo, boolean delivered) implements Event {

    public SignalEvent {
        siginfo = siginfo.clone();
    }

    @Override
    public byte[] siginfo() {
        return siginfo.clone();
    }

    @Override
    public String kind() {
        return "signal";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SignalEvent e && e.seq == seq && e.pid == pid && e.tid == tid && e.timeNs == timeNs
                && e.signo == signo && e.code == code && e.senderPid == senderPid && e.senderUid == senderUid
                && Arrays.equals(e.siginfo, siginfo) && e.delivered == delivered;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(seq) * 31 + signo;
    }

    @Override
    public String toString() {
        return "SignalEvent[seq=" + seq + ", pid=" + pid + ", tid=" + tid + ", signo=" + signo + ", code=" + code
                + ", senderPid=" + senderPid + ", delivered=" + delivered + "]";
    }
}
