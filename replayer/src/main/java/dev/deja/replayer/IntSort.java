package dev.deja.replayer;

/**
 * Sorts an array of ints (positions into other arrays) by a comparator over them, without boxing:
 * a merge sort that skips merging halves already in order, so the nearly sorted input replay
 * indexes (events in journal order, steps in seq order) costs little more than one pass.
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
        if (a.length < 2) return;
        mergeSort(a, new int[(a.length + 1) / 2], 0, a.length, order);
    }

    private static void mergeSort(int[] a, int[] tmp, int from, int to, Order order) {
        if (to - from <= INSERTION) {
            for (int i = from + 1; i < to; i++) {
                int v = a[i];
                int j = i - 1;
                while (j >= from && order.compare(a[j], v) > 0) {
                    a[j + 1] = a[j];
                    j--;
                }
                a[j + 1] = v;
            }
            return;
        }
        int mid = (from + to) >>> 1;
        mergeSort(a, tmp, from, mid, order);
        mergeSort(a, tmp, mid, to, order);
        if (order.compare(a[mid - 1], a[mid]) <= 0) return;
        // The left half aside (at most half the array), merged back with the right one in place.
        int left = mid - from;
        System.arraycopy(a, from, tmp, 0, left);
        int i = 0;
        int j = mid;
        int k = from;
        while (i < left && j < to) a[k++] = order.compare(tmp[i], a[j]) <= 0 ? tmp[i++] : a[j++];
        while (i < left) a[k++] = tmp[i++];
    }
}
