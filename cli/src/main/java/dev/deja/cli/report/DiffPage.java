package dev.deja.cli.report;

import dev.deja.replayer.diff.DiffRenderer;
import dev.deja.replayer.diff.DiffReport;
import dev.deja.replayer.diff.Difference;
import dev.deja.replayer.diff.ThreadDiff;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a diff page marks on the two runs: the first control-flow difference, the data the kernel gave
 * that thread differently before it (the candidate causes, as {@code deja diff} lists them), and the first
 * difference of every other thread that parted. Taken from {@link DiffReport} as it is; nothing recomputed.
 */
public final class DiffPage {
    /** Threads whose first difference a page lists besides the first of the run. */
    static final int OTHERS = 50;

    private DiffPage() {
    }

    public static Map<String, Object> json(DiffReport report) {
        Map<String, Object> d = new LinkedHashMap<>();
        Optional<Difference> first = report.firstControl();
        d.put("first", first.map(DiffPage::difference).orElse(null));
        List<Object> causes = new ArrayList<>();
        List<Object> others = new ArrayList<>();
        if (first.isPresent()) {
            ThreadDiff t = report.thread(first.get().thread());
            List<Difference> incoming = t.incomingBefore(first.get());
            for (Difference c : incoming.subList(0, Math.min(DiffRenderer.CAUSES, incoming.size()))) causes.add(difference(c));
            for (ThreadDiff other : report.threads()) {
                if (others.size() == OTHERS) break;
                other.firstControl().filter(x -> x != first.get()).ifPresent(x -> others.add(difference(x)));
            }
        }
        d.put("causes", causes);
        d.put("others", others);
        d.put("sameControlFlow", report.sameControlFlow());
        return d;
    }

    private static Map<String, Object> difference(Difference x) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", x.kind().name().toLowerCase());
        m.put("words", x.kind().words());
        m.put("detail", x.detail());
        m.put("thread", x.thread());
        m.put("aSeq", x.aSeq());
        m.put("bSeq", x.bSeq());
        return m;
    }
}
