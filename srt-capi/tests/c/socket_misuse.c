/*
 * Misuse of the socket functions: unknown socket IDs, NULL pointers, calls
 * in the wrong state, and timeouts (SRTO_CONNTIMEO against a silent port,
 * SRTO_RCVTIMEO, srt_accept_bond). Prints codes and states only;
 * tests/differential.rs requires the same output from Debian's libsrt and
 * ours. NULL pointers that libsrt 1.5.1 dereferences (a bind or connect
 * address, srt_bstats' output, srt_msgctrl_init's) are left out.
 */
#include "show.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int hook(void* opaque, SRTSOCKET ns, int hsversion, const struct sockaddr* peer,
                const char* streamid)
{
    (void)opaque, (void)ns, (void)hsversion, (void)peer, (void)streamid;
    return 0;
}

static void on_connect(void* opaque, SRTSOCKET ns, int errorcode, const struct sockaddr* peer,
                       int token)
{
    (void)opaque, (void)ns, (void)errorcode, (void)peer, (void)token;
}

static void unknown_sockets(SRTSOCKET u)
{
    struct sockaddr_in sa = loopback();
    struct sockaddr* a = (struct sockaddr*)&sa;
    int len = sizeof sa;
    char buf[1500];
    int v = 0;
    int64_t off = 0;
    SRT_MSGCTRL mc;
    srt_msgctrl_init(&mc);
    SRT_TRACEBSTATS st;
    printf("-- socket %s\n", u == SRT_INVALID_SOCK ? "SRT_INVALID_SOCK" : "unknown");
    SHOW(srt_bind(u, a, sizeof sa));
    SHOW(srt_listen(u, 5));
    SHOW(srt_accept(u, NULL, NULL));
    SHOW(srt_accept_bond(&u, 1, 100));
    SHOW(srt_connect(u, a, sizeof sa));
    SHOW(srt_connect_bind(u, a, a, sizeof sa));
    SHOW(srt_rendezvous(u, a, sizeof sa, a, sizeof sa));
    SHOW(srt_getsockstate(u));
    SHOW(srt_getpeername(u, a, &len));
    SHOW(srt_getsockname(u, a, &len));
    len = sizeof v;
    SHOW(srt_getsockopt(u, 0, SRTO_LATENCY, &v, &len));
    SHOW(srt_setsockopt(u, 0, SRTO_LATENCY, &v, sizeof v));
    SHOW(srt_getsockflag(u, SRTO_RCVSYN, &v, &len));
    SHOW(srt_setsockflag(u, SRTO_RCVSYN, &v, sizeof v));
    SHOW(srt_send(u, "x", 1));
    SHOW(srt_sendmsg(u, "x", 1, -1, 0));
    SHOW(srt_sendmsg2(u, "x", 1, &mc));
    SHOW(srt_recv(u, buf, sizeof buf));
    SHOW(srt_recvmsg(u, buf, sizeof buf));
    SHOW(srt_recvmsg2(u, buf, sizeof buf, &mc));
    SHOW(srt_sendfile(u, "/etc/hostname", &off, 1, 0));
    SHOW(srt_recvfile(u, "/dev/null", &off, 1, 0));
    SHOW(srt_bstats(u, &st, 0));
    SHOW(srt_bistats(u, &st, 0, 1));
    SHOW(srt_getrejectreason(u));
    SHOW(srt_setrejectreason(u, 2000));
    SHOW(srt_listen_callback(u, hook, NULL));
    SHOW(srt_connect_callback(u, on_connect, NULL));
    int eid = srt_epoll_create();
    SHOW(srt_epoll_add_usock(eid, u, NULL));
    SHOW(srt_epoll_update_usock(eid, u, NULL));
    SHOW(srt_epoll_remove_usock(eid, u));
    SHOW(srt_epoll_release(eid));
    SHOW(srt_close(u));
}

