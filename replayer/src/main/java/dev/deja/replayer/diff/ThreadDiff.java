package dev.deja.replayer.diff;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Optional;

/**
 * One thread matched across the two runs (or present in one only), its alignment and its differences.
 *
 * @param index       1 for the first thread of the first process, then in creation order
 * @param pidA        the recorded process id in run A, or 0 when run A has no such thread
 * @param tidA        the recorded thread id in run A, or 0
 * @param pidB        the same in run B
 * @param tidB        the same in run B
 * @param rows        the alignment: every event of the thread in each run, in order
 * @param differences every difference, in alignment order
 */
public record ThreadDiff(int index, int pidA, int tidA, int pidB, int tidB, List<Row> rows,
                         List<Difference> differences) {

    public ThreadDiff {
        rows = List.copyOf(rows);
        differences = List.copyOf(differences);
    }

    public Optional<Difference> firstControl() {
        return differences.stream().filter(Difference::control).findFirst();
    }

    public Optional<Difference> firstData() {
        return differences.stream().filter(d -> !d.control()).findFirst();
    }

    public List<Difference> control() {
        return differences.stream().filter(Difference::control).toList();
    }

    public List<Difference> data() {
        return differences.stream().filter(d -> !d.control()).toList();
    }

    /**
     * The differences in data the kernel gave this thread before {@code d} (most recent first): what a
     * later control-flow difference may have been decided on.
     */
    public List<Difference> incomingBefore(Difference d) {
        // A result that differs because the program passed other data (write's count) is an effect, not a cause.
        Set<Integer> inputRows = new HashSet<>();
        for (Difference x : differences) if (x.kind() == Difference.Kind.INPUT) inputRows.add(x.row());
        return differences.stream().filter(x -> x.kind().incoming() && x.row() < d.row() && !inputRows.contains(x.row()))
                .sorted((x, y) -> Integer.compare(y.row(), x.row())).toList();
    }
}
