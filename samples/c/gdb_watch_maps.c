/*
 * gdb_watch_maps: stores into a page-aligned buffer around calls the replay runs for real: a
 * sigprocmask whose old mask the kernel writes into the buffer's page, the program's own mprotect of
 * that page (read-only, then writable again), and a fork whose child writes its copy of the page.
 * Prints the child's status and the byte; exits 0. The program deja's watchpoints are tested with
 * against the program's own protections (GdbWatchIT): each store is a hit, the real calls succeed.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static char page[4096] __attribute__((aligned(4096)));

int main(void) {
    page[8] = 1;
    if (sigprocmask(SIG_BLOCK, NULL, (sigset_t *) (page + 64)) != 0) {
        perror("sigprocmask");
        return 2;
    }
    if (mprotect(page, sizeof page, PROT_READ) != 0 || mprotect(page, sizeof page, PROT_READ | PROT_WRITE) != 0) {
        perror("mprotect");
        return 2;
    }
    page[8] = 2;
    pid_t child = fork();
    if (child == 0) {
        page[8] = 3;
        _exit(page[8]);
    }
    int status = 0;
    waitpid(child, &status, 0);
    page[8] = 4;
    printf("child %d page %d\n", WEXITSTATUS(status), page[8]);
    return 0;
}
