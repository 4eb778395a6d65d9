/*
 * Printing helpers of the differential C programs: a call as written, its
 * result, and the last error when it failed.
 */
#ifndef SRT_CAPI_TEST_SHOW_H
#define SRT_CAPI_TEST_SHOW_H

#include <srt/srt.h>
#include <stdio.h>

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

#endif
