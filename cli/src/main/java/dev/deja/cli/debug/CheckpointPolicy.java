package dev.deja.cli.debug;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * When the shell takes checkpoints on its own while the replay runs forward, and which to drop.
 * A checkpoint is due once the replay has run forward {@code intervalNs} without stopping since
 * the last one (or since it was resumed) and is at least {@code minEvents} past the nearest
 * earlier checkpoint: a going-back then re-runs at most about one interval of replay. At most
 * {@code maxAutomatic} automatic checkpoints are kept, and their copies' memory (proportional set
 * size) at most {@code maxBytes}: past either, the automatic checkpoint whose removal leaves the
 * smallest gap is dropped (the spread stays even; checkpoints the user took are never dropped).
 */
record CheckpointPolicy(long intervalNs, long minEvents, int maxAutomatic, long maxBytes) {
    /**
     * The shell's: every 0.1 s of forward replay (a going-back then re-runs about 0.1 s; a checkpoint
     * costs a few ms), 1000 events apart at least, 64 of them, 1 GiB.
     */
    static final CheckpointPolicy DEFAULT = new CheckpointPolicy(100_000_000L, 1000, 64, 1L << 30);
    /** No automatic checkpoints. */
    static final CheckpointPolicy OFF = new CheckpointPolicy(Long.MAX_VALUE, Long.MAX_VALUE, 0, 0);

    /**
     * The policy DEJA_AUTO_CHECKPOINTS asks for: a number of milliseconds between automatic
     * checkpoints, 0 or {@code off} for none; unset or unreadable: {@link #DEFAULT}.
     */
    static CheckpointPolicy fromEnvironment(String value) {
        if (value == null || value.isBlank()) return DEFAULT;
        if (value.strip().equalsIgnoreCase("off")) return OFF;
        try {
            long ms = Long.parseLong(value.strip());
            if (ms <= 0) return OFF;
            return new CheckpointPolicy(ms * 1_000_000L, DEFAULT.minEvents, DEFAULT.maxAutomatic, DEFAULT.maxBytes);
        } catch (NumberFormatException e) {
            return DEFAULT;
        }
    }

    boolean enabled() {
        return maxAutomatic > 0;
    }

    /**
     * Whether to take one at event {@code seq}, after {@code runningNs} of forward replay since the
     * last checkpoint or resume, the nearest earlier checkpoint being at {@code nearestSeq} (or -1:
     * then the start counts as one, and a short recording, quick to re-run, gets none).
     */
    boolean due(long seq, long runningNs, long nearestSeq) {
        if (!enabled() || runningNs < intervalNs) return false;
        return seq - Math.max(0, nearestSeq) >= minEvents;
    }

    /** A checkpoint as the policy sees it. */
    record Mark(int number, long seq, boolean automatic, long bytes) {
    }

    /**
     * The automatic checkpoint to drop now, or empty when within bounds: the one (never the newest
     * nor one the user took) whose neighbours are closest together.
     */
    OptionalInt toDrop(List<Mark> marks) {
        List<Mark> sorted = new ArrayList<>(marks);
        sorted.sort(java.util.Comparator.comparingLong(Mark::seq));
        long automatic = sorted.stream().filter(Mark::automatic).count();
        long bytes = sorted.stream().mapToLong(m -> Math.max(0, m.bytes())).sum();
        if (automatic <= maxAutomatic && bytes <= maxBytes) return OptionalInt.empty();
        int newest = sorted.stream().filter(Mark::automatic).mapToInt(Mark::number).max().orElse(-1);
        int best = -1;
        long bestGap = Long.MAX_VALUE;
        for (int i = 0; i < sorted.size(); i++) {
            Mark m = sorted.get(i);
            if (!m.automatic() || m.number() == newest) continue;
            long before = i > 0 ? sorted.get(i - 1).seq() : 0;
            long after = i + 1 < sorted.size() ? sorted.get(i + 1).seq() : m.seq();
            long gap = after - before;
            if (gap < bestGap) {
                bestGap = gap;
                best = m.number();
            }
        }
        return best < 0 ? OptionalInt.empty() : OptionalInt.of(best);
    }
}
