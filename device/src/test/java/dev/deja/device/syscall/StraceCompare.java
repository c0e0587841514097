package dev.deja.device.syscall;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Compares deja's rendering of a recording with what strace printed for the same run: a helper
 * for integration tests, not a test itself.
 *
 * <p>Both sides are normalised: hex addresses become ADDR, pid prefixes ("[pid 123] ", "123 ")
 * are taken off and used to group lines per process, "<unfinished ...>" / "<... resumed>" pairs
 * are joined into one line, "strace: Process N attached" notes are dropped, and the padding
 * before " = " is collapsed. Lines are then aligned per pid (longest common subsequence).
 */
public final class StraceCompare {

    private static final Pattern PID = Pattern.compile("^(?:\\[pid\\s+(\\w+)\\]|(\\d+))\\s+");
    private static final Pattern HEX = Pattern.compile("0x[0-9a-f]+");
    private static final Pattern PAD = Pattern.compile("\\s+= ");
    // strace prints " <unfinished ...>" after what it printed so far and the rest verbatim after "resumed>"
    private static final Pattern UNFINISHED = Pattern.compile("^(.*?) ?<unfinished \\.\\.\\.>$");
    private static final Pattern RESUMED = Pattern.compile("^<\\.\\.\\. (\\S+) resumed>(.*)$");

    private StraceCompare() {
    }

    /** The fraction of deja lines equal to strace's, after normalisation and per-pid alignment (1.0 when deja is empty and strace too). */
    public static double matchRate(List<String> straceLines, List<String> dejaLines) {
        return compare(straceLines, dejaLines).rate();
    }

    /**
     * The outcome of one comparison: line counts after normalisation, how many deja lines were
     * aligned with an equal strace line, and the normalised lines each side has alone (pid-prefixed).
     */
    public record Match(int straceLines, int dejaLines, int matched, List<String> onlyStrace, List<String> onlyDeja) {
        public Match {
            onlyStrace = List.copyOf(onlyStrace);
            onlyDeja = List.copyOf(onlyDeja);
        }

        /** matched / dejaLines (1.0 when both sides are empty, 0.0 when only deja's is). */
        public double rate() {
            if (dejaLines == 0) return straceLines == 0 ? 1.0 : 0.0;
            return (double) matched / dejaLines;
        }
    }

    /** Normalises both sides, aligns them per pid and reports what matched and what did not. */
    public static Match compare(List<String> straceLines, List<String> dejaLines) {
        Map<String, List<String>> s = normalise(straceLines);
        Map<String, List<String>> d = normalise(dejaLines);
        // one side without pids: compare everything as one process
        if (s.size() == 1 || d.size() == 1) {
            s = Map.of("", flatten(s));
            d = Map.of("", flatten(d));
        }
        int sTotal = 0;
        int dTotal = 0;
        int matched = 0;
        List<String> onlyS = new ArrayList<>();
        List<String> onlyD = new ArrayList<>();
        for (List<String> l : s.values()) sTotal += l.size();
        for (Map.Entry<String, List<String>> e : d.entrySet()) {
            List<String> a = s.getOrDefault(e.getKey(), List.of());
            List<String> b = e.getValue();
            boolean[][] used = align(a, b);
            String prefix = e.getKey().isEmpty() ? "" : e.getKey() + " ";
            for (int j = 0; j < b.size(); j++) {
                if (used[1][j]) matched++;
                else onlyD.add(prefix + b.get(j));
            }
            for (int i = 0; i < a.size(); i++) if (!used[0][i]) onlyS.add(prefix + a.get(i));
        }
        for (Map.Entry<String, List<String>> e : s.entrySet()) {
            if (!d.containsKey(e.getKey())) {
                String prefix = e.getKey().isEmpty() ? "" : e.getKey() + " ";
                for (String x : e.getValue()) onlyS.add(prefix + x);
            }
        }
        return new Match(sTotal, dTotal(d), matched, onlyS, onlyD);
    }

    private static int dTotal(Map<String, List<String>> d) {
        int n = 0;
        for (List<String> l : d.values()) n += l.size();
        return n;
    }

