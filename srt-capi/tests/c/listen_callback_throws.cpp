/*
 * A listen callback written in C++ that throws: libsrt catches the
 * exception and rejects that one connection (as if the callback had
 * returned -1, with SRT_REJX_FALLBACK unless it set a reason); the
 * process goes on and the next connection is accepted.
 * C++ only (throwing from the callback).
 */
#include "show.h"

#include <stdexcept>

static int listen_hook(void* opaque, SRTSOCKET ns, int hsversion,
                       const struct sockaddr* peer, const char* streamid)
{
    (void)opaque, (void)ns, (void)hsversion, (void)peer;
    if (strcmp(streamid, "throw") == 0)
        throw std::runtime_error("refused by exception");
    if (strcmp(streamid, "throw-int") == 0)
        throw 42;
    return 0;
}

static void attempt(const struct sockaddr_in& sa, const char* sid)
{
    printf("-- stream ID %s\n", sid);
    SRTSOCKET caller = srt_create_socket();
    srt_setsockflag(caller, SRTO_STREAMID, sid, (int)strlen(sid));
    SHOW(srt_connect(caller, (const struct sockaddr*)&sa, sizeof sa));
    printf("reject reason %d state %d\n", srt_getrejectreason(caller),
           (int)srt_getsockstate(caller));
    srt_close(caller);
}

int main()
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    SRTSOCKET lsn = srt_create_socket();
    struct sockaddr_in sa = loopback();
    SHOW(srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa));
    SHOW(srt_listen_callback(lsn, listen_hook, NULL));
    SHOW(srt_listen(lsn, 5));
    int len = sizeof sa;
    srt_getsockname(lsn, (struct sockaddr*)&sa, &len);
    attempt(sa, "throw");
    attempt(sa, "throw-int");
    attempt(sa, "welcome");
    srt_close(lsn);
    srt_cleanup();
    return 0;
}
