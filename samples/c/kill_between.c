/* kill_between MODE [USEC]: one part of the program signals another, and where the signal lands
 * decides what is printed, different on every native run. A replay that lets the kill happen for
 * real delivers the signal wherever the receiver has got to in the replay (under load, another
 * place); deja sends it where the recording saw it land.
 *   thread   a worker hashes in a loop with no system call until SIGUSR1's handler sets a flag;
 *            main sleeps USEC (default 20000) and sends it with pthread_kill;
 *   sleeps   the worker counts 200 us sleeps until the flag; main sends SIGUSR1 as above;
 *   process  a child hashes until the flag; the parent sends it with kill(2) and reaps it;
 *   blocked  the worker blocks SIGUSR1, makes 100 getppid calls, and unblocks it; main sends it
 *            while it is blocked (the signal stays pending until the worker unblocks it);
 *   stopped  job control: the parent stops a child that makes getppid calls (SIGSTOP), waits for
 *            the stop (WUNTRACED), continues it (SIGCONT), waits for that (WCONTINUED), and ends
 *            it (SIGTERM); replay stops no process for real, and must not hang. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t fired;
static volatile int blocked_now;
static long usec = 20000;

static void on_usr1(int sig) {
    (void)sig;
    fired = 1;
}

static void hash_until_fired(const char *who) {
    unsigned char block[64];
    for (int i = 0; i < 64; i++) block[i] = (unsigned char)(i * 37);
    unsigned long count = 0, hash = 1469598103934665603UL;
    while (!fired) {
        for (int i = 0; i < 64; i++) hash = (hash ^ block[i] ^ count) * 1099511628211UL;
        count++;
    }
    printf("%s counted to %lu before the signal (hash %016lx)\n", who, count, hash);
}

static void *hasher(void *arg) {
    (void)arg;
    hash_until_fired("worker");
    return NULL;
}

static void *sleeper(void *arg) {
    (void)arg;
    unsigned long sleeps = 0;
    while (!fired) {
        usleep(200);
        sleeps++;
    }
    printf("worker slept %lu times before the signal\n", sleeps);
    return NULL;
}

static void *blocker(void *arg) {
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    blocked_now = 1;
    while (blocked_now != 2) getppid();
    for (int i = 0; i < 100; i++) getppid();
    int before = fired;
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    printf("worker: handled before unblocking %d, after %d\n", before, (int)fired);
    return NULL;
}

static void pause_usec(void) {
    struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "thread";
    if (argc > 2) usec = atol(argv[2]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    if (strcmp(mode, "stopped") == 0) {
        fflush(stdout);
        pid_t child = fork();
        if (child < 0) return 2;
        if (child == 0) {
            for (;;) getppid();
        }
        int status;
        kill(child, SIGSTOP);
        if (waitpid(child, &status, WUNTRACED) != child) return 3;
        printf("stopped %d by signal %d\n", WIFSTOPPED(status), WIFSTOPPED(status) ? WSTOPSIG(status) : 0);
        kill(child, SIGCONT);
        if (waitpid(child, &status, WCONTINUED) != child) return 4;
        printf("continued %d\n", WIFCONTINUED(status));
        kill(child, SIGTERM);
        if (waitpid(child, &status, 0) != child) return 5;
        printf("ended by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return 0;
    }
    if (strcmp(mode, "process") == 0) {
        fflush(stdout);
        pid_t child = fork();
        if (child < 0) return 2;
        if (child == 0) {
            hash_until_fired("child");
            return 0;
        }
        pause_usec();
        kill(child, SIGUSR1);
        int status;
        waitpid(child, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    void *(*body)(void *) = strcmp(mode, "sleeps") == 0 ? sleeper : strcmp(mode, "blocked") == 0 ? blocker : hasher;
    if (body == hasher && strcmp(mode, "thread") != 0) {
        fprintf(stderr, "usage: kill_between thread|sleeps|process|blocked|stopped [USEC]\n");
        return 2;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, body, NULL) != 0) return 2;
    if (body == blocker) {
        while (blocked_now != 1) getppid();
        pthread_kill(t, SIGUSR1);
        blocked_now = 2;
    } else {
        pause_usec();
        pthread_kill(t, SIGUSR1);
    }
    pthread_join(t, NULL);
    return 0;
}
