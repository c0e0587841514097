package dev.deja.replayer;

import dev.deja.replayer.IndexMemory.Ints;

/**
 * Sorts ints (positions into other arrays) by a comparator over them, without boxing, in an array on
 * the heap or in a mapped file: a merge sort that skips merging halves already in order, so the
 * nearly sorted input replay indexes (events in journal order, steps in seq order) costs little more
 * than one pass, and that needs room for half the array besides.
 */
final class IntSort {
    private static final int INSERTION = 24;

    /** Orders two ints; a total order over the values sorted. */
    @FunctionalInterface
    interface Order {
        int compare(int a, int b);
    }

    private IntSort() {
    }

    static void sort(int[] a, Order order) {
        sort(Ints.of(a), a.length, Ints.of(new int[(a.length + 1) / 2]), order, () -> { });
    }

    /**
     * Sorts the first {@code n} elements of {@code a}; {@code tmp} holds at least {@code (n + 1) / 2}.
     * {@code tick} runs once an element placed (mapped arrays release their pages by it).
     */
    static void sort(Ints a, int n, Ints tmp, Order order, Runnable tick) {
        if (n < 2) return;
        if (tmp.length() < (n + 1) / 2) throw new IllegalArgumentException("room for " + tmp.length() + " of " + n + " ints");
        mergeSort(a, tmp, 0, n, order, tick);
    }

    private static void mergeSort(Ints a, Ints tmp, int from, int to, Order order, Runnable tick) {
        if (to - from <= INSERTION) {
            for (int i = from + 1; i < to; i++) {
                int v = a.get(i);
                int j = i - 1;
                while (j >= from && order.compare(a.get(j), v) > 0) {
                    a.set(j + 1, a.get(j));
                    j--;
                }
                a.set(j + 1, v);
                tick.run();
            }
            return;
        }
        int mid = (from + to) >>> 1;
        mergeSort(a, tmp, from, mid, order, tick);
        mergeSort(a, tmp, mid, to, order, tick);
        if (order.compare(a.get(mid - 1), a.get(mid)) <= 0) return;
        // The left half aside (at most half the array), merged back with the right one in place.
        int left = mid - from;
        tmp.copyFrom(a, from, 0, left);
        int i = 0;
        int j = mid;
        int k = from;
        while (i < left && j < to) {
            int l = tmp.get(i);
            int r = a.get(j);
            if (order.compare(l, r) <= 0) {
                a.set(k++, l);
                i++;
            } else {
                a.set(k++, r);
                j++;
            }
            tick.run();
        }
        while (i < left) a.set(k++, tmp.get(i++));
    }
}
