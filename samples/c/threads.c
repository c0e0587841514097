/* threads: 4 pthreads, each writes fixed-size records to a shared pipe, calls
 * getpid and gettid, and meets the others at a futex-based barrier twice.
 * The main thread reads every record after the joins and prints a summary
 * that does not depend on the interleaving (counts, sums, equalities); the
 * interleaving itself is what a recording must capture and a replay repeat. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "threads: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

#define NTHREADS 4
#define WRITES 3
#define ROUNDS 2

/* A sense-free generation barrier on one futex word. */
static atomic_int arrived, generation;

static void barrier(void) {
    int gen = atomic_load(&generation);
    if (atomic_fetch_add(&arrived, 1) + 1 == NTHREADS) {
        atomic_store(&arrived, 0);
        atomic_fetch_add(&generation, 1);
        syscall(SYS_futex, &generation, FUTEX_WAKE_PRIVATE, NTHREADS, NULL, NULL, 0);
        return;
    }
    while (atomic_load(&generation) == gen) {
        long r = syscall(SYS_futex, &generation, FUTEX_WAIT_PRIVATE, gen, NULL, NULL, 0);
        CHECK(r == 0 || errno == EAGAIN || errno == EINTR);
    }
}

struct rec { int thread, round, seq, pid, tid; };
static int pipefd[2];
static pid_t main_pid;

static void *worker(void *arg) {
    int me = (int)(long)arg;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < WRITES; i++) {
            struct rec r = {me, round, i, getpid(), (int)syscall(SYS_gettid)};
            CHECK(write(pipefd[1], &r, sizeof r) == sizeof r); /* < PIPE_BUF: atomic */
        }
        barrier();
    }
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    main_pid = getpid();
    CHECK(pipe(pipefd) == 0);
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < NTHREADS; i++) CHECK(pthread_join(t[i], NULL) == 0);
    CHECK(close(pipefd[1]) == 0);

    struct rec r;
    int count = 0, per_thread[NTHREADS] = {0}, same_pid = 1, tid_ok = 1, order_ok = 1;
    int tids[NTHREADS] = {0}, last[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) last[i] = -1;
    ssize_t n;
    while ((n = read(pipefd[0], &r, sizeof r)) == sizeof r) {
        count++;
        CHECK(r.thread >= 0 && r.thread < NTHREADS);
        per_thread[r.thread]++;
        if (r.pid != main_pid) same_pid = 0;
        if (r.tid == main_pid) tid_ok = 0;
        if (tids[r.thread] == 0) tids[r.thread] = r.tid; else if (tids[r.thread] != r.tid) tid_ok = 0;
        int at = r.round * WRITES + r.seq;
        if (at != last[r.thread] + 1) order_ok = 0;
        last[r.thread] = at;
    }
    CHECK(n == 0);
    int distinct = 1;
    for (int i = 0; i < NTHREADS; i++)
        for (int j = 0; j < i; j++) if (tids[i] == tids[j]) distinct = 0;
    printf("threads %d, rounds %d, records %d of %zu bytes\n", NTHREADS, ROUNDS, count, sizeof r);
    for (int i = 0; i < NTHREADS; i++) printf("thread %d: %d records\n", i, per_thread[i]);
    printf("getpid same in every thread: %s\n", same_pid ? "yes" : "no");
    printf("gettid distinct per thread and not the pid: %s\n", tid_ok && distinct ? "yes" : "no");
    printf("each thread's records in order: %s\n", order_ok ? "yes" : "no");
    printf("barrier generations: %d\n", atomic_load(&generation));
    return count == NTHREADS * ROUNDS * WRITES && same_pid && tid_ok && distinct && order_ok ? 0 : 1;
}
