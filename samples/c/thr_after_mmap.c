/* thr_after_mmap [TURNS]: two threads each map a page (mmap without MAP_FIXED, as malloc's
 * large blocks do) and then count TURNS (default 300000000) down in a loop of their own that
 * touches no other register, so r10 still holds mmap's flags argument when deja record
 * preempts them there. Replay runs such an mmap with MAP_FIXED_NOREPLACE added (to get the
 * recorded address): unless the program's arguments are put back when the call returns, r10
 * differs from the recording and the preemption point is never found. Prints each page's
 * first byte and the turns left (0). */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>

static unsigned long turns = 300000000ul;

static void *count(void *arg) {
    unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return arg;
    unsigned long n = turns;
    __asm__ volatile("1: dec %0\n\tjnz 1b" : "+c"(n) : : "cc");
    page[0] = (unsigned char)(n + 'a');
    *(unsigned long *)arg = n;
    return page;
}

int main(int argc, char **argv) {
    if (argc > 1) sscanf(argv[1], "%lu", &turns);
    unsigned long left[2] = {1, 1};
    pthread_t t[2];
    void *page[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, count, &left[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], &page[i]);
    printf("pages %c %c, turns left %lu %lu\n", ((unsigned char *)page[0])[0], ((unsigned char *)page[1])[0], left[0], left[1]);
    return 0;
}