    private static final Pattern SPAWN = Pattern.compile("^(?:<\\.\\.\\. )?(?:clone3?|v?fork)(?:\\(| resumed>).*\\s= (\\d+)$");

    /**
     * Renames the pids of one side by their place in the process tree, so that two runs of one
     * program compare: the first pid seen is 1, the k-th child or thread a process creates (the
     * k-th clone, clone3, fork or vfork result among its own lines) is its name plus "_k". Pids
     * never seen created are named x1, x2, ... Names replace the pids in the line prefixes and
     * wherever a pid appears as a number of at least three digits in the text (getpid() results,
     * clone results, wait4 arguments, /proc paths).
     */
    public static List<String> renumberPids(List<String> lines) {
        Map<String, List<String>> own = new LinkedHashMap<>();
        for (String raw : lines) {
            Matcher m = PID.matcher(raw);
            if (m.find()) {
                own.computeIfAbsent(m.group(1) != null ? m.group(1) : m.group(2), k -> new ArrayList<>())
                        .add(raw.substring(m.end()).stripTrailing());
            }
        }
        Map<String, String> ids = new LinkedHashMap<>();
        List<String> queue = new ArrayList<>();
        if (!own.isEmpty()) {
            String root = own.keySet().iterator().next();
            ids.put(root, "1");
            queue.add(root);
        }
        for (int q = 0; q < queue.size(); q++) {
            String parent = queue.get(q);
            int k = 0;
            for (String l : own.get(parent)) {
                Matcher sp = SPAWN.matcher(PAD.matcher(l).replaceAll(" = "));
                if (sp.matches() && own.containsKey(sp.group(1)) && !ids.containsKey(sp.group(1))) {
                    ids.put(sp.group(1), ids.get(parent) + "_" + ++k);
                    queue.add(sp.group(1));
                }
            }
        }
        int orphans = 0;
        for (String pid : own.keySet()) if (!ids.containsKey(pid)) ids.put(pid, "x" + ++orphans);
        List<String> out = new ArrayList<>(lines.size());
        Pattern number = Pattern.compile("(?<![\\w.])\\d{3,}(?![\\w.])");
        for (String raw : lines) {
            Matcher m = PID.matcher(raw);
            String prefix = "";
            String rest = raw;
            if (m.find()) {
                prefix = "[pid " + ids.get(m.group(1) != null ? m.group(1) : m.group(2)) + "] ";
                rest = raw.substring(m.end());
            }
            Matcher n = number.matcher(rest);
            StringBuilder sb = new StringBuilder();
            while (n.find()) {
                String id = ids.get(n.group());
                n.appendReplacement(sb, id != null ? "PID" + id : n.group());
            }
            n.appendTail(sb);
            out.add(prefix + sb);
        }
        return out;
    }

    private static List<String> flatten(Map<String, List<String>> m) {
        List<String> all = new ArrayList<>();
        m.values().forEach(all::addAll);
        return all;
    }

    /** Normalised lines grouped by pid ("" for lines without a pid prefix). */
    public static Map<String, List<String>> normalise(List<String> lines) {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        Map<String, String> pending = new HashMap<>();
        for (String raw : lines) {
            if (raw == null) continue;
            String line = raw.stripTrailing();
            if (line.isBlank() || line.startsWith("strace: ")) continue;
            String pid = "";
            Matcher m = PID.matcher(line);
            if (m.find()) {
                pid = m.group(1) != null ? m.group(1) : m.group(2);
                line = line.substring(m.end());
            }
            Matcher u = UNFINISHED.matcher(line);
            if (u.matches()) {
                pending.put(pid, u.group(1));
                continue;
            }
            Matcher r = RESUMED.matcher(line);
            if (r.matches()) {
                String head = pending.remove(pid);
                line = head != null ? head + r.group(2) : r.group(1) + "(" + r.group(2);
            }
            line = HEX.matcher(line).replaceAll("ADDR");
            line = PAD.matcher(line).replaceAll(" = ");
            groups.computeIfAbsent(pid, k -> new ArrayList<>()).add(line);
        }
        // calls that never resumed (the process died): strace prints them unfinished, deja as "= ?"
        pending.forEach((pid, head) -> groups.computeIfAbsent(pid, k -> new ArrayList<>()).add(
                PAD.matcher(HEX.matcher(head.stripTrailing().endsWith(",") ? head.stripTrailing() : head)
                        .replaceAll("ADDR")).replaceAll(" = ")));
        return groups;
    }

