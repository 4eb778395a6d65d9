/*
 * Helpers of the differential C programs: printing a call as written, its
 * result, and the last error when it failed; the loopback address.
 */
#ifndef SRT_CAPI_TEST_SHOW_H
#define SRT_CAPI_TEST_SHOW_H

#include <srt/srt.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Prints a call's int result, with the last error when it failed. */
#define SHOW(call)                                                               \
    do {                                                                         \
        int result_ = (int)(call);                                               \
        if (result_ == SRT_ERROR)                                                \
            printf("%s -1 error %d\n", #call, srt_getlasterror(NULL));           \
        else                                                                     \
            printf("%s %d\n", #call, result_);                                   \
    } while (0)

/* For calls returning a socket or container ID: "ok" or the error. */
#define SHOW_ID(var, call)                                                       \
    do {                                                                         \
        var = (call);                                                            \
        if (var == SRT_ERROR)                                                    \
            printf("%s -1 error %d\n", #call, srt_getlasterror(NULL));           \
        else                                                                     \
            printf("%s ok\n", #call);                                            \
    } while (0)

/* 127.0.0.1, port 0. */
static inline struct sockaddr_in loopback(void)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    return sa;
}

#endif
