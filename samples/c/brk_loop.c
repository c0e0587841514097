/* brk_loop: after "started", grows and shrinks the heap with brk(2) until killed. A Ctrl-C to deja
 * record almost surely kills it inside a brk (with DEJA_NO_BUFFER=1: the call buffer makes brk without a
 * stop), a call the replay runs for real: the replay must end it
 * at that call (run, the call would return and its result differ from the recording's none). */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

int main(void) {
    printf("started\n");
    fflush(stdout);
    for (;;) {
        if (sbrk(4096) == (void *)-1) return 1;
        if (sbrk(-4096) == (void *)-1) return 1;
    }
}
