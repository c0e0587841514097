/* forkexec: fork + execve("/bin/echo", "hello-from-child"), parent wait4s;
 * fork + _exit(5) without exec; vfork + execve of this program with the
 * argument "child" (which prints a line and exits 7).  Prints each child's
 * status, then exits with status 3 so that a test can check that exit
 * statuses propagate through a recording and a replay. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "forkexec: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

extern char **environ;

static void report(const char *what, pid_t child, pid_t waited, int status) {
    printf("%s: wait4 -> %s", what, waited == child ? "the child" : "ANOTHER PID");
    if (WIFEXITED(status)) printf(", exited %d\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) printf(", killed by signal %d\n", WTERMSIG(status));
    else printf(", status 0x%x\n", status);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("hello from the vforked child, ppid is the parent: %s\n", argc > 2 && atoi(argv[2]) == getppid() ? "yes" : "no");
        fflush(stdout);
        return 7;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int status;
    struct rusage ru;

    /* fork + exec /bin/echo */
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        char *args[] = {"/bin/echo", "hello-from-child", NULL};
        execve(args[0], args, environ);
        _exit(127);
    }
    pid_t w = wait4(c, &status, 0, &ru);
    CHECK(w >= 0);
    report("fork+exec /bin/echo", c, w, status);

    /* fork + _exit without exec */
    c = fork();
    CHECK(c >= 0);
    if (c == 0) _exit(5);
    w = wait4(-1, &status, 0, NULL);
    CHECK(w >= 0);
    report("fork+_exit(5)", c, w, status);

    /* vfork + exec this program again */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    self[n] = 0;
    char ppid[32];
    snprintf(ppid, sizeof ppid, "%d", getpid());
    c = vfork();
    CHECK(c >= 0);
    if (c == 0) {
        char *args[] = {self, "child", ppid, NULL};
        execve(self, args, environ);
        _exit(127);
    }
    w = wait4(c, &status, 0, NULL);
    CHECK(w >= 0);
    report("vfork+exec self child", c, w, status);

    /* nothing left to wait for */
    errno = 0;
    w = wait4(-1, &status, WNOHANG, NULL);
    printf("wait4 with no children -> %d errno %s\n", (int)w, strerrorname_np(errno));
    printf("forkexec: exiting with status 3\n");
    return 3;
}