    /**
     * An alignment of a and b by longest common subsequence: result[0][i] is true when a's line i
     * is matched, result[1][j] when b's line j is. Common head and tail lines are matched first;
     * beyond 20M cells the middle is matched greedily (each b line looks 64 lines ahead in a).
     */
    static boolean[][] align(List<String> a, List<String> b) {
        boolean[] ua = new boolean[a.size()];
        boolean[] ub = new boolean[b.size()];
        int head = 0;
        while (head < a.size() && head < b.size() && a.get(head).equals(b.get(head))) {
            ua[head] = ub[head] = true;
            head++;
        }
        int ta = a.size();
        int tb = b.size();
        while (ta > head && tb > head && a.get(ta - 1).equals(b.get(tb - 1))) {
            ua[--ta] = true;
            ub[--tb] = true;
        }
        int n = ta - head;
        int m = tb - head;
        if ((long) n * m > 20_000_000L) {
            int j = head;
            for (int k = head; k < tb; k++) {
                for (int i = j; i < Math.min(ta, j + 64); i++) {
                    if (a.get(i).equals(b.get(k))) {
                        ua[i] = ub[k] = true;
                        j = i + 1;
                        break;
                    }
                }
            }
            return new boolean[][] {ua, ub};
        }
        int[][] t = new int[n + 1][m + 1];
        for (int i = n - 1; i >= 0; i--) {
            String x = a.get(head + i);
            for (int j = m - 1; j >= 0; j--) {
                t[i][j] = x.equals(b.get(head + j)) ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
            }
        }
        for (int i = 0, j = 0; i < n && j < m; ) {
            if (a.get(head + i).equals(b.get(head + j))) {
                ua[head + i] = ub[head + j] = true;
                i++;
                j++;
            } else if (t[i + 1][j] >= t[i][j + 1]) {
                i++;
            } else {
                j++;
            }
        }
        return new boolean[][] {ua, ub};
    }

    /** Length of the longest common subsequence (greedy beyond 20M cells). */
    static int lcs(List<String> a, List<String> b) {
        int n = a.size();
        int m = b.size();
        if ((long) n * m > 20_000_000L) {
            int matched = 0;
            int j = 0;
            for (String x : b) {
                for (int k = j; k < Math.min(n, j + 64); k++) {
                    if (a.get(k).equals(x)) {
                        matched++;
                        j = k + 1;
                        break;
                    }
                }
            }
            return matched;
        }
        int[] prev = new int[m + 1];
        int[] cur = new int[m + 1];
        for (int i = 1; i <= n; i++) {
            String x = a.get(i - 1);
            for (int j = 1; j <= m; j++) {
                cur[j] = x.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[m];
    }

    /** The strace the comparisons run against (strace 6.x from Debian). */
    public static final Path STRACE = Path.of("/usr/bin/strace");

    /**
     * strace's lines for one run of {@code command} ({@code strace -f -q -s 32 OPTIONS -o out}); the
     * program shares this JVM's descriptors 0-2.
     */
    public static List<String> strace(List<String> command, List<String> options, Path out)
            throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of(STRACE.toString(), "-f", "-q", "-s", "32"));
        c.addAll(options);
        c.addAll(List.of("-o", out.toString()));
        c.addAll(command);
        Process p = new ProcessBuilder(c).inheritIO().start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("strace " + command + " did not finish in 120 s");
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        Files.delete(out);
        return lines;
    }

    /** An empty directory at {@code dir}, whatever was there. */
    public static void fresh(Path dir) throws IOException {
        delete(dir);
        Files.createDirectories(dir);
    }

    public static void delete(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> all = Files.walk(p)) {
            for (Path x : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
