/* signal_in_jit [N [USEC [noguard]]]: a repeating itimer's SIGALRM lands in a loop run from code written into an
 * anonymous executable mapping (a JIT's: no module, no function bounds), until N signals (default 5,
 * every USEC microseconds, default 2000) have come; the loop keeps its turn count in a stack slot, as
 * HotSpot's interpreter keeps a method's locals. Of the loop's instructions only the one at its top
 * (offset 12, 5 bytes, no immediate) can take replay's guard; a signal landing at another is recorded
 * where the recorder stepped the thread to, that top. main prints the turns the loop made and where its
 * code was: a replay must deliver each signal at the recorded turn to print the same count. With
 * "noguard" no instruction of the loop can take a guard: the recorder's stepping finds none and the
 * signal arrives where it ends. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jit_code.h"
#include <sys/time.h>

/* long spin(volatile int *signals, int wanted): turns until *signals >= wanted */
static const unsigned char LOOP[] = {
    0x48, 0x83, 0xec, 0x08,                         /* 0:  sub rsp, 8 */
    0x48, 0xc7, 0x04, 0x24, 0x00, 0x00, 0x00, 0x00, /* 4:  mov qword [rsp], 0 (the turn count) */
    0x48, 0x8b, 0x54, 0x24, 0x08,                   /* 12: mov rdx, [rsp+8] (the top: guardable) */
    0x48, 0x8b, 0x04, 0x24,                         /* 17: mov rax, [rsp] */
    0x48, 0x83, 0xc0, 0x01,                         /* 21: add rax, 1 */
    0x48, 0x89, 0x04, 0x24,                         /* 25: mov [rsp], rax */
    0x31, 0xc0,                                     /* 29: xor eax, eax (the count leaves the registers) */
    0x8b, 0x0f,                                     /* 31: mov ecx, [rdi] */
    0x39, 0xf1,                                     /* 33: cmp ecx, esi */
    0x72, 0xe7,                                     /* 35: jb 12 */
    0x48, 0x8b, 0x04, 0x24,                         /* 37: mov rax, [rsp] */
    0x48, 0x83, 0xc4, 0x08,                         /* 41: add rsp, 8 */
    0xc3,                                           /* 45: ret */
};

/* The same loop with no instruction a guard can take: its top is five one-byte nops ("noguard"). */
static const unsigned char NO_GUARD_LOOP[] = {
    0x48, 0x83, 0xec, 0x08,
    0x48, 0xc7, 0x04, 0x24, 0x00, 0x00, 0x00, 0x00,
    0x90, 0x90, 0x90, 0x90, 0x90,                   /* 12: nop x5 */
    0x48, 0x8b, 0x04, 0x24,
    0x48, 0x83, 0xc0, 0x01,
    0x48, 0x89, 0x04, 0x24,
    0x31, 0xc0,
    0x8b, 0x0f,
    0x39, 0xf1,
    0x72, 0xe7,
    0x48, 0x8b, 0x04, 0x24,
    0x48, 0x83, 0xc4, 0x08,
    0xc3,
};

static volatile int signals;

static void on_alarm(int sig) {
    (void)sig;
    signals++;
}

int main(int argc, char **argv) {
    int wanted = argc > 1 ? atoi(argv[1]) : 5;
    long usec = argc > 2 ? atol(argv[2]) : 2000;
    int no_guard = argc > 3 && strcmp(argv[3], "noguard") == 0;
    unsigned char *code = no_guard ? jit_code(NO_GUARD_LOOP, sizeof NO_GUARD_LOOP) : jit_code(LOOP, sizeof LOOP);
    long (*spin)(volatile int *, int) = (long (*)(volatile int *, int))(void *)code;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval t = {{usec / 1000000, usec % 1000000}, {usec / 1000000, usec % 1000000}};
    setitimer(ITIMER_REAL, &t, NULL);
    long turns = spin(&signals, wanted);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("turns=%ld signals=%d code=%p\n", turns, signals, (void *)code);
    return 0;
}
