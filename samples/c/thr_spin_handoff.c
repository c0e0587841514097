/* thr_spin_handoff [K]: threads A and B hand a token back and forth K times
 * (default 100) through two volatile flags, each spinning (no syscall) until
 * the other sets its flag: A works, sets to_b; B spins on to_b, works, sets
 * to_a; A spins on to_a. A replay that runs one thread at a time and never
 * preempts a thread between syscalls spins forever here. Prints handoffs=K
 * and the work's checksum (deterministic). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static volatile int to_b, to_a; /* the last round handed to B, to A */
static volatile unsigned long work_sum;
static int k = 100;

static void work(int round) {
    unsigned long x = (unsigned long)round;
    for (int i = 0; i < 10000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    work_sum += x >> 33;
}

static void *thread_a(void *arg) {
    (void)arg;
    for (int r = 1; r <= k; r++) {
        work(2 * r);
        to_b = r;
        while (to_a != r) { /* spin */ }
    }
    return NULL;
}

static void *thread_b(void *arg) {
    (void)arg;
    for (int r = 1; r <= k; r++) {
        while (to_b != r) { /* spin */ }
        work(2 * r + 1);
        to_a = r;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) k = atoi(argv[1]);
    pthread_t a, b;
    if (pthread_create(&b, NULL, thread_b, NULL) != 0 || pthread_create(&a, NULL, thread_a, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("handoffs=%d checksum=%lu\n", to_a, work_sum);
    return to_a == k && to_b == k ? 0 : 1;
}
