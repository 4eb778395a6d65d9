/*
 * srt_recvmsg blocked in one thread while another thread closes the same
 * socket: libsrt returns -1 with SRT_ECONNLOST (not SRT_EINVSOCK).
 */
#include "show.h"

#include <pthread.h>
#include <unistd.h>

static SRTSOCKET target;
static int received, error;

/* Printed by main after the join, so that the output's order is fixed. */
static void* receiver(void* arg)
{
    (void)arg;
    char buf[1500];
    received = srt_recvmsg(target, buf, sizeof buf);
    error = received == SRT_ERROR ? srt_getlasterror(NULL) : 0;
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    SRTSOCKET lsn = srt_create_socket();
    struct sockaddr_in sa = loopback();
    SHOW(srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa));
    SHOW(srt_listen(lsn, 5));
    int len = sizeof sa;
    srt_getsockname(lsn, (struct sockaddr*)&sa, &len);
    SRTSOCKET caller = srt_create_socket();
    SHOW(srt_connect(caller, (struct sockaddr*)&sa, sizeof sa));
    SRTSOCKET acc;
    SHOW_ID(acc, srt_accept(lsn, NULL, NULL));
    pthread_t thread;
    target = acc;
    pthread_create(&thread, NULL, receiver, NULL);
    usleep(300 * 1000);
    SHOW(srt_close(acc));
    pthread_join(thread, NULL);
    printf("blocked srt_recvmsg %d error %d\n", received, error);
    srt_close(caller);
    srt_close(lsn);
    srt_cleanup();
    return 0;
}
