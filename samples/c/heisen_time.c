/* heisen_time: a heisenbug that depends on the clock.
 * It reads CLOCK_REALTIME once and "fails" when the nanoseconds are odd, as code
 * that derives a decision (a bucket, a seed, a timeout) from the time of day
 * would: about one run in two fails. A replay answers clock_gettime with the
 * recorded time, so a failing recording fails again on every replay. */
#include <stdio.h>
#include <time.h>

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order with stderr, on a pipe too */
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) { perror("clock_gettime"); return 2; }
    printf("heisen_time: clock at %lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
    if (ts.tv_nsec % 2 != 0) {
        fprintf(stderr, "heisen_time: FAILED: nanoseconds %ld are odd\n", ts.tv_nsec);
        return 1;
    }
    return 0;
}
