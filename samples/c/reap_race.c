/* reap_race: a parent polls wait4(-1, WNOHANG) while its first child is dying, then waits for it.
 * When recorded, the poll often finds nothing (the child is not yet a zombie) although the child's
 * end comes between the poll's entry and its return; a replay that ran that poll for real would reap
 * the child there, and the blocking wait after it would wait for the second child, which the
 * recorded order holds until the parent has been told about the first. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int empty_polls = 0;
    for (int i = 0; i < rounds; i++) {
        int gate[2];
        if (pipe(gate) != 0) return 2;
        pid_t first = fork();
        if (first < 0) return 2;
        if (first == 0) _exit(i % 100);
        pid_t second = fork();
        if (second < 0) return 2;
        if (second == 0) {
            char c;
            close(gate[1]);
            ssize_t n = read(gate[0], &c, 1); /* until the parent closes its end */
            _exit(n == 0 ? 200 : 201);
        }
        close(gate[0]);
        int st;
        pid_t got = waitpid(-1, &st, WNOHANG);
        if (got == 0) {
            empty_polls++;
            got = waitpid(-1, &st, 0);
        }
        if (got != first || !WIFEXITED(st) || WEXITSTATUS(st) != i % 100) {
            printf("round %d: reaped %s with status %d\n", i, got == second ? "the second child" : "?", WEXITSTATUS(st));
            return 1;
        }
        close(gate[1]);
        if (waitpid(second, &st, 0) != second || WEXITSTATUS(st) != 200) return 1;
    }
    printf("%d rounds, first child reaped in order, %d polls found nothing\n", rounds, empty_polls);
    return 0;
}
