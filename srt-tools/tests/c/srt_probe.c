/*
 * srt_probe: a tiny libsrt peer for interop tests. It reports what libsrt
 * itself sees of a connection (the stream ID, the reject reason), which
 * libsrt's own tools do not print.
 *
 *   srt_probe listen     <port> [transtype]        accept one connection, print "streamid=<sid>"
 *   srt_probe call       <port> <sid> [transtype]  connect, print "connected" or "reject=<code>"
 *   srt_probe rendezvous <local port> <remote port> <sid>
 *                                                  print "streamid=<sid>" as libsrt sees it after connecting
 *
 * Loopback (127.0.0.1) only. Exits 0 on success, 1 on failure, 2 on usage.
 */
#include <srt/srt.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    return sa;
}

static SRTSOCKET make_socket(const char *transtype)
{
    SRTSOCKET s = srt_create_socket();
    int tt = (transtype && strcmp(transtype, "file") == 0) ? SRTT_FILE : SRTT_LIVE;
    srt_setsockflag(s, SRTO_TRANSTYPE, &tt, sizeof tt);
    int timeo = 10000;
    srt_setsockflag(s, SRTO_CONNTIMEO, &timeo, sizeof timeo);
    return s;
}

static void print_sid(SRTSOCKET s)
{
    char sid[600];
    int len = sizeof sid;
    if (srt_getsockflag(s, SRTO_STREAMID, sid, &len) != 0)
        len = 0;
    printf("streamid=%.*s\n", len, sid);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    srt_startup();
    srt_setloglevel(2); /* errors only */
    int rc = 1;
    if (strcmp(argv[1], "listen") == 0) {
        SRTSOCKET s = make_socket(argc > 3 ? argv[3] : NULL);
        struct sockaddr_in sa = loopback(atoi(argv[2]));
        if (srt_bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && srt_listen(s, 1) == 0) {
            printf("listening\n");
            fflush(stdout);
            int eid = srt_epoll_create();
            int events = SRT_EPOLL_IN;
            srt_epoll_add_usock(eid, s, &events);
            SRTSOCKET ready[1];
            int n = 1;
            if (srt_epoll_wait(eid, ready, &n, NULL, NULL, 10000, NULL, NULL, NULL, NULL) > 0) {
                SRTSOCKET c = srt_accept(s, NULL, NULL);
                if (c != SRT_INVALID_SOCK) {
                    print_sid(c);
                    srt_close(c);
                    rc = 0;
                }
            }
        }
        srt_close(s);
    } else if (strcmp(argv[1], "call") == 0 && argc >= 4) {
        SRTSOCKET s = make_socket(argc > 4 ? argv[4] : NULL);
        srt_setsockflag(s, SRTO_STREAMID, argv[3], (int)strlen(argv[3]));
        struct sockaddr_in sa = loopback(atoi(argv[2]));
        if (srt_connect(s, (struct sockaddr *)&sa, sizeof sa) == SRT_ERROR) {
            printf("reject=%d\n", srt_getrejectreason(s));
        } else {
            printf("connected\n");
            rc = 0;
        }
        srt_close(s);
    } else if (strcmp(argv[1], "rendezvous") == 0 && argc >= 5) {
        SRTSOCKET s = make_socket(NULL);
        int yes = 1;
        srt_setsockflag(s, SRTO_RENDEZVOUS, &yes, sizeof yes);
        srt_setsockflag(s, SRTO_STREAMID, argv[4], (int)strlen(argv[4]));
        struct sockaddr_in local = loopback(atoi(argv[2]));
        struct sockaddr_in remote = loopback(atoi(argv[3]));
        if (srt_rendezvous(s, (struct sockaddr *)&local, sizeof local,
                           (struct sockaddr *)&remote, sizeof remote) == 0) {
            print_sid(s);
            rc = 0;
        } else {
            printf("reject=%d\n", srt_getrejectreason(s));
        }
        srt_close(s);
    }
    fflush(stdout);
    srt_cleanup();
    return rc;
}
