/* thr_jit_counter [N]: two threads run a loop from code written into an anonymous executable
 * mapping, as a JIT compiler's code is (HotSpot's interpreter and compiled methods): no module, no
 * .eh_frame, so replay knows no function bounds there. Each thread makes N turns (default 600000):
 * it adds 1 to a shared counter with a load, an add and a store (no lock: natively increments are
 * lost), then spins 1000 times in an inner loop. As HotSpot's interpreter keeps a method's locals,
 * the loop keeps its turn count in a stack slot, not in a register: at its top, and at each pass of
 * the inner loop's load, the registers are the same at every turn, and only the stack says how far
 * it got. main prints total=<n> and where the code was. A replay must stop each thread at the
 * recorded turn. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jit_code.h"

/* long count(long *counter, long n) */
static const unsigned char LOOP[] = {
    0x48, 0x83, 0xec, 0x08,                         /* 0:  sub rsp, 8 */
    0x48, 0xc7, 0x04, 0x24, 0x00, 0x00, 0x00, 0x00, /* 4:  mov qword [rsp], 0 (the turn count) */
    0x48, 0x8b, 0x87, 0x00, 0x00, 0x00, 0x00,       /* 12: mov rax, [rdi+0] (disp32: 7 bytes; the loop's top) */
    0x48, 0x83, 0xc0, 0x01,                         /* 19: add rax, 1 */
    0x48, 0x89, 0x07,                               /* 23: mov [rdi], rax */
    0x31, 0xc0,                                     /* 26: xor eax, eax */
    0xb9, 0xe8, 0x03, 0x00, 0x00,                   /* 28: mov ecx, 1000 */
    0x48, 0x8b, 0x54, 0x24, 0x08,                   /* 33: mov rdx, [rsp+8] (5 bytes; the inner loop) */
    0xff, 0xc9,                                     /* 38: dec ecx */
    0x75, 0xf7,                                     /* 40: jnz 33 */
    0x48, 0x8b, 0x04, 0x24,                         /* 42: mov rax, [rsp] */
    0x48, 0x83, 0xc0, 0x01,                         /* 46: add rax, 1 */
    0x48, 0x89, 0x04, 0x24,                         /* 50: mov [rsp], rax */
    0x48, 0x39, 0xf0,                               /* 54: cmp rax, rsi */
    0xb8, 0x00, 0x00, 0x00, 0x00,                   /* 57: mov eax, 0 (the count leaves the registers) */
    0x75, 0xcc,                                     /* 62: jne 12 */
    0x48, 0x8b, 0x07,                               /* 64: mov rax, [rdi] */
    0x48, 0x83, 0xc4, 0x08,                         /* 67: add rsp, 8 */
    0xc3,                                           /* 71: ret */
};

static long counter;
static long n = 600000;
static long (*count)(long *, long);

static void *adder(void *arg) {
    (void)arg;
    count(&counter, n);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) n = atol(argv[1]);
    unsigned char *code = jit_code(LOOP, sizeof LOOP);
    count = (long (*)(long *, long))(void *)code;
    pthread_t a, b;
    if (pthread_create(&a, NULL, adder, NULL) != 0 || pthread_create(&b, NULL, adder, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("total=%ld code=%p\n", counter, (void *)code);
    return 0;
}
