/*
 * The functions that need no socket: library start/stop, version, clock,
 * error codes and messages, the per-thread last error, rejection reasons,
 * SRT_MSGCTRL defaults, logging configuration, and srt_group_data on a
 * socket ID (the same with and without bonding). Prints one line per result;
 * tests/differential.rs requires the same output from Debian's libsrt and
 * ours.
 */
#include <srt/srt.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void print_last_error(const char* when)
{
    int sys = -12345;
    int code = srt_getlasterror(&sys);
    printf("%s: last error %d errno %d \"%s\" (NULL errno_loc: %d)\n", when, code, sys,
           srt_getlasterror_str(), srt_getlasterror(NULL));
}

/* Prints a call and its int result; one call per statement, so the order
 * of calls is the order written. */
#define SHOW(call)                          \
    do {                                    \
        int result_ = (call);               \
        printf("%s %d\n", #call, result_); \
    } while (0)

static void startup_and_cleanup(void)
{
    /* libsrt's instance counter: 0 when started, 1 when already running;
     * one cleanup too many takes the counter below zero. */
    SHOW(srt_startup());
    SHOW(srt_startup());
    SHOW(srt_cleanup());
    SHOW(srt_cleanup());
    SHOW(srt_cleanup());
    SHOW(srt_startup());
    SHOW(srt_startup());
    SHOW(srt_startup());
}

static void version_and_clock(void)
{
    printf("version 0x%06x (header 0x%06x)\n", srt_getversion(), SRT_VERSION_VALUE);
    printf("clock type %d\n", srt_clock_type());

    int monotonic = 1;
    int64_t prev = srt_time_now();
    for (int i = 0; i < 100000; ++i) {
        int64_t now = srt_time_now();
        if (now < prev)
            monotonic = 0;
        prev = now;
    }
    printf("time monotonic %d\n", monotonic);

    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t mono_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    int64_t diff = srt_time_now() - mono_us;
    /* Bounds wide enough for a loaded CI machine. */
    printf("time is CLOCK_MONOTONIC in us %d\n", diff > -1000000 && diff < 1000000);

    struct timespec pause = {0, 20 * 1000 * 1000};
    int64_t before = srt_time_now();
    nanosleep(&pause, NULL);
    int64_t slept = srt_time_now() - before;
    printf("20 ms sleep measured 20..5000 ms %d\n", slept >= 20000 && slept < 5000000);
}

static void error_messages(void)
{
    for (int major = 0; major <= 8; ++major)
        for (int minor = 0; minor <= 16; ++minor) {
            int code = major * 1000 + minor;
            printf("strerror %d \"%s\"\n", code, srt_strerror(code, 0));
        }
    const int odd[] = {-1, -2, -999, -1000, -1001, -5004, 17, 999, 1006, 100000, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; ++i)
        printf("strerror %d \"%s\"\n", odd[i], srt_strerror(odd[i], 0));
    /* errnoval is ignored */
    printf("strerror with errno \"%s\" \"%s\"\n", srt_strerror(SRT_ECONNLOST, 104),
           srt_strerror(SRT_ESOCKFAIL, -1));
}

static void* other_thread(void* arg)
{
    (void)arg;
    print_last_error("other thread");
    srt_clearlasterror();
    return NULL;
}

static void last_error(void)
{
    print_last_error("start");
    SHOW(srt_group_data(1, NULL, NULL));
    print_last_error("after srt_group_data");

    pthread_t thread;
    pthread_create(&thread, NULL, other_thread, NULL);
    pthread_join(thread, NULL);
    print_last_error("after the other thread cleared its own");

    srt_clearlasterror();
    print_last_error("cleared");

    /* The other group functions answer differently with bonding (ours,
     * libsrt 1.5.5's kit) and without (Debian's): group_api.c. */
}

static void reject_reasons(void)
{
    for (int id = -2; id <= SRT_REJ_E_SIZE + 2; ++id)
        printf("rejectreason %d \"%s\"\n", id, srt_rejectreason_str(id));
    const int odd[] = {999, 1000, 1404, 2000, 2999, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; ++i)
        printf("rejectreason %d \"%s\"\n", odd[i], srt_rejectreason_str(odd[i]));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    for (int id = 0; id < SRT_REJ_E_SIZE; ++id)
        printf("rejectreason_msg %d same %d\n", id,
               strcmp(srt_rejectreason_msg[id], srt_rejectreason_str(id)) == 0);
#pragma GCC diagnostic pop
}

static void print_msgctrl(const char* what, const SRT_MSGCTRL* m)
{
    printf("%s: flags %d msgttl %d inorder %d boundary %d srctime %lld pktseq %d msgno %d "
           "grpdata NULL %d grpdata_size %zu\n",
           what, m->flags, m->msgttl, m->inorder, m->boundary, (long long)m->srctime, m->pktseq,
           m->msgno, m->grpdata == NULL, m->grpdata_size);
}

static void msgctrl(void)
{
    print_msgctrl("srt_msgctrl_default", &srt_msgctrl_default);
    SRT_MSGCTRL m;
    memset(&m, 0x5a, sizeof m);
    srt_msgctrl_init(&m);
    print_msgctrl("srt_msgctrl_init", &m);
}

static int handler_calls;
static void handler(void* opaque, int level, const char* file, int line, const char* area,
                    const char* message)
{
    (void)opaque, (void)level, (void)file, (void)line, (void)area, (void)message;
    ++handler_calls;
}

static void logging(void)
{
    /* Nothing here logs; these only must not fail or crash. */
    srt_setloglevel(LOG_DEBUG);
    srt_addlogfa(SRT_LOGFA_HAICRYPT);
    srt_dellogfa(SRT_LOGFA_HAICRYPT);
    const int areas[] = {SRT_LOGFA_GENERAL, SRT_LOGFA_CONN};
    srt_resetlogfa(areas, 2);
    srt_resetlogfa(NULL, 0);
    srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_EOL);
    srt_setloghandler(&handler_calls, handler);
    srt_setloghandler(NULL, NULL);
    srt_setlogflags(0);
    srt_setloglevel(LOG_NOTICE);
    printf("logging configured\n");
}

int main(void)
{
    startup_and_cleanup();
    version_and_clock();
    error_messages();
    last_error();
    reject_reasons();
    msgctrl();
    logging();
    SHOW(srt_cleanup());
    return 0;
}
