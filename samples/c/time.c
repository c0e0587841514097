/* time: what the clocks say.  Reads several clocks through glibc (the vDSO
 * answers these natively; deja disables the vDSO so they become syscalls),
 * sleeps 10 ms with clock_nanosleep and prints every value.  The values
 * differ from run to run; a replay must print exactly those recorded. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "time: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

static const struct { clockid_t id; const char *name; } clocks[] = {
    {CLOCK_REALTIME, "CLOCK_REALTIME"}, {CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
    {CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"}, {CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
    {CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"}, {CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"},
    {CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"}, {CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"},
};

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct timespec t;
    for (size_t i = 0; i < sizeof clocks / sizeof *clocks; i++) {
        CHECK(clock_gettime(clocks[i].id, &t) == 0);
        printf("clock_gettime %s -> %lld.%09ld\n", clocks[i].name, (long long)t.tv_sec, t.tv_nsec);
    }
    CHECK(clock_getres(CLOCK_MONOTONIC, &t) == 0);
    printf("clock_getres CLOCK_MONOTONIC -> %lld.%09ld\n", (long long)t.tv_sec, t.tv_nsec);
    struct timeval tv;
    CHECK(gettimeofday(&tv, NULL) == 0);
    printf("gettimeofday -> %lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
    time_t now = time(NULL);
    printf("time -> %lld\n", (long long)now);

    struct timespec before, after, req = {0, 10 * 1000 * 1000};
    CHECK(clock_gettime(CLOCK_MONOTONIC, &before) == 0);
    int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
    CHECK(r == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &after) == 0);
    printf("clock_nanosleep 10ms -> %d\n", r);
    printf("monotonic before %lld after %lld\n", ns(before), ns(after));
    printf("slept at least 10ms: %s\n", ns(after) - ns(before) >= 10000000LL ? "yes" : "no");
    return 0;
}
