package dev.deja.cli.report;

import dev.deja.formats.event.ProcessContext;
import java.util.List;
import java.util.Map;

/**
 * What a report shows of one recorded run, built from the recording by {@link RunModelBuilder} and
 * drawn by {@link HtmlReport}: plain values, no I/O.
 *
 * @param summary  the run as a whole
 * @param lanes    one per thread, in display order (each process's threads, then its children, depth first)
 * @param events   the drawn events, grouped by lane and ordered by start time within a lane
 * @param output   the program's standard output and error, line by line, each linked to the write that began it
 * @param contexts each process's context as it changed, by pid (seq it took effect, context)
 * @param outputTruncated true when the output had more lines than a report keeps
 */
public record RunModel(Summary summary, List<Lane> lanes, EventTable events, List<OutputLine> output,
                       Map<Integer, List<ContextAt>> contexts, boolean outputTruncated) {

    public RunModel {
        lanes = List.copyOf(lanes);
        output = List.copyOf(output);
        contexts = Map.copyOf(contexts);
    }

    /**
     * The run as a whole.
     *
     * @param recording  how the user named the recording (for the commands the page offers)
     * @param startNs    wall-clock start; every time in the model is relative to it
     * @param durationNs from the start to the end of the run (or to the last event kept)
     * @param exitStatus as a shell reports it (128+N for signal N), or -1 when the recording does not say
     * @param exitText   "exited with 1", "killed by SIGSEGV", "" when unknown
     * @param failures   why the run looks failed, one phrase each; empty when it does not
     */
    public record Summary(String recording, List<String> command, String hostname, String kernel, String arch,
                          String user, String cwd, String status, long startNs, long durationNs, int exitStatus,
                          String exitText, long eventCount, long bytes, int processes, List<String> failures) {
        public Summary {
            command = List.copyOf(command);
            failures = List.copyOf(failures);
        }

        public boolean complete() {
            return status.equals("complete");
        }
    }

    /**
     * One thread's lane.
     *
     * @param parent  the lane it hangs under (its process's lane for a thread, its parent's for a process), or -1
     * @param depth   nesting depth, 0 for the first process
     * @param name    "comm" as recorded, or the name the thread gave itself (prctl PR_SET_NAME: Java thread names)
     * @param startNs when it began (its spawn, else its first event), relative to the run's start
     * @param endNs   when it ended (its exit, else its last event)
     * @param end     how it ended ("exited with 0", "killed by SIGKILL", "thread exited"), or "" when the recording does not say
     * @param failed  it exited with a non-zero status or was killed by a signal
     */
    public record Lane(int index, int pid, int tid, int parent, int depth, String name, long startNs, long endNs,
                       String end, boolean failed) {
        public boolean process() {
            return pid == tid;
        }
    }

    /**
     * One line of output.
     *
     * @param stream 1 stdout, 2 stderr
     * @param seq    the write event that wrote the line's first byte
     * @param marker the line looks like a failure report of a test framework or a runtime (FAILED, Traceback, ...)
     */
    public record OutputLine(int stream, int pid, long seq, String text, boolean marker) {
    }

    /** A process's context from event {@code seq} on. */
    public record ContextAt(long seq, ProcessContext context) {
    }
}
