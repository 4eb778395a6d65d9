/*
 * SRTO_PACKETFILTER: what srt_setsockflag accepts and refuses (and what it
 * does to SRTO_PAYLOADSIZE), and the negotiation table of caller filter ×
 * listener filter: connected or refused, the reject reason, and the
 * configuration each side reads back once connected. Prints codes and
 * strings only; tests/differential.rs requires the same output from
 * Debian's libsrt and ours.
 */
#include "show.h"

#include <string.h>

static void show_filter(const char* who, SRTSOCKET s)
{
    char buf[128];
    int len = sizeof buf;
    memset(buf, 0, sizeof buf);
    if (srt_getsockflag(s, SRTO_PACKETFILTER, buf, &len) == SRT_ERROR)
        printf("%s filter: error %d\n", who, srt_getlasterror(NULL));
    else
        printf("%s filter: '%.*s' (%d)\n", who, len, buf, len);
    int ps = 0;
    len = sizeof ps;
    srt_getsockflag(s, SRTO_PAYLOADSIZE, &ps, &len);
    printf("%s payloadsize: %d\n", who, ps);
}

static void set_case(const char* text, int payload)
{
    SRTSOCKET s = srt_create_socket();
    if (payload)
        srt_setsockflag(s, SRTO_PAYLOADSIZE, &payload, sizeof payload);
    int r = srt_setsockflag(s, SRTO_PACKETFILTER, text, (int)strlen(text));
    if (r == SRT_ERROR)
        printf("set '%s' (payload %d): -1 error %d\n", text, payload, srt_getlasterror(NULL));
    else
        printf("set '%s' (payload %d): %d\n", text, payload, r);
    show_filter("  socket", s);
    /* A payload size too large for the filter's header is refused after it. */
    int big = 1456;
    SHOW(srt_setsockflag(s, SRTO_PAYLOADSIZE, &big, sizeof big));
    srt_close(s);
}

static void set_filter(SRTSOCKET s, const char* f)
{
    if (f)
        srt_setsockflag(s, SRTO_PACKETFILTER, f, (int)strlen(f));
}

static void connect_case(const char* caller_f, const char* listener_f)
{
    printf("-- caller %s, listener %s\n", caller_f ? caller_f : "none",
           listener_f ? listener_f : "none");
    SRTSOCKET lsn = srt_create_socket();
    set_filter(lsn, listener_f);
    struct sockaddr_in sa = loopback();
    srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa);
    srt_listen(lsn, 5);
    int len = sizeof sa;
    srt_getsockname(lsn, (struct sockaddr*)&sa, &len);

    SRTSOCKET caller = srt_create_socket();
    set_filter(caller, caller_f);
    int timeo = 1500;
    srt_setsockflag(caller, SRTO_CONNTIMEO, &timeo, sizeof timeo);
    int r = srt_connect(caller, (struct sockaddr*)&sa, sizeof sa);
    if (r == SRT_ERROR) {
        printf("connect: -1 error %d reject %d\n", srt_getlasterror(NULL),
               srt_getrejectreason(caller));
    } else {
        printf("connect: ok\n");
        show_filter("caller", caller);
        SRTSOCKET acc = srt_accept(lsn, NULL, NULL);
        if (acc == SRT_ERROR) {
            printf("accept: error %d\n", srt_getlasterror(NULL));
        } else {
            show_filter("accepted", acc);
            srt_close(acc);
        }
    }
    srt_close(caller);
    srt_close(lsn);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    srt_setloglevel(0);
    const char* sets[] = {
        "fec,cols:10,rows:5",
        "fec,cols:10,rows:5,layout:even,arq:never",
        "fec,cols:4,rows:-3,arq:always",
        "fec",
        "fec,rows:5",
        "fec,cols:1",
        "fec,cols:abc",
        "fec,cols:4,rows:0",
        "fec,cols:4,rows:-1",
        "fec,cols:4,layout:odd",
        "fec,cols:4,arq:sometimes",
        "fec,cols:4,depth:2",
        "fec,cols",
        "fec,cols:2:3",
        "xor,cols:4",
        /* "" is left out: Debian's libsrt 1.5.1 crashes on it (ours: SRT_EINVPARAM). */
        "fec,cols:10,rows:5,layout:staircase,arq:onreq,xxxxxxxxxxxxxxxxxxxxxxxx",
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; ++i)
        set_case(sets[i], 0);
    set_case("fec,cols:10,rows:5", 1456);
    set_case("fec,cols:10,rows:5", 1400);

    const char* table[][2] = {
        {NULL, NULL},
        {"fec,cols:10,rows:5,arq:never", NULL},
        {NULL, "fec,cols:10,rows:5"},
        {"fec,cols:10", "fec,cols:10,rows:5"},
        {"fec,rows:5,layout:even", "fec,cols:8"},
        {"fec,cols:10", "fec,cols:8"},
        {"fec,cols:4,arq:always", "fec,cols:4,arq:never"},
        {"fec,cols:10,rows:2", "fec,cols:10,rows:5"},
        {"fec,rows:5", "fec,layout:even"},
        {"fec,rows:5", NULL},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        connect_case(table[i][0], table[i][1]);
    srt_cleanup();
    return 0;
}
