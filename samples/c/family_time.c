/* family_time: the clocks.  clock_gettime of every clock, clock_getres,
 * gettimeofday, time, nanosleep and clock_nanosleep, each with its output
 * against a guard page (see family.h).  Prints every value. */
#include "family.h"
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

int main(void) {
    family_start();
    static const struct { clockid_t id; const char *name; } clocks[] = {
        {CLOCK_REALTIME, "REALTIME"}, {CLOCK_MONOTONIC, "MONOTONIC"},
        {CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID"}, {CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID"},
        {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"}, {CLOCK_REALTIME_COARSE, "REALTIME_COARSE"},
        {CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE"}, {CLOCK_BOOTTIME, "BOOTTIME"}, {CLOCK_TAI, "TAI"},
    };
    struct timespec *ts = guarded(sizeof *ts);
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        CHECK(syscall(SYS_clock_gettime, clocks[i].id, ts) == 0);
        printf("clock_gettime %s: %lld.%09ld\n", clocks[i].name, (long long)ts->tv_sec, ts->tv_nsec);
        CHECK(syscall(SYS_clock_getres, clocks[i].id, ts) == 0);
        printf("clock_getres %s: %lld.%09ld\n", clocks[i].name, (long long)ts->tv_sec, ts->tv_nsec);
    }
    errno = 0;
    long bad = syscall(SYS_clock_gettime, (clockid_t)4242, ts);
    printf("clock_gettime 4242: %ld errno %d\n", bad, errno);

    struct timeval *tv = guarded(sizeof *tv);
    CHECK(syscall(SYS_gettimeofday, tv, NULL) == 0);
    printf("gettimeofday: %lld.%06ld\n", (long long)tv->tv_sec, (long)tv->tv_usec);
    struct timezone *tz = guarded(sizeof *tz);
    CHECK(syscall(SYS_gettimeofday, NULL, tz) == 0);
    printf("gettimeofday tz: %d %d\n", tz->tz_minuteswest, tz->tz_dsttime);

    time_t *t = guarded(sizeof *t);
    long r = syscall(SYS_time, t);
    printf("time: %ld stored %lld\n", r, (long long)*t);
    printf("time NULL: %ld\n", syscall(SYS_time, NULL));

    struct timespec req = {0, 2000000};
    struct timespec *rem = guarded(sizeof *rem);
    CHECK(syscall(SYS_nanosleep, &req, rem) == 0);
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ts) == 0);
    printf("after nanosleep: %lld.%09ld\n", (long long)ts->tv_sec, ts->tv_nsec);
    CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, rem) == 0);
    struct timespec until = *ts;
    until.tv_nsec += 1000000;
    if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
    CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == 0);
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ts) == 0);
    printf("after clock_nanosleep: %lld.%09ld\n", (long long)ts->tv_sec, ts->tv_nsec);
    return 0;
}
