/* fail_nth: a test that fails on its Nth run, deterministically, so that hunting for a failure
 * (deja record --until-fail) can be tested without flakiness.
 * Usage: fail_nth COUNTER N MODE
 * Each run adds one to the number in the file COUNTER (missing: 0) and prints "fail_nth: run K".
 * Runs before the Nth pass (status 0). From the Nth run on, MODE says how the run fails:
 *   status  "fail_nth: FAILED on run K" on stderr, status 1
 *   output  "fail_nth: WARNING: leaked 3 objects" on stdout, status 0 (a failure only by output)
 *   hang    sleeps for an hour (a run that only a timeout ends)
 *   signal  raises SIGSEGV */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fail_nth COUNTER N status|output|hang|signal\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    long runs = 0;
    FILE *f = fopen(argv[1], "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &runs) != 1) runs = 0;
        fclose(f);
    }
    runs++;
    f = fopen(argv[1], "w");
    if (f == NULL || fprintf(f, "%ld\n", runs) < 0 || fclose(f) != 0) {
        perror(argv[1]);
        return 2;
    }
    printf("fail_nth: run %ld\n", runs);
    if (runs < atol(argv[2])) return 0;
    const char *mode = argv[3];
    if (strcmp(mode, "status") == 0) {
        fprintf(stderr, "fail_nth: FAILED on run %ld\n", runs);
        return 1;
    }
    if (strcmp(mode, "output") == 0) {
        printf("fail_nth: WARNING: leaked 3 objects\n");
        return 0;
    }
    if (strcmp(mode, "hang") == 0) {
        sleep(3600);
        return 0;
    }
    if (strcmp(mode, "signal") == 0) {
        raise(SIGSEGV);
        return 3;
    }
    fprintf(stderr, "fail_nth: unknown mode %s\n", mode);
    return 2;
}
