/* heisen_random: a heisenbug that depends on random bytes.
 * It takes one byte from getrandom and "fails" when it is below 64: about one
 * run in four fails, like code that mishandles a rare random value. A replay
 * answers getrandom with the recorded bytes, so the failure comes back. */
#include <stdio.h>
#include <sys/random.h>

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order with stderr, on a pipe too */
    unsigned char b;
    if (getrandom(&b, 1, 0) != 1) { perror("getrandom"); return 2; }
    printf("heisen_random: drew byte %u\n", b);
    if (b < 64) {
        fprintf(stderr, "heisen_random: FAILED: byte %u is below 64\n", b);
        return 1;
    }
    return 0;
}
