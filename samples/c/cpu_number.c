/* cpu_number: asks glibc which CPU it runs on (sched_getcpu), as ZGC does to pick its per-CPU
 * allocation state, and prints it with whether glibc registered the thread's rseq area.
 * With rseq registered, glibc reads the CPU from that area, which the kernel rewrites at each
 * return to user space: no syscall, nothing a recording sees. deja record refuses rseq, so glibc
 * asks the kernel with a getcpu syscall, recorded and answered on replay: a replay on another
 * CPU must print the recorded number. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>

int main(void) {
    int cpu = sched_getcpu();
    if (cpu < 0) {
        fprintf(stderr, "cpu_number: sched_getcpu: %s\n", strerror(errno));
        return 1;
    }
    /* glibc 2.35 and later: 0 when the thread's rseq registration failed or was turned off */
    printf("rseq %s, cpu %d\n", __rseq_size > 0 ? "registered" : "not registered", cpu);
    return 0;
}
