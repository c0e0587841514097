package dev.deja.replayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

/**
 * The replay's environment switches: each takes its documented values (unset and empty: the default),
 * and refuses anything else with the variable and what it expects named.
 */
class ReplaySettingsTest {
    /** {@code accepted}: each value and what the setting makes of it; {@code refused}: values it must refuse with {@code expects}. */
    private static void check(Predicate<String> setting, String variable, Map<String, Boolean> accepted, List<String> refused,
                              String expects) {
        Map<String, Boolean> all = new LinkedHashMap<>();
        all.put(null, accepted.values().iterator().next());
        all.put("", accepted.values().iterator().next());
        all.putAll(accepted);
        all.forEach((value, wanted) -> assertEquals(wanted, setting.test(value), variable + "=" + value));
        for (String bad : refused) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> setting.test(bad));
            assertEquals(variable + "=" + bad + ": " + expects, e.getMessage());
        }
    }

    private static Map<String, Boolean> values(Object... pairs) {
        Map<String, Boolean> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], (Boolean) pairs[i + 1]);
        return m;
    }

    @Test
    void stopsPerCall() {
        check(Replayer::oneStopWanted, "DEJA_REPLAY_STOPS", values("1", true, "2", false),
                Arrays.asList("0", "3", "two", " 2", "2 ", "-1"), "expected 1 or 2 (stops per replayed call)");
    }

    @Test
    void processesSideBySide() {
        check(Replayer::inParallelWanted, "DEJA_REPLAY_IN_ORDER", values("0", true, "1", false),
                Arrays.asList("2", "yes", "true", " 1", "1 ", "-1"), "expected 1 (every step in the recorded order) or 0");
    }

    @Test
    void oneCpuUnlessAllAreAskedFor() {
        check(Replayer::oneCpuWanted, "DEJA_REPLAY_CPUS", values("one", true, "all", false),
                Arrays.asList("1", "2", "ALL", " all", "all ", "0"), "expected one (the default) or all");
    }
}
