/*
 * A listener that accepts each connection and closes it at once: the
 * caller's blocking srt_connect returns 0 every time, as libsrt's does
 * (the connection was established; it breaks afterwards). Repeated 20
 * times so that a race shows.
 */
#include "show.h"

#include <pthread.h>

#define ROUNDS 20

static void* acceptor(void* arg)
{
    SRTSOCKET lsn = *(SRTSOCKET*)arg;
    for (int i = 0; i < ROUNDS; i++) {
        SRTSOCKET acc = srt_accept(lsn, NULL, NULL);
        if (acc == SRT_INVALID_SOCK)
            break;
        srt_close(acc);
    }
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    SRTSOCKET lsn = srt_create_socket();
    struct sockaddr_in sa = loopback();
    SHOW(srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa));
    SHOW(srt_listen(lsn, ROUNDS));
    int len = sizeof sa;
    srt_getsockname(lsn, (struct sockaddr*)&sa, &len);
    pthread_t thread;
    pthread_create(&thread, NULL, acceptor, &lsn);
    int connected = 0;
    for (int i = 0; i < ROUNDS; i++) {
        SRTSOCKET caller = srt_create_socket();
        int r = srt_connect(caller, (struct sockaddr*)&sa, sizeof sa);
        if (r == 0)
            connected++;
        else
            printf("round %d: srt_connect -1 error %d\n", i, srt_getlasterror(NULL));
        srt_close(caller);
    }
    printf("srt_connect returned 0 in %d of %d rounds\n", connected, ROUNDS);
    srt_close(lsn);
    pthread_join(thread, NULL);
    srt_cleanup();
    return 0;
}
