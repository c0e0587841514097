/* signal_in_loop: a one-shot timer's SIGALRM lands in a loop that makes no system call (each turn
 * hashes a block of bytes); how far the loop got depends on where it landed, different on every run.
 * A replay that delivers the recorded signal at the thread's previous call (the setitimer) counts to
 * 0; deja delivers it at the recorded instruction, found again by its registers (the counters are
 * among them), so the replay prints the recorded count and hash. An argument sets the timer's delay
 * in microseconds (default 20000); a second one, "child", sends the signal another way: a child that
 * sleeps that long and exits, its SIGCHLD ending the loop. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t fired;

static void on_alarm(int sig) {
    (void)sig;
    fired = 1;
}

int main(int argc, char **argv) {
    long usec = argc > 1 ? atol(argv[1]) : 20000;
    int child = argc > 2 && strcmp(argv[2], "child") == 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(child ? SIGCHLD : SIGALRM, &sa, NULL);
    if (child) {
        pid_t pid = fork();
        if (pid < 0) return 2;
        if (pid == 0) {
            struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
            nanosleep(&ts, NULL);
            _exit(0);
        }
    } else {
        struct itimerval t = {{0, 0}, {usec / 1000000, usec % 1000000}};
        setitimer(ITIMER_REAL, &t, NULL);
    }
    unsigned char block[64];
    for (int i = 0; i < 64; i++) block[i] = (unsigned char)(i * 37);
    unsigned long count = 0, hash = 1469598103934665603UL;
    while (!fired) {
        for (int i = 0; i < 64; i++) hash = (hash ^ block[i] ^ count) * 1099511628211UL;
        count++;
    }
    if (child) wait(NULL);
    printf("counted to %lu before the signal (hash %016lx)\n", count, hash);
    return 0;
}
