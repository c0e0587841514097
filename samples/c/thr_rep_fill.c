/* thr_rep_fill [ROUNDS]: two threads each fill one shared 32 MiB buffer ROUNDS times
 * (default 64) with their own byte, through `rep stosb` (memset's path for large sizes:
 * one instruction that loops, rcx counting down, rdi walking up), with no syscall. Between
 * the halves of each fill a thread looks at every 4096th byte of the second half and
 * counts those the other thread wrote; main prints both counts. Natively the threads run
 * side by side and the counts differ from run to run. Under deja record one runs at a
 * time and is preempted while the other waits; nearly all of its time is inside the
 * instruction, so the recorded points lie between two of its iterations, and what the
 * other thread then sees depends on the iteration: a replay must stop it at that very
 * iteration to print the recorded counts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define SIZE (32ul << 20)
#define HALF (SIZE / 2)

struct filler {
    int byte;
    int other;
    unsigned long seen;
};

static unsigned char *buf;
static int rounds = 64;

static void fill(unsigned char *p, int byte, unsigned long n) {
    __asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(byte) : "memory");
}

static void *run(void *arg) {
    struct filler *f = arg;
    for (int r = 0; r < rounds; r++) {
        fill(buf, f->byte, HALF);
        for (unsigned long i = HALF; i < SIZE; i += 4096) f->seen += buf[i] == f->other;
        fill(buf + HALF, f->byte, HALF);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) rounds = atoi(argv[1]);
    buf = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct filler a = {'a', 'b', 0}, b = {'b', 'a', 0};
    pthread_t ta, tb;
    if (pthread_create(&ta, NULL, run, &a) != 0 || pthread_create(&tb, NULL, run, &b) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    printf("a saw b %lu times, b saw a %lu times\n", a.seen, b.seen);
    return 0;
}
