/* heisen_fork: a heisenbug across processes (fork and exec).
 * The parent forks a child that execs /bin/sh, which reads one byte of
 * /dev/urandom and exits with byte % 3. The parent expects a non-zero status
 * and fails when the child exits 0: about one run in three. The child's read
 * of /dev/urandom and the parent's wait4 are both recorded, so a replay sees
 * the same status. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order with stderr, on a pipe too */
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 2; }
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c",
              "b=$(od -An -N1 -tu1 /dev/urandom); exit $((b % 3))", (char *)NULL);
        perror("execl");
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return 2; }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    printf("heisen_fork: child exited with %d\n", code);
    if (code == 0) {
        fprintf(stderr, "heisen_fork: FAILED: the child exited 0\n");
        return 1;
    }
    return 0;
}
