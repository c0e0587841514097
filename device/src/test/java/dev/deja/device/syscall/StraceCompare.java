package dev.deja.device.syscall;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compares deja's rendering of a recording with what strace printed for the same run: a helper
 * for integration tests, not a test itself.
 *
 * <p>Both sides are normalised: hex addresses become ADDR, pid prefixes ("[pid 123] ", "123 ")
 * are taken off and used to group lines per process, "<unfinished ...>" / "<... resumed>" pairs
 * are joined into one line, "strace: Process N attached" notes are dropped, and the padding
 * before " = " is collapsed. Lines are then aligned per pid (longest common subsequence).
 */
final class StraceCompare {

    private static final Pattern PID = Pattern.compile("^(?:\\[pid\\s+(\\d+)\\]|(\\d+))\\s+");
    private static final Pattern HEX = Pattern.compile("0x[0-9a-f]+");
    private static final Pattern PAD = Pattern.compile("\\s+= ");
    private static final Pattern UNFINISHED = Pattern.compile("^(.*?)\\s*<unfinished \\.\\.\\.>$");
    private static final Pattern RESUMED = Pattern.compile("^<\\.\\.\\. (\\S+) resumed>\\s?(.*)$");

    private StraceCompare() {
    }

    /** The fraction of deja lines equal to strace's, after normalisation and per-pid alignment (1.0 when deja is empty and strace too). */
    static double matchRate(List<String> straceLines, List<String> dejaLines) {
        Map<String, List<String>> s = normalise(straceLines);
        Map<String, List<String>> d = normalise(dejaLines);
        int total = 0;
        for (List<String> l : d.values()) total += l.size();
        if (total == 0) return s.values().stream().allMatch(List::isEmpty) ? 1.0 : 0.0;
        // one side without pids: compare everything as one process
        if (s.size() == 1 || d.size() == 1) {
            s = Map.of("", flatten(s));
            d = Map.of("", flatten(d));
        }
        int matched = 0;
        for (Map.Entry<String, List<String>> e : d.entrySet()) {
            matched += lcs(s.getOrDefault(e.getKey(), List.of()), e.getValue());
        }
        return (double) matched / total;
    }

    private static List<String> flatten(Map<String, List<String>> m) {
        List<String> all = new ArrayList<>();
        m.values().forEach(all::addAll);
        return all;
    }

    /** Normalised lines grouped by pid ("" for lines without a pid prefix). */
    static Map<String, List<String>> normalise(List<String> lines) {
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
                String head = u.group(1);
                pending.put(pid, head.endsWith(",") ? head + " " : head);
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
}
