/* thr_checkpoint: threads in every kind of place a checkpoint finds them. A
 * "spinner" computes in registers for a while with no call (the recorder
 * preempts it: held in user code), a "caller" makes 400 getppid calls with a
 * little arithmetic between them, main spins as the spinner does (the first
 * thread held in user code) and then joins both. The spins keep a double in an
 * xmm register: a copy that lost a thread's extended state would print another
 * result. Prints the results, which do not depend on the interleaving. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define SPINS 100000000L
#define CALLS 400

static unsigned long spin(void) {
    unsigned long acc = 1;
    double x = 1.0;
    for (long i = 0; i < SPINS; i++) {
        acc = acc * 6364136223846793005UL + (unsigned long) i;
        x = x * 1.0000001 + 1.0;
        /* kept in registers (a general one, an xmm one), computed every turn */
        __asm__ volatile("" : "+r"(acc), "+x"(x));
    }
    return acc ^ (unsigned long) x;
}

static void *spinner(void *arg) {
    (void) arg;
    return (void *) spin();
}

static double caller_sum;

static void *caller(void *arg) {
    (void) arg;
    double sum = 0.5;
    for (int i = 0; i < CALLS; i++) {
        sum = sum * 1.0001 + (double) getppid() * 0.0 + i;
    }
    caller_sum = sum;
    return NULL;
}

int main(void) {
    pthread_t spinning, call;
    if (pthread_create(&spinning, NULL, spinner, NULL) != 0 || pthread_create(&call, NULL, caller, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    unsigned long own = spin();
    void *acc;
    pthread_join(call, NULL);
    pthread_join(spinning, &acc);
    printf("spinner %lx\nmain %lx\ncaller %.6f\n", (unsigned long) acc, own, caller_sum);
    return 0;
}
