/*
 * The epoll API: containers and their flags (SRT_EPOLL_ENABLE_EMPTY,
 * SRT_EPOLL_ENABLE_OUTPUTCHECK), level- and edge-triggered subscriptions
 * of a connected pair, srt_epoll_wait's arrays and counts, srt_epoll_uwait,
 * updates and removals, a system socket, a broken connection, and misuse.
 * Prints codes and counts only; tests/differential.rs requires the same
 * output from Debian's libsrt and ours.
 */
#include "show.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static SRTSOCKET lsn, caller, acc;

static void connected_pair(void)
{
    struct sockaddr_in sa = loopback();
    SHOW_ID(lsn, srt_create_socket());
    SHOW(srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa));
    SHOW(srt_listen(lsn, 5));
    int len = sizeof sa;
    SHOW(srt_getsockname(lsn, (struct sockaddr*)&sa, &len));
    SHOW_ID(caller, srt_create_socket());
    SHOW(srt_connect(caller, (struct sockaddr*)&sa, sizeof sa));
    SHOW_ID(acc, srt_accept(lsn, NULL, NULL));
}

/* uwait: how many sockets, and the first one's events if it is `who`. */
static void show_uwait(int eid, SRTSOCKET who, int ms)
{
    SRT_EPOLL_EVENT ev[4];
    for (int i = 0; i < 4; ++i)
        ev[i].fd = -1, ev[i].events = 0;
    int n = srt_epoll_uwait(eid, ev, 4, ms);
    if (n == SRT_ERROR)
        printf("uwait -1 error %d\n", srt_getlasterror(NULL));
    else
        printf("uwait %d%s events %d\n", n, n > 0 && ev[0].fd == who ? " (the socket)" : "",
               n > 0 ? ev[0].events : 0);
}

static void send_one(const char* text)
{
    SHOW(srt_send(caller, text, (int)strlen(text)));
}

static void recv_one(void)
{
    char buf[1500];
    SHOW(srt_recv(acc, buf, sizeof buf));
}

static void containers(void)
{
    printf("-- containers\n");
    int eid, r[2], w[2], rn = 2, wn = 2;
    SRT_EPOLL_EVENT ev[2];
    SHOW_ID(eid, srt_epoll_create());
    SHOW(srt_epoll_uwait(eid, ev, 2, 100));
    SHOW(srt_epoll_wait(eid, r, &rn, w, &wn, 100, NULL, NULL, NULL, NULL));
    SHOW(srt_epoll_set(eid, -1));
    SHOW(srt_epoll_set(eid, SRT_EPOLL_ENABLE_EMPTY));
    SHOW(srt_epoll_set(eid, -1));
    SHOW(srt_epoll_uwait(eid, ev, 2, 100));
    rn = wn = 2;
    SHOW(srt_epoll_wait(eid, r, &rn, w, &wn, 100, NULL, NULL, NULL, NULL));
    SHOW(srt_epoll_set(eid, SRT_EPOLL_ENABLE_OUTPUTCHECK));
    SHOW(srt_epoll_set(eid, -1));
    SHOW(srt_epoll_set(eid, 0));
    SHOW(srt_epoll_set(eid, -1));
    SHOW(srt_epoll_uwait(eid, NULL, 2, 100));
    SHOW(srt_epoll_uwait(eid, ev, -1, 100));
    SHOW(srt_epoll_wait(eid, NULL, NULL, NULL, NULL, -1, NULL, NULL, NULL, NULL));
    SHOW(srt_epoll_release(eid));
    SHOW(srt_epoll_release(eid));
    SHOW(srt_epoll_set(eid, -1));
    SHOW(srt_epoll_add_usock(eid, caller, NULL));
    SHOW(srt_epoll_update_usock(eid, caller, NULL));
    SHOW(srt_epoll_remove_usock(eid, caller));
    SHOW(srt_epoll_clear_usocks(eid));
    SHOW(srt_epoll_uwait(eid, ev, 2, 0));
    rn = wn = 2;
    SHOW(srt_epoll_wait(eid, r, &rn, w, &wn, 0, NULL, NULL, NULL, NULL));
    SHOW(srt_epoll_add_ssock(eid, 0, NULL));
    SHOW(srt_epoll_release(-1));
}