static void null_pointers(void)
{
    printf("-- NULL pointers\n");
    SRTSOCKET s;
    SHOW_ID(s, srt_create_socket());
    struct sockaddr_in sa = loopback();
    int len = sizeof sa;
    int v = 0;
    int64_t off = 0;
    SHOW(srt_getsockname(s, NULL, &len));
    SHOW(srt_getsockname(s, (struct sockaddr*)&sa, NULL));
    SHOW(srt_getpeername(s, NULL, &len));
    SHOW(srt_getpeername(s, (struct sockaddr*)&sa, NULL));
    SHOW(srt_getsockflag(s, SRTO_LATENCY, NULL, &len));
    SHOW(srt_getsockflag(s, SRTO_LATENCY, &v, NULL));
    SHOW(srt_setsockflag(s, SRTO_LATENCY, NULL, sizeof v));
    SHOW(srt_sendfile(s, NULL, &off, 1, 0));
    SHOW(srt_sendfile(s, "/etc/hostname", NULL, 1, 0));
    SHOW(srt_recvfile(s, NULL, &off, 1, 0));
    SHOW(srt_recvfile(s, "/dev/null", NULL, 1, 0));
    SHOW(srt_sendfile(s, "/nonexistent/file", &off, 1, 0));
    SHOW(srt_recvfile(s, "/nonexistent/dir/file", &off, 1, 0));
    SHOW(srt_accept_bond(NULL, 0, 100));
    SHOW(srt_accept_bond(&s, 0, 100));
    SHOW(srt_connect_callback(s, NULL, NULL));
    SHOW(srt_recvmsg2(s, NULL, 0, NULL));
    SHOW(srt_sendmsg2(s, "x", 1, NULL));
    SHOW(srt_close(s));
}

static void wrong_states(void)
{
    printf("-- wrong states\n");
    SRTSOCKET s, r;
    struct sockaddr_in sa = loopback();
    struct sockaddr* a = (struct sockaddr*)&sa;
    char buf[1500];
    int64_t off = 0;
    SRT_TRACEBSTATS st;
    SHOW_ID(s, srt_create_socket());
    SHOW(srt_send(s, "x", 1));
    SHOW(srt_recv(s, buf, sizeof buf));
    SHOW(srt_sendfile(s, "/etc/hostname", &off, 1, 0));
    SHOW(srt_bstats(s, &st, 0));
    SHOW(srt_listen(s, 5));
    SHOW(srt_accept(s, NULL, NULL));
    SHOW(srt_getrejectreason(s));
    SHOW(srt_setrejectreason(s, 5));
    SHOW(srt_setrejectreason(s, 1403));
    SHOW(srt_getrejectreason(s));
    SHOW(srt_bind(s, a, sizeof sa));
    SHOW(srt_connect_bind(s, a, a, sizeof sa));
    SHOW(srt_getsockstate(s));
    SHOW(srt_close(s));

    /* Rendezvous sockets neither listen nor connect unbound. */
    SHOW_ID(r, srt_create_socket());
    int yes = 1;
    SHOW(srt_setsockflag(r, SRTO_RENDEZVOUS, &yes, sizeof yes));
    sa.sin_port = htons(9);
    SHOW(srt_connect(r, a, sizeof sa));
    sa.sin_port = 0;
    SHOW(srt_bind(r, a, sizeof sa));
    SHOW(srt_listen(r, 5));
    SHOW(srt_close(r));

    /* Address families. */
    struct sockaddr_in6 six;
    memset(&six, 0, sizeof six);
    six.sin6_family = AF_INET6;
    six.sin6_addr = in6addr_loopback;
    SHOW_ID(r, srt_create_socket());
    SHOW(srt_rendezvous(r, a, sizeof sa, (struct sockaddr*)&six, sizeof six));
    SHOW(srt_connect_bind(r, a, (struct sockaddr*)&six, sizeof six));
    SHOW(srt_getsockstate(r));
    struct sockaddr_un_like {
        unsigned short family;
        char rest[30];
    } other;
    memset(&other, 0, sizeof other);
    other.family = AF_UNIX;
    SHOW(srt_bind(r, (struct sockaddr*)&other, sizeof other));
    SHOW(srt_connect(r, (struct sockaddr*)&other, sizeof other));
    SHOW(srt_close(r));
}

