/*
 * srt_accept with a zero or too small *addrlen: libsrt 1.5.4+ fails with
 * SRT_EINVPARAM and leaves the connection queued, so the next call with
 * room for the address returns it. (Debian's libsrt 1.5.1 drops it:
 * tests/differential.rs compares with libsrt 1.5.5 only.)
 */
#include "show.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    SRTSOCKET lsn = srt_create_socket();
    int no = 0;
    SHOW(srt_setsockflag(lsn, SRTO_RCVSYN, &no, sizeof no));
    struct sockaddr_in sa = loopback();
    SHOW(srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa));
    SHOW(srt_listen(lsn, 5));
    int len = sizeof sa;
    srt_getsockname(lsn, (struct sockaddr*)&sa, &len);
    /* Subscribed first, to wait until the listener has the connection queued. */
    int eid = srt_epoll_create();
    int events = SRT_EPOLL_IN;
    srt_epoll_add_usock(eid, lsn, &events);
    SRTSOCKET caller = srt_create_socket();
    SHOW(srt_connect(caller, (struct sockaddr*)&sa, sizeof sa));
    SRTSOCKET ready[1];
    int nready = 1;
    SHOW(srt_epoll_wait(eid, ready, &nready, NULL, NULL, 5000, NULL, NULL, NULL, NULL));
    struct sockaddr_in peer;
    SRTSOCKET acc;
    len = 0;
    SHOW_ID(acc, srt_accept(lsn, (struct sockaddr*)&peer, &len));
    len = (int)sizeof peer - 1;
    SHOW_ID(acc, srt_accept(lsn, (struct sockaddr*)&peer, &len));
    printf("len after refusal %d\n", len);
    len = sizeof peer;
    memset(&peer, 0, sizeof peer);
    SHOW_ID(acc, srt_accept(lsn, (struct sockaddr*)&peer, &len));
    char text[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
    printf("peer len %d family %s address %s\n", len,
           peer.sin_family == AF_INET ? "AF_INET" : "other", text);
    SHOW_ID(acc, srt_accept(lsn, (struct sockaddr*)&peer, &len));
    srt_epoll_release(eid);
    srt_close(caller);
    srt_close(lsn);
    srt_cleanup();
    return 0;
}
