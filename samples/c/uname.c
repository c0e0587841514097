/* uname: what a program learns about its machine and itself: uname, sysinfo,
 * getrlimit/prlimit64, getrusage, getcwd, the ids, sched_getaffinity and
 * getcpu.  The values depend on the machine; a replay must print the
 * recorded ones (on another machine too). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "uname: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

static void lim(const char *what, struct rlimit *r) {
    printf("%s -> cur ", what);
    if (r->rlim_cur == RLIM_INFINITY) printf("unlimited"); else printf("%llu", (unsigned long long)r->rlim_cur);
    printf(" max ");
    if (r->rlim_max == RLIM_INFINITY) printf("unlimited"); else printf("%llu", (unsigned long long)r->rlim_max);
    printf("\n");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct utsname u;
    CHECK(uname(&u) == 0);
    printf("uname -> sysname %s nodename %s release %s machine %s\n", u.sysname, u.nodename, u.release, u.machine);
    printf("uname version %s\n", u.version);

    struct sysinfo si;
    CHECK(sysinfo(&si) == 0);
    printf("sysinfo -> uptime %ld totalram %lu freeram %lu procs %u mem_unit %u\n",
           si.uptime, si.totalram, si.freeram, (unsigned)si.procs, si.mem_unit);

    struct rlimit r;
    CHECK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &r) == 0);
    lim("getrlimit RLIMIT_NOFILE", &r);
    CHECK(prlimit(0, RLIMIT_STACK, NULL, &r) == 0);
    lim("prlimit64 RLIMIT_STACK", &r);
    CHECK(prlimit(0, RLIMIT_CORE, NULL, &r) == 0);
    struct rlimit lower = {r.rlim_max < 64 ? r.rlim_max : 64, r.rlim_max};
    struct rlimit old;
    CHECK(prlimit(0, RLIMIT_CORE, &lower, &old) == 0 || errno == EPERM);
    CHECK(prlimit(0, RLIMIT_CORE, NULL, &r) == 0);
    lim("prlimit64 RLIMIT_CORE after setting cur min(64, max)", &r);

    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
    printf("getrusage RUSAGE_SELF -> maxrss %ld kB utime %ld.%06ld minflt %ld\n", ru.ru_maxrss,
           (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec, ru.ru_minflt);

    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    printf("getcwd -> %s\n", cwd);
    errno = 0;
    char tiny[1];
    char *g = getcwd(tiny, sizeof tiny);
    printf("getcwd size 1 -> %s errno %s\n", g ? "ok" : "NULL", strerrorname_np(errno));

    printf("getuid %d getgid %d geteuid %d getegid %d\n", (int)getuid(), (int)getgid(), (int)geteuid(), (int)getegid());
    printf("getpid==getppid: %s\n", getpid() == getppid() ? "yes" : "no");

    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    printf("sched_getaffinity -> %d cpus:", CPU_COUNT(&set));
    for (int i = 0; i < CPU_SETSIZE; i++) if (CPU_ISSET(i, &set)) printf(" %d", i);
    printf("\n");

    unsigned cpu = 99999, node = 99999;
    CHECK(syscall(SYS_getcpu, &cpu, &node, NULL) == 0);
    printf("getcpu -> cpu %u node %u, in the affinity set: %s\n", cpu, node, CPU_ISSET(cpu, &set) ? "yes" : "no");
    return 0;
}
