/* signal_in_cpuid_loop: as signal_in_heap_loop, a timer's SIGALRM lands in a loop that counts in the
 * heap, but the object the loop's register points at also holds cpuid leaf 1 (EAX, EBX), sampled 16
 * times a few hundred microseconds apart, as HotSpot's VM_Version and glibc's cpu_features keep it.
 * EBX's top byte is the initial APIC ID of the CPU the instruction ran on; on a virtual machine it can
 * be the host's and change from one call to the next. deja cannot trap cpuid, so the replayed
 * program's samples differ from the recorded ones, in those bytes only: the point's memory witness
 * must leave them out (format version 6) for replay to find the recorded turn; it prints the recorded
 * count. An argument sets the timer's delay in microseconds (default 20000). */
#define _GNU_SOURCE
#include <cpuid.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define SAMPLES 16

struct features {
    unsigned long count;
    unsigned int leaf1[SAMPLES][2];   /* EAX, EBX: what a program keeps of cpuid leaf 1 */
};

static volatile sig_atomic_t fired;

static void on_alarm(int sig) {
    (void)sig;
    fired = 1;
}

int main(int argc, char **argv) {
    long usec = argc > 1 ? atol(argv[1]) : 20000;
    struct features *f = malloc(sizeof *f);
    if (f == NULL) return 2;
    f->count = 0;
    for (int i = 0; i < SAMPLES; i++) {
        unsigned int eax, ebx, ecx, edx;
        __cpuid(1, eax, ebx, ecx, edx);
        f->leaf1[i][0] = eax;
        f->leaf1[i][1] = ebx;
        struct timespec pause = {0, 300000};
        nanosleep(&pause, NULL);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval t = {{0, 0}, {usec / 1000000, usec % 1000000}};
    setitimer(ITIMER_REAL, &t, NULL);
    while (!fired) {
        f->count++;
        __asm__ volatile("" ::: "memory");
    }
    printf("counted to %lu before the signal\n", f->count);
    return 0;
}
