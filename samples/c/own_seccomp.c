/* A program with a seccomp filter of its own, as a sandbox has: after it, uname fails with EPERM and
 * getppid with EACCES, in the program and in a child it forks. A filter's ERRNO wins over the
 * SECCOMP_RET_TRACE of deja's own recording filter, so deja must see these calls before any filter
 * runs: the recording holds them, failed, and the replay fails them again. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void try_calls(const char *who) {
    struct utsname u;
    int r = uname(&u);
    printf("%s: uname %d %s\n", who, r, r < 0 ? strerrorname_np(errno) : "ok");
    long p = syscall(SYS_getppid);
    printf("%s: getppid %s\n", who, p < 0 ? strerrorname_np(errno) : "ok");
    fflush(stdout);
}

int main(void) {
    try_calls("before");
    struct sock_filter prog[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog fprog = {sizeof prog / sizeof prog[0], prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
        perror("seccomp");
        return 2;
    }
    try_calls("after");
    pid_t c = fork();
    if (c == 0) {
        try_calls("child");
        return 0;
    }
    int status;
    waitpid(c, &status, 0);
    return WEXITSTATUS(status);
}
