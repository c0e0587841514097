/*
 * gdb_reverse [ROUNDS [SPIN]]: ROUNDS rounds (default 5), each reading the clock (a recorded call) and
 * calling step() twice with arguments that differ every time, with call-free code in between; SPIN
 * iterations of a call-free loop (default 0); report() prints the total once at the end. The program GdbReverseIT goes back in: reverse-continue from one step() hit must
 * land at the previous one (the same round's first, or the round before's second: across a recorded
 * call), reverse-stepi and reverse-next undo what stepi and next did. With 100000 rounds it is the
 * 100 000-call recording of docs/performance.md's reverse execution figures.
 * Built without optimisation so that every argument and local stays visible to gdb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long total;

long step(int round, long nanos) {
    long v = nanos % 1000 + round;
    total += v;
    return v;
}

void report(long sum) {
    printf("total %ld\n", sum);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    for (int round = 0; round < rounds; round++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        step(round, ts.tv_nsec);
        for (int k = 0; k < 3; k++) total += k * round;
        step(round + 100, ts.tv_nsec);
    }
    long spin = argc > 2 ? atol(argv[2]) : 0;
    for (long i = 0; i < spin; i++) total += i & 7;
    report(total);
    return 0;
}
