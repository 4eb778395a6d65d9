/*
 * srt_listen_callback and srt_connect_callback once the socket listens or
 * is connected: libsrt 1.5.4+ refuses them with SRT_ECONNSOCK (a listen
 * callback set then could miss connections). (Debian's libsrt 1.5.1 takes
 * a late listen callback: tests/differential.rs compares with libsrt
 * 1.5.5 only.)
 */
#include "show.h"

static int listen_hook(void* opaque, SRTSOCKET ns, int hsversion,
                       const struct sockaddr* peer, const char* streamid)
{
    (void)opaque, (void)ns, (void)hsversion, (void)peer, (void)streamid;
    return 0;
}

static void connect_hook(void* opaque, SRTSOCKET ns, int errorcode,
                         const struct sockaddr* peer, int token)
{
    (void)opaque, (void)ns, (void)errorcode, (void)peer, (void)token;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    SRTSOCKET lsn = srt_create_socket();
    struct sockaddr_in sa = loopback();
    SHOW(srt_listen_callback(lsn, listen_hook, NULL));
    SHOW(srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa));
    SHOW(srt_listen_callback(lsn, listen_hook, NULL));
    SHOW(srt_listen(lsn, 5));
    SHOW(srt_listen_callback(lsn, listen_hook, NULL));
    SHOW(srt_connect_callback(lsn, connect_hook, NULL));
    int len = sizeof sa;
    srt_getsockname(lsn, (struct sockaddr*)&sa, &len);
    SRTSOCKET caller = srt_create_socket();
    SHOW(srt_connect_callback(caller, connect_hook, NULL));
    SHOW(srt_connect(caller, (struct sockaddr*)&sa, sizeof sa));
    SHOW(srt_connect_callback(caller, connect_hook, NULL));
    SHOW(srt_listen_callback(caller, listen_hook, NULL));
    SRTSOCKET acc;
    SHOW_ID(acc, srt_accept(lsn, NULL, NULL));
    SHOW(srt_listen_callback(acc, listen_hook, NULL));
    srt_close(acc);
    srt_close(caller);
    srt_close(lsn);
    srt_cleanup();
    return 0;
}
