/* thr_racy_counter [N]: two threads each add 1 to a shared volatile counter N
 * times (default 10000000) with no lock and no syscall in the loop, then main
 * prints total=<n>. Natively increments are lost to the race: the total is
 * usually below 2N and differs from run to run. A replay must print the
 * recorded total, which only a replay that reproduces where each thread was
 * preempted can do. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static volatile long counter;
static long n = 10000000;

static void *adder(void *arg) {
    (void)arg;
    for (long i = 0; i < n; i++) counter++; /* load, add, store: not atomic */
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) n = atol(argv[1]);
    pthread_t a, b;
    if (pthread_create(&a, NULL, adder, NULL) != 0 || pthread_create(&b, NULL, adder, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("total=%ld\n", counter);
    return 0;
}