/* srt_bind_acquire with good and bad UDP sockets, srt_connect_debug. */
static void acquire_and_debug_connect(void)
{
    printf("-- bind_acquire, connect_debug\n");
    struct sockaddr_in sa = loopback();
    struct sockaddr* a = (struct sockaddr*)&sa;
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    printf("udp socket %d\n", udp >= 0);
    printf("udp bind %d\n", bind(udp, a, sizeof sa));
    struct sockaddr_in udp_at;
    socklen_t udp_len = sizeof udp_at;
    getsockname(udp, (struct sockaddr*)&udp_at, &udp_len);
    SRTSOCKET s, t;
    SHOW(srt_bind_acquire(12345, udp));
    printf("still open after a refusal %d\n", fcntl(udp, F_GETFD) != -1);
    SHOW_ID(s, srt_create_socket());
    SHOW(srt_bind_acquire(s, udp));
    SHOW(srt_getsockstate(s));
    struct sockaddr_in srt_at;
    int srt_len = sizeof srt_at;
    SHOW(srt_getsockname(s, (struct sockaddr*)&srt_at, &srt_len));
    printf("same port as the UDP socket %d\n", srt_at.sin_port == udp_at.sin_port);
    SHOW(srt_bind_acquire(s, udp));
    printf("still open after a second bind %d\n", fcntl(udp, F_GETFD) != -1);
    SHOW_ID(t, srt_create_socket());
    SHOW(srt_bind_acquire(t, -1));
    SHOW(srt_getsockstate(t));

    /* connect_debug: unknown socket, then a silent port with a forced
     * initial sequence number (blocking, a short CONNTIMEO). */
    sa.sin_port = htons(9);
    SHOW(srt_connect_debug(12345, a, sizeof sa, 1000));
    int ms = 500;
    SHOW(srt_setsockflag(t, SRTO_CONNTIMEO, &ms, sizeof ms));
    SHOW(srt_connect_debug(t, a, sizeof sa, 1000));
    SHOW(srt_getsockstate(t));
    SHOW(srt_close(t));

    /* The acquired socket listens; a caller forces its initial sequence
     * number, which the first message's packet then carries. */
    SRTSOCKET caller, acc;
    SHOW(srt_listen(s, 1));
    SHOW_ID(caller, srt_create_socket());
    SHOW(srt_connect_debug(caller, (struct sockaddr*)&srt_at, sizeof srt_at, 1000));
    SHOW_ID(acc, srt_accept(s, NULL, NULL));
    /* srt_sendmsg2 tells the numbers it gave; a forced message number
     * must be 1 ..= 2^26-1, and later messages count on from it. */
    SRT_MSGCTRL sc;
    srt_msgctrl_init(&sc);
    SHOW(srt_sendmsg2(caller, "first", 5, &sc));
    printf("sent pktseq %d msgno %d srctime set %d\n", sc.pktseq, sc.msgno, sc.srctime != 0);
    sc.msgno = 0;
    SHOW(srt_sendmsg2(caller, "bad", 3, &sc));
    sc.msgno = 1 << 26;
    SHOW(srt_sendmsg2(caller, "bad", 3, &sc));
    sc.msgno = 100;
    sc.srctime = 0; /* not the first message's, written back: it may be too old */
    SHOW(srt_sendmsg2(caller, "forced", 6, &sc));
    printf("sent pktseq %d msgno %d\n", sc.pktseq, sc.msgno);
    sc.msgno = -1;
    sc.srctime = 0;
    SHOW(srt_sendmsg2(caller, "after", 5, &sc));
    printf("sent pktseq %d msgno %d\n", sc.pktseq, sc.msgno);
    char buf[1500]; /* live mode: at least SRTO_PAYLOADSIZE */
    SRT_MSGCTRL mc;
    int wait_ms = 5000; /* a lost message fails the comparison, not hangs */
    SHOW(srt_setsockflag(acc, SRTO_RCVTIMEO, &wait_ms, sizeof wait_ms));
    for (int i = 0; i < 3; i++) {
        srt_msgctrl_init(&mc);
        SHOW(srt_recvmsg2(acc, buf, sizeof buf, &mc));
        printf("pktseq %d msgno %d\n", mc.pktseq, mc.msgno);
    }
    SHOW(srt_close(caller));
    SHOW(srt_close(acc));
    SHOW(srt_close(s));
}

