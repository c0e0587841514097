/* family_proc: who the process is and what it may use.  getpid, gettid,
 * getppid, the user and group ids, getgroups, uname, getrlimit, prlimit64,
 * sysinfo, getrusage, getcwd, sched_getaffinity, each output against a
 * guard page (see family.h).  Prints every value. */
#include "family.h"
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

int main(void) {
    family_start();
    printf("getpid %ld gettid %ld getppid %ld\n", syscall(SYS_getpid), syscall(SYS_gettid), syscall(SYS_getppid));
    printf("uid %ld euid %ld gid %ld egid %ld\n", syscall(SYS_getuid), syscall(SYS_geteuid), syscall(SYS_getgid),
           syscall(SYS_getegid));
    long ngroups = syscall(SYS_getgroups, 0, NULL);
    CHECK(ngroups >= 0);
    gid_t *groups = guarded(sizeof(gid_t) * (ngroups > 0 ? ngroups : 1));
    long got = syscall(SYS_getgroups, ngroups, groups);
    printf("getgroups: %ld of %ld:", got, ngroups);
    for (long i = 0; i < got; i++) printf(" %u", groups[i]);
    printf("\n");

    struct utsname *u = guarded(sizeof *u);
    CHECK(syscall(SYS_uname, u) == 0);
    printf("uname: %s %s %s %s %s %s\n", u->sysname, u->nodename, u->release, u->version, u->machine, u->domainname);

    struct rlimit *rl = guarded(sizeof *rl);
    static const int resources[] = {RLIMIT_STACK, RLIMIT_NOFILE, RLIMIT_CORE, RLIMIT_AS, RLIMIT_NPROC};
    for (size_t i = 0; i < sizeof resources / sizeof resources[0]; i++) {
        CHECK(syscall(SYS_getrlimit, resources[i], rl) == 0);
        printf("getrlimit %d: %llu %llu\n", resources[i], (unsigned long long)rl->rlim_cur,
               (unsigned long long)rl->rlim_max);
    }
    struct rlimit64 { unsigned long long cur, max; };
    struct rlimit64 *old = guarded(sizeof *old);
    CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, old) == 0);
    printf("prlimit64 NOFILE: %llu %llu\n", old->cur, old->max);
    struct rlimit64 lower = {old->cur > 64 ? 64 : old->cur, old->max};
    CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &lower, old) == 0);
    CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, old) == 0);
    printf("prlimit64 NOFILE lowered: %llu %llu\n", old->cur, old->max);

    struct sysinfo *si = guarded(sizeof *si);
    CHECK(syscall(SYS_sysinfo, si) == 0);
    printf("sysinfo: uptime %ld loads %lu %lu %lu ram %lu free %lu procs %u unit %u\n", si->uptime, si->loads[0],
           si->loads[1], si->loads[2], si->totalram, si->freeram, si->procs, si->mem_unit);

    struct rusage *ru = guarded(sizeof *ru);
    static const int who[] = {RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD};
    for (size_t i = 0; i < 3; i++) {
        CHECK(syscall(SYS_getrusage, who[i], ru) == 0);
        printf("getrusage %d: utime %ld.%06ld stime %ld.%06ld maxrss %ld minflt %ld nvcsw %ld nivcsw %ld\n", who[i],
               ru->ru_utime.tv_sec, ru->ru_utime.tv_usec, ru->ru_stime.tv_sec, ru->ru_stime.tv_usec, ru->ru_maxrss,
               ru->ru_minflt, ru->ru_nvcsw, ru->ru_nivcsw);
    }

    char *cwd = guarded(4096);
    long len = syscall(SYS_getcwd, cwd, 4096);
    CHECK(len > 0);
    printf("getcwd: %ld %s\n", len, cwd);
    errno = 0;
    char *tiny = guarded(2);
    long small = syscall(SYS_getcwd, tiny, 2);
    printf("getcwd into 2 bytes: %ld errno %d\n", small, errno);

    size_t setsize = 128;
    unsigned char *mask = guarded(setsize);
    long bytes = syscall(SYS_sched_getaffinity, 0, setsize, mask);
    CHECK(bytes > 0);
    hex("sched_getaffinity", mask, (size_t)bytes);
    return 0;
}