static void level_triggered(void)
{
    printf("-- level-triggered\n");
    int eid, in = SRT_EPOLL_IN;
    SHOW_ID(eid, srt_epoll_create());
    SHOW(srt_epoll_add_usock(eid, acc, &in));
    show_uwait(eid, acc, 100);
    send_one("one");
    send_one("two");
    show_uwait(eid, acc, 2000);
    show_uwait(eid, acc, 100);
    recv_one();
    usleep(300 * 1000);
    show_uwait(eid, acc, 100);
    recv_one();
    show_uwait(eid, acc, 100);

    /* srt_epoll_wait: arrays and counts. */
    int out = SRT_EPOLL_OUT;
    SHOW(srt_epoll_add_usock(eid, caller, &out));
    SRTSOCKET r[2], w[2];
    int rn = 2, wn = 2;
    SHOW(srt_epoll_wait(eid, r, &rn, w, &wn, 100, NULL, NULL, NULL, NULL));
    printf("read %d write %d (the caller %d)\n", rn, wn, wn > 0 && w[0] == caller);
    rn = 2;
    SHOW(srt_epoll_wait(eid, r, &rn, NULL, NULL, 100, NULL, NULL, NULL, NULL));
    printf("read %d\n", rn);
    wn = 0;
    SHOW(srt_epoll_wait(eid, NULL, NULL, w, &wn, 100, NULL, NULL, NULL, NULL));
    printf("write %d\n", wn);
    SHOW(srt_epoll_set(eid, SRT_EPOLL_ENABLE_OUTPUTCHECK));
    wn = 2;
    SHOW(srt_epoll_wait(eid, NULL, NULL, w, &wn, 100, NULL, NULL, NULL, NULL));
    rn = wn = 2;
    SHOW(srt_epoll_wait(eid, r, &rn, w, &wn, 100, NULL, NULL, NULL, NULL));
    printf("read %d write %d\n", rn, wn);
    SHOW(srt_epoll_set(eid, 0));
    show_uwait(eid, caller, 100);
    SHOW(srt_epoll_remove_usock(eid, caller));
    SHOW(srt_epoll_remove_usock(eid, caller));
    show_uwait(eid, acc, 100);
    SHOW(srt_epoll_clear_usocks(eid));
    SHOW(srt_epoll_uwait(eid, NULL, 0, 100));
    SHOW(srt_epoll_release(eid));
}

static void edge_triggered(void)
{
    printf("-- edge-triggered\n");
    int eid, in_et = SRT_EPOLL_IN | SRT_EPOLL_ET, et_only = SRT_EPOLL_ET;
    SHOW_ID(eid, srt_epoll_create());
    SHOW(srt_epoll_add_usock(eid, acc, &et_only));
    SHOW(srt_epoll_add_usock(eid, acc, &in_et));
    show_uwait(eid, acc, 100);
    send_one("one");
    show_uwait(eid, acc, 2000);
    show_uwait(eid, acc, 100);
    send_one("two");
    usleep(300 * 1000);
    show_uwait(eid, acc, 100);
    recv_one();
    recv_one();
    send_one("three");
    show_uwait(eid, acc, 2000);
    show_uwait(eid, acc, 100);
    recv_one();

    /* An edge reported by update: the state at subscription counts. */
    int out_et = SRT_EPOLL_OUT | SRT_EPOLL_ET;
    SHOW(srt_epoll_add_usock(eid, caller, &out_et));
    show_uwait(eid, caller, 100);
    show_uwait(eid, caller, 100);
    SHOW(srt_epoll_update_usock(eid, caller, &out_et));
    show_uwait(eid, caller, 100);
    SHOW(srt_epoll_release(eid));
}