static void timeouts(void)
{
    printf("-- timeouts\n");
    /* A UDP port that never answers. */
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in silent = loopback();
    bind(udp, (struct sockaddr*)&silent, sizeof silent);
    socklen_t slen = sizeof silent;
    getsockname(udp, (struct sockaddr*)&silent, &slen);

    SRTSOCKET c;
    SHOW_ID(c, srt_create_socket());
    int ms = 300;
    SHOW(srt_setsockflag(c, SRTO_CONNTIMEO, &ms, sizeof ms));
    SHOW(srt_connect(c, (struct sockaddr*)&silent, sizeof silent));
    SHOW(srt_getrejectreason(c));
    SHOW(srt_getsockstate(c));
    SHOW(srt_close(c));

    /* Non-blocking: the failure shows as an epoll error. */
    SHOW_ID(c, srt_create_socket());
    int no = 0;
    SHOW(srt_setsockflag(c, SRTO_RCVSYN, &no, sizeof no));
    SHOW(srt_setsockflag(c, SRTO_CONNTIMEO, &ms, sizeof ms));
    int eid = srt_epoll_create();
    int events = SRT_EPOLL_OUT | SRT_EPOLL_ERR;
    SHOW(srt_epoll_add_usock(eid, c, &events));
    SHOW(srt_connect(c, (struct sockaddr*)&silent, sizeof silent));
    SRT_EPOLL_EVENT ready[2];
    SHOW(srt_epoll_uwait(eid, ready, 2, 3000));
    printf("event error %d\n", (ready[0].events & SRT_EPOLL_ERR) != 0);
    SHOW(srt_getrejectreason(c));
    SHOW(srt_getsockstate(c));
    SHOW(srt_close(c));
    SHOW(srt_epoll_release(eid));
    close(udp);

    /* Nothing to accept, nothing to receive. */
    SRTSOCKET lsn, caller, acc;
    struct sockaddr_in sa = loopback();
    SHOW_ID(lsn, srt_create_socket());
    SHOW(srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa));
    SHOW(srt_listen(lsn, 5));
    SHOW(srt_accept_bond(&lsn, 1, 200));
    int len = sizeof sa;
    srt_getsockname(lsn, (struct sockaddr*)&sa, &len);
    SHOW_ID(caller, srt_create_socket());
    SHOW(srt_connect(caller, (struct sockaddr*)&sa, sizeof sa));
    /* (Not srt_accept_bond: libsrt 1.5.1's epoll may miss a connection
     * queued before it subscribed.) */
    SHOW_ID(acc, srt_accept(lsn, NULL, NULL));
    ms = 200;
    SHOW(srt_setsockflag(acc, SRTO_RCVTIMEO, &ms, sizeof ms));
    char buf[1500];
    SHOW(srt_recv(acc, buf, sizeof buf));
    SHOW(srt_setsockflag(acc, SRTO_RCVSYN, &no, sizeof no));
    SHOW(srt_recv(acc, buf, sizeof buf));
    SHOW(srt_setsockflag(lsn, SRTO_RCVSYN, &no, sizeof no));
    SHOW(srt_close(caller));
    SHOW(srt_close(acc));
    SHOW(srt_close(lsn));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    SHOW(srt_startup());
    unknown_sockets(SRT_INVALID_SOCK);
    unknown_sockets(12345);
    null_pointers();
    wrong_states();
    acquire_and_debug_connect();
    timeouts();
    SHOW(srt_cleanup());
    return 0;
}
