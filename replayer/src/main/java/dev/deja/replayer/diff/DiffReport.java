package dev.deja.replayer.diff;

import dev.deja.device.syscall.Arch;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The comparison of two recordings: both runs summarised, and every matched thread with its alignment
 * and differences.
 *
 * @param a       run A
 * @param b       run B
 * @param threads the matched threads in creation order (thread 1 first)
 * @param arch    the architecture both runs were recorded on
 * @param options what the report should show
 */
public record DiffReport(Run a, Run b, List<ThreadDiff> threads, Arch arch, DiffOptions options) {

    /**
     * One run's summary.
     *
     * @param name       how the user named the recording (its directory)
     * @param command    the recorded command line
     * @param exitStatus the status a shell would have seen, or -1 when the recording does not say
     * @param processes  processes in the run
     * @param threads    threads in the run
     * @param events     events in the run
     */
    public record Run(String name, List<String> command, int exitStatus, int processes, int threads, long events) {
        public Run {
            command = List.copyOf(command);
        }
    }

    public DiffReport {
        threads = List.copyOf(threads);
    }

    /** True when the runs took the same path through every thread (data may still differ). */
    public boolean sameControlFlow() {
        return threads.stream().allMatch(t -> t.firstControl().isEmpty());
    }

    /** True when nothing differs at all, after normalising pointers and ids. */
    public boolean identical() {
        return threads.stream().allMatch(t -> t.differences().isEmpty());
    }

    /** The first control-flow difference of the whole run: the earliest in run A's event order. */
    public Optional<Difference> firstControl() {
        return threads.stream().flatMap(t -> t.firstControl().stream())
                .min(Comparator.comparingLong(Difference::aSeq).thenComparingLong(Difference::bSeq));
    }

    public ThreadDiff thread(int index) {
        return threads.get(index - 1);
    }

    public int dataDifferences() {
        return threads.stream().mapToInt(t -> t.data().size()).sum();
    }

    public int controlDifferences() {
        return threads.stream().mapToInt(t -> t.control().size()).sum();
    }
}
