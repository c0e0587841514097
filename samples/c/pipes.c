/* pipes: pipe2, poll (with revents), epoll_create1/ctl/wait, eventfd and
 * writev/readv.  Prints fd numbers, byte counts, the bytes moved and the
 * readiness bits the kernel reported. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "pipes: %s:%d: %s: %s\n", \
    __FILE__, __LINE__, #x, strerror(errno)); exit(1); } } while (0)

static void revents(const char *what, short ev) {
    printf("%s -> revents%s%s%s%s\n", what, ev & POLLIN ? " POLLIN" : "", ev & POLLOUT ? " POLLOUT" : "",
           ev & POLLHUP ? " POLLHUP" : "", ev ? "" : " 0");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    printf("pipe2 O_CLOEXEC -> fds %d %d\n", p[0], p[1]);

    /* poll: nothing to read yet, then data, then the write end */
    struct pollfd pf[2] = {{.fd = p[0], .events = POLLIN}, {.fd = p[1], .events = POLLOUT}};
    int r = poll(pf, 1, 0);
    printf("poll empty pipe timeout 0 -> %d\n", r);
    revents("  read end", pf[0].revents);
    CHECK(write(p[1], "ping", 4) == 4);
    r = poll(pf, 2, 1000);
    printf("poll after write -> %d\n", r);
    CHECK(r == 2);
    revents("  read end", pf[0].revents);
    revents("  write end", pf[1].revents);
    char buf[64] = {0};
    ssize_t n = read(p[0], buf, sizeof buf);
    printf("read -> %zd \"%.*s\"\n", n, (int)n, buf);

    /* epoll */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    printf("epoll_create1 -> fd %d\n", ep);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 42};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    printf("epoll_ctl ADD fd %d data 42 -> 0\n", p[0]);
    struct epoll_event out[4];
    memset(out, 0, sizeof out);
    r = epoll_wait(ep, out, 4, 0);
    printf("epoll_wait empty -> %d\n", r);
    CHECK(write(p[1], "pong!", 5) == 5);
    r = epoll_wait(ep, out, 4, 1000);
    CHECK(r == 1);
    printf("epoll_wait -> %d events 0x%x data %llu\n", r, out[0].events, (unsigned long long)out[0].data.u64);
    n = read(p[0], buf, sizeof buf);
    printf("read -> %zd \"%.*s\"\n", n, (int)n, buf);
    errno = 0;
    r = epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    printf("epoll_ctl ADD again -> %d errno %s\n", r, strerrorname_np(errno));

    /* eventfd, in the same epoll set */
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(efd >= 0);
    printf("eventfd -> fd %d\n", efd);
    ev.data.u64 = 7;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0);
    uint64_t v = 5;
    CHECK(write(efd, &v, sizeof v) == sizeof v);
    v = 3;
    CHECK(write(efd, &v, sizeof v) == sizeof v);
    r = epoll_wait(ep, out, 4, 1000);
    printf("epoll_wait eventfd -> %d data %llu\n", r, (unsigned long long)out[0].data.u64);
    v = 0;
    n = read(efd, &v, sizeof v);
    printf("eventfd write 5, write 3, read -> %zd value %llu\n", n, (unsigned long long)v);
    errno = 0;
    n = read(efd, &v, sizeof v);
    printf("eventfd read again -> %zd errno %s\n", n, strerrorname_np(errno));
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL) == 0);

    /* writev three pieces, readv into two buffers */
    char a[] = "gather ", b[] = "and ", c[] = "scatter";
    struct iovec wv[3] = {{a, 7}, {b, 4}, {c, 7}};
    n = writev(p[1], wv, 3);
    printf("writev 7+4+7 -> %zd\n", n);
    char r1[5] = {0}, r2[32] = {0};
    struct iovec rv[2] = {{r1, sizeof r1}, {r2, sizeof r2}};
    n = readv(p[0], rv, 2);
    printf("readv 5+32 -> %zd \"%.5s\" \"%s\"\n", n, r1, r2);

    /* the other end closed */
    CHECK(close(p[1]) == 0);
    pf[0].revents = 0;
    r = poll(pf, 1, 1000);
    printf("poll after close of write end -> %d\n", r);
    revents("  read end", pf[0].revents);
    n = read(p[0], buf, sizeof buf);
    printf("read at eof -> %zd\n", n);
    close(efd); close(ep); close(p[0]);
    printf("pipes: ok\n");
    return 0;
}
