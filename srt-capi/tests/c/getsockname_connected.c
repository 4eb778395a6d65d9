/*
 * srt_getsockname on connected and accepted sockets whose listener is
 * bound to a wildcard address: libsrt since 1.5.2 reports the address
 * the connection uses (127.0.0.1, or ::ffff:127.0.0.1 for an IPv4 caller
 * of a listener on :: with SRTO_IPV6ONLY=0), with the bound port; the
 * listener itself keeps its wildcard. (Debian's libsrt 1.5.1 reports the
 * wildcard: tests/differential.rs compares with libsrt 1.5.5 only.)
 */
#include "show.h"

#include <netinet/in.h>

/* Prints the family, address, and whether the port is `port` (or, for
 * port 0, whether it is not 0). */
static void show_name(const char* who, SRTSOCKET s, int port)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (srt_getsockname(s, (struct sockaddr*)&ss, &len) == SRT_ERROR) {
        printf("%s: srt_getsockname -1 error %d\n", who, srt_getlasterror(NULL));
        return;
    }
    char text[INET6_ADDRSTRLEN] = "?";
    int p = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in* a = (struct sockaddr_in*)&ss;
        inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
        p = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6* a = (struct sockaddr_in6*)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
        p = ntohs(a->sin6_port);
    }
    printf("%s: family %s len %d address %s port %s\n", who,
           ss.ss_family == AF_INET ? "AF_INET" : ss.ss_family == AF_INET6 ? "AF_INET6" : "other",
           len, text, port ? (p == port ? "bound" : "other") : (p ? "ephemeral" : "0"));
}

static void run_case(const char* what, int v6)
{
    printf("-- listener on %s\n", what);
    SRTSOCKET lsn = srt_create_socket();
    int no = 0;
    int port;
    if (v6) {
        SHOW(srt_setsockflag(lsn, SRTO_IPV6ONLY, &no, sizeof no));
        struct sockaddr_in6 any;
        memset(&any, 0, sizeof any);
        any.sin6_family = AF_INET6;
        any.sin6_addr = in6addr_any;
        SHOW(srt_bind(lsn, (struct sockaddr*)&any, sizeof any));
        int len = sizeof any;
        srt_getsockname(lsn, (struct sockaddr*)&any, &len);
        port = ntohs(any.sin6_port);
    } else {
        struct sockaddr_in any = loopback();
        any.sin_addr.s_addr = htonl(INADDR_ANY);
        SHOW(srt_bind(lsn, (struct sockaddr*)&any, sizeof any));
        int len = sizeof any;
        srt_getsockname(lsn, (struct sockaddr*)&any, &len);
        port = ntohs(any.sin_port);
    }
    SHOW(srt_listen(lsn, 5));
    struct sockaddr_in to = loopback();
    to.sin_port = htons((uint16_t)port);
    SRTSOCKET caller = srt_create_socket();
    SHOW(srt_connect(caller, (struct sockaddr*)&to, sizeof to));
    SRTSOCKET acc;
    SHOW_ID(acc, srt_accept(lsn, NULL, NULL));
    show_name("listener", lsn, port);
    show_name("caller", caller, 0);
    show_name("accepted", acc, port);
    srt_close(acc);
    srt_close(caller);
    srt_close(lsn);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    run_case("0.0.0.0", 0);
    run_case(":: (SRTO_IPV6ONLY 0)", 1);
    srt_cleanup();
    return 0;
}