static void system_sockets(void)
{
    printf("-- system sockets\n");
    int fds[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, fds);
    int eid, in = SRT_EPOLL_IN, out = SRT_EPOLL_OUT;
    SHOW_ID(eid, srt_epoll_create());
    SHOW(srt_epoll_add_ssock(eid, fds[0], &in));
    SHOW(srt_epoll_add_ssock(eid, fds[0], &in));
    int sys_errno = 0;
    srt_getlasterror(&sys_errno);
    printf("errno EEXIST %d\n", sys_errno == EEXIST);
    int lr[2], lw[2], lrn = 2, lwn = 2;
    SHOW(srt_epoll_wait(eid, NULL, NULL, NULL, NULL, 100, lr, &lrn, lw, &lwn));
    printf("sys read %d write %d\n", lrn, lwn);
    SHOW((int)write(fds[1], "x", 1));
    lrn = lwn = 2;
    SHOW(srt_epoll_wait(eid, NULL, NULL, NULL, NULL, 1000, lr, &lrn, lw, &lwn));
    printf("sys read %d (the socket %d) write %d\n", lrn, lrn > 0 && lr[0] == fds[0], lwn);
    lrn = lwn = 2;
    SHOW(srt_epoll_wait(eid, NULL, NULL, NULL, NULL, 100, lr, &lrn, lw, &lwn));
    SHOW(srt_epoll_update_ssock(eid, fds[0], &out));
    lrn = lwn = 2;
    SHOW(srt_epoll_wait(eid, NULL, NULL, NULL, NULL, 1000, lr, &lrn, lw, &lwn));
    printf("sys read %d write %d\n", lrn, lwn);
    SRT_EPOLL_EVENT ev[2];
    SHOW(srt_epoll_uwait(eid, ev, 2, 100));
    SHOW(srt_epoll_remove_ssock(eid, fds[0]));
    SHOW(srt_epoll_remove_ssock(eid, fds[0]));
    SHOW(srt_epoll_update_ssock(eid, fds[1], &in));
    SHOW(srt_epoll_release(eid));
    close(fds[0]);
    close(fds[1]);
}

/* The caller closes: the accepted socket breaks. libsrt 1.5.1 then also
 * reports the unsubscribed OUT and ERR to an IN-only subscription, and
 * keeps them after an edge-triggered IN was reported. */
static void broken(void)
{
    printf("-- broken\n");
    int lt, et, in = SRT_EPOLL_IN, in_et = SRT_EPOLL_IN | SRT_EPOLL_ET;
    SHOW_ID(lt, srt_epoll_create());
    SHOW_ID(et, srt_epoll_create());
    SHOW(srt_epoll_add_usock(lt, acc, &in));
    SHOW(srt_epoll_add_usock(et, acc, &in_et));
    show_uwait(lt, acc, 100);
    SHOW(srt_close(caller));
    show_uwait(lt, acc, 3000);
    show_uwait(lt, acc, 100);
    show_uwait(et, acc, 100);
    show_uwait(et, acc, 100);
    SRTSOCKET r[2], w[2];
    int rn = 2, wn = 2;
    SHOW(srt_epoll_wait(lt, r, &rn, w, &wn, 100, NULL, NULL, NULL, NULL));
    printf("read %d write %d\n", rn, wn);
    SHOW(srt_getsockstate(acc));
    SHOW(srt_epoll_release(lt));
    SHOW(srt_epoll_release(et));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    SHOW(srt_startup());
    connected_pair();
    containers();
    level_triggered();
    edge_triggered();
    system_sockets();
    broken();
    SHOW(srt_close(acc));
    SHOW(srt_close(lsn));
    SHOW(srt_cleanup());
    return 0;
}
