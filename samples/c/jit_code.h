/* jit_code.h: code written into an anonymous executable mapping, as a JIT compiler's is (no module,
 * no .eh_frame), for the samples that run a loop from there (thr_jit_counter, signal_in_jit). */
#ifndef JIT_CODE_H
#define JIT_CODE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A page holding the n bytes of code, readable and executable; exits with status 1 when it cannot be made. */
static unsigned char *jit_code(const unsigned char *code, size_t n) {
    unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    memcpy(page, code, n);
    if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect");
        exit(1);
    }
    return page;
}
#endif
