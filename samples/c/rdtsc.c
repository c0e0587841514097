/* rdtsc [probe]: reads the time-stamp counter with __rdtsc() and __rdtscp()
 * (x86_64 only) and prints the values and their differences: the TSC is read
 * without a system call, so deja cannot see it unless the kernel traps it.
 * "rdtsc probe" says whether this machine can trap it: a child sets
 * prctl(PR_SET_TSC, PR_TSC_SIGSEGV), execs itself (the flag must survive
 * execve, as deja would set it before the program's exec) and executes rdtsc;
 * it should die of SIGSEGV. Exit status 0 when trapped, 1 when not. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>

static int probe(const char *self) {
    fflush(stdout);
    pid_t p = fork();
    if (p < 0) { perror("rdtsc: fork"); return 2; }
    if (p == 0) {
        if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV) != 0) { perror("rdtsc: prctl(PR_SET_TSC)"); _exit(2); }
        execl(self, self, "child", (char *)NULL);
        perror("rdtsc: exec");
        _exit(2);
    }
    int status;
    if (waitpid(p, &status, 0) != p) { perror("rdtsc: waitpid"); return 2; }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
        printf("rdtsc: trapped: rdtsc raised SIGSEGV under PR_TSC_SIGSEGV after execve\n");
        return 0;
    }
    printf("rdtsc: NOT trapped: rdtsc ran under PR_TSC_SIGSEGV (child status 0x%x)\n", status);
    return 1;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "probe") == 0) return probe(argv[0]);
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        int mode = 0;
        prctl(PR_GET_TSC, &mode);
        unsigned long long v = __rdtsc();
        printf("rdtsc: child: PR_GET_TSC %s, rdtsc %llu\n", mode == PR_TSC_SIGSEGV ? "PR_TSC_SIGSEGV" : "PR_TSC_ENABLE", v);
        return 0;
    }
    unsigned aux1, aux2;
    unsigned long long a = __rdtsc();
    unsigned long long b = __rdtscp(&aux1);
    unsigned long long c = __rdtscp(&aux2);
    printf("rdtsc: rdtsc %llu\n", a);
    printf("rdtsc: rdtscp %llu (+%llu) aux %u\n", b, b - a, aux1);
    printf("rdtsc: rdtscp %llu (+%llu) aux %u\n", c, c - b, aux2);
    return 0;
}
#else
int main(void) {
    /* aarch64's counter (cntvct_el0) cannot be trapped from user space: nothing to show. */
    fprintf(stderr, "rdtsc: x86_64 only\n");
    return 2;
}
#endif
