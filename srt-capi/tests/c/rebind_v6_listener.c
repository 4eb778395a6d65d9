/*
 * Binding a port again right after srt_close of a listener on :: with
 * SRTO_IPV6ONLY=0: libsrt releases the UDP port at once, so the second
 * bind with the same options succeeds; with no connection, one served
 * and closed, one accepted and still open, one queued and never accepted.
 * Not compared: a bind right after with other options (:: with
 * SRTO_IPV6ONLY at its default, or 0.0.0.0 or 127.0.0.1 on that port)
 * fails with libsrt 1.5.5 (SRT_EINVPARAM, SRT_EBINDCONFLICT) because its
 * closed listener keeps the multiplexer until its garbage collector runs
 * (about a second later); ours frees it at once and those succeed.
 */
#include "show.h"

#include <netinet/in.h>

static SRTSOCKET dual_stack(void)
{
    SRTSOCKET s = srt_create_socket();
    int no = 0;
    srt_setsockflag(s, SRTO_IPV6ONLY, &no, sizeof no);
    return s;
}

/* mode 0: no connection; 1: one served and closed; 2: one accepted and
 * still open; 3: one queued, never accepted. */
static void run_case(int mode)
{
    static const char* const what[] = {"no connection", "a connection served and closed",
                                       "an accepted connection still open",
                                       "a connection queued, not accepted"};
    printf("-- %s\n", what[mode]);
    struct sockaddr_in6 any;
    memset(&any, 0, sizeof any);
    any.sin6_family = AF_INET6;
    any.sin6_addr = in6addr_any;
    SRTSOCKET lsn = dual_stack();
    SHOW(srt_bind(lsn, (struct sockaddr*)&any, sizeof any));
    SHOW(srt_listen(lsn, 5));
    int len = sizeof any;
    srt_getsockname(lsn, (struct sockaddr*)&any, &len);
    SRTSOCKET caller = SRT_INVALID_SOCK, acc = SRT_INVALID_SOCK;
    if (mode != 0) {
        struct sockaddr_in to = loopback();
        to.sin_port = any.sin6_port;
        caller = srt_create_socket();
        SHOW(srt_connect(caller, (struct sockaddr*)&to, sizeof to));
    }
    if (mode == 1 || mode == 2)
        SHOW_ID(acc, srt_accept(lsn, NULL, NULL));
    if (mode == 1) {
        SHOW(srt_close(caller));
        SHOW(srt_close(acc));
    }
    SHOW(srt_close(lsn));
    SRTSOCKET again = dual_stack();
    SHOW(srt_bind(again, (struct sockaddr*)&any, sizeof any));
    SHOW(srt_listen(again, 5));
    SHOW(srt_close(again));
    if (mode == 2)
        SHOW(srt_close(acc));
    if (mode >= 2)
        SHOW(srt_close(caller));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    for (int mode = 0; mode < 4; mode++)
        run_case(mode);
    srt_cleanup();
    return 0;
}
