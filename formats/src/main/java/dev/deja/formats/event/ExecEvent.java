package dev.deja.formats.event;

import java.util.Arrays;
import java.util.List;

/**
 * A successful exec: the process now runs a new program.
 *
 * @param formerTid the thread that called exec, when it was not the thread group leader
 * @param path      the executable as resolved by the kernel (/proc/PID/exe after the exec)
 * @param argv      the new argument vector
 * @param exeBlob   content hash of the executable's copy in the blob store, or "" when not copied
 * @param auxv      the auxiliary vector as (type, value) pairs, after deja's edits (vDSO removed)
 * @param atRandom  the 16 bytes the kernel placed at AT_RANDOM
 */
public record ExecEvent(long seq, int pid, int tid, long timeNs, int formerTid, String path, List<String> argv,
                        String exeBlob, long[] auxv, byte[] atRandom) implements Event {

    public ExecEvent {
        argv = List.copyOf(argv);
        auxv = auxv.clone();
        atRandom = atRandom.clone();
    }

    @Override
    public long[] auxv() {
        return auxv.clone();
    }

    @Override
    public byte[] atRandom() {
        return atRandom.clone();
    }

    @Override
    public String kind() {
        return "exec";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExecEvent e && e.seq == seq && e.pid == pid && e.tid == tid && e.timeNs == timeNs
                && e.formerTid == formerTid && e.path.equals(path) && e.argv.equals(argv) && e.exeBlob.equals(exeBlob)
                && Arrays.equals(e.auxv, auxv) && Arrays.equals(e.atRandom, atRandom);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(seq) * 31 + path.hashCode();
    }

    @Override
    public String toString() {
        return "ExecEvent[seq=" + seq + ", pid=" + pid + ", tid=" + tid + ", path=" + path + ", argv=" + argv
                + ", exeBlob=" + exeBlob + "]";
    }
}
