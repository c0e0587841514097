/* signal_in_heap_loop: a timer's SIGALRM lands in a loop whose count lives in the heap, two
 * pointers away from the only register that points anywhere: each turn passes the same instructions
 * with the same registers and the same stack, as an interpreter's loop does (python keeps a loop's
 * count in an int object its frame's dict points at). Replay tells the recorded turn from the ones
 * before it by the memory the registers point at (the memory witness, format version 5): it prints
 * the recorded count. An argument sets the timer's delay in microseconds (default 20000). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct box {
    unsigned long count;
};

struct holder {
    long tag;
    struct box *box;
};

static volatile sig_atomic_t fired;

static void on_alarm(int sig) {
    (void)sig;
    fired = 1;
}

int main(int argc, char **argv) {
    long usec = argc > 1 ? atol(argv[1]) : 20000;
    struct holder *h = malloc(sizeof *h);
    if (h == NULL || (h->box = malloc(sizeof *h->box)) == NULL) return 2;
    h->tag = 7;
    h->box->count = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval t = {{0, 0}, {usec / 1000000, usec % 1000000}};
    setitimer(ITIMER_REAL, &t, NULL);
    while (!fired) {
        h->box->count++;
        /* the compiler keeps nothing of the count in a register: it loads and adds in memory each turn */
        __asm__ volatile("" ::: "memory");
    }
    printf("counted to %lu before the signal\n", h->box->count);
    return 0;
}
