/*
 * The listen and connect callbacks: a listen callback that sees each
 * caller's handshake version, address family and stream ID, refuses one
 * with its own reason (srt_setrejectreason), and gives another the
 * passphrase it must use (srt_setsockflag on the new socket, whose ID
 * srt_accept then returns); a connect
 * callback told of a failed non-blocking connection. Prints codes only;
 * tests/differential.rs requires the same output from Debian's libsrt and
 * ours.
 */
#include "show.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char secret[] = "0123456789abcdef";

static int hook_calls;
static SRTSOCKET hook_socket; /* the last `ns` the listen callback saw */

static int listen_hook(void* opaque, SRTSOCKET ns, int hsversion, const struct sockaddr* peer,
                       const char* streamid)
{
    ++hook_calls;
    hook_socket = ns;
    printf("listen callback: opaque %d hsversion %d family %d streamid \"%s\"\n",
           *(int*)opaque, hsversion, peer->sa_family, streamid);
    if (strcmp(streamid, "reject") == 0) {
        printf("set reason 5 %d\n", srt_setrejectreason(ns, 5));
        printf("set reason 1403 %d\n", srt_setrejectreason(ns, 1403));
        return -1;
    }
    if (strcmp(streamid, "secret") == 0)
        printf("set passphrase %d\n",
               srt_setsockflag(ns, SRTO_PASSPHRASE, secret, (int)strlen(secret)));
    return 0;
}

static volatile int connect_calls, connect_error, connect_same_socket;
static SRTSOCKET connecting;

static void connect_hook(void* opaque, SRTSOCKET ns, int errorcode, const struct sockaddr* peer,
                         int token)
{
    (void)opaque, (void)peer, (void)token;
    connect_error = errorcode;
    connect_same_socket = ns == connecting;
    ++connect_calls;
}

static void call(struct sockaddr_in* at, const char* sid, const char* pass, SRTSOCKET lsn)
{
    SRTSOCKET c;
    printf("-- caller with stream ID \"%s\"%s\n", sid, pass ? " and the passphrase" : "");
    SHOW_ID(c, srt_create_socket());
    SHOW(srt_setsockflag(c, SRTO_STREAMID, sid, (int)strlen(sid)));
    if (pass)
        SHOW(srt_setsockflag(c, SRTO_PASSPHRASE, pass, (int)strlen(pass)));
    SHOW(srt_connect(c, (struct sockaddr*)at, sizeof *at));
    SHOW(srt_getrejectreason(c));
    if (srt_getsockstate(c) == SRTS_CONNECTED) {
        SRTSOCKET a;
        SHOW_ID(a, srt_accept(lsn, NULL, NULL));
        printf("accepted the socket the callback saw %d\n", a == hook_socket);
        char got[600];
        int len = sizeof got;
        SHOW(srt_getsockflag(a, SRTO_STREAMID, got, &len));
        printf("accepted stream ID \"%s\"\n", got);
        int km = -1;
        len = sizeof km;
        SHOW(srt_getsockflag(a, SRTO_KMSTATE, &km, &len));
        printf("KM state %d\n", km);
        SHOW(srt_close(a));
    }
    SHOW(srt_close(c));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    SHOW(srt_startup());
    struct sockaddr_in at = loopback();

    SRTSOCKET lsn;
    SHOW_ID(lsn, srt_create_socket());
    int opaque = 42;
    SHOW(srt_listen_callback(12345, listen_hook, &opaque));
    SHOW(srt_listen_callback(lsn, listen_hook, &opaque));
    SHOW(srt_bind(lsn, (struct sockaddr*)&at, sizeof at));
    SHOW(srt_listen(lsn, 5));
    int len = sizeof at;
    SHOW(srt_getsockname(lsn, (struct sockaddr*)&at, &len));

    call(&at, "plain", NULL, lsn);
    call(&at, "reject", NULL, lsn);
    call(&at, "secret", NULL, lsn);
    call(&at, "secret", "a wrong passphrase", lsn);
    call(&at, "secret", secret, lsn);
    printf("listen callback calls %d\n", hook_calls);

    printf("-- connect callback\n");
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in silent = at;
    silent.sin_port = 0;
    bind(udp, (struct sockaddr*)&silent, sizeof silent);
    socklen_t slen = sizeof silent;
    getsockname(udp, (struct sockaddr*)&silent, &slen);
    SHOW(srt_connect_callback(12345, connect_hook, NULL));
    SHOW_ID(connecting, srt_create_socket());
    SHOW(srt_connect_callback(connecting, connect_hook, NULL));
    int no = 0, ms = 300;
    SHOW(srt_setsockflag(connecting, SRTO_RCVSYN, &no, sizeof no));
    SHOW(srt_setsockflag(connecting, SRTO_CONNTIMEO, &ms, sizeof ms));
    SHOW(srt_connect(connecting, (struct sockaddr*)&silent, sizeof silent));
    for (int i = 0; i < 50 && !connect_calls; ++i)
        usleep(100 * 1000);
    usleep(200 * 1000);
    printf("connect callback calls %d error %d same socket %d\n", connect_calls, connect_error,
           connect_same_socket);
    SHOW(srt_getrejectreason(connecting));
    SHOW(srt_close(connecting));
    close(udp);

    SHOW(srt_close(lsn));
    SHOW(srt_cleanup());
    return 0;
}
