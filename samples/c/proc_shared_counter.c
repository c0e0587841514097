/* proc_shared_counter [N]: a parent and its fork child each add 1 to a counter in
 * MAP_SHARED anonymous memory N times (default 3000000) with no lock and no
 * syscall in the loop; the parent waits for the child and prints total=<n>.
 * Natively increments are lost to the race between the two processes. A replay
 * must print the recorded total: the two processes share memory, so they take
 * turns as one unit while recorded, with their preemptions recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 3000000;
    volatile long *counter = mmap(NULL, sizeof *counter, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counter == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    for (long i = 0; i < n; i++) (*counter)++; /* load, add, store: not atomic */
    if (child == 0) _exit(0);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) {
        fprintf(stderr, "the child did not exit\n");
        return 1;
    }
    printf("total=%ld\n", *counter);
    return 0;
}
