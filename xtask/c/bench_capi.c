/* bench_capi.c: `cargo xtask bench capi`'s program. Caller(s) and listener
 * in one process, through libsrt's C API only, so that the same source
 * links to Debian's libsrt and to srt-capi's.
 *
 *   bench_capi file MIB                 stream API (SRTT_FILE, srt_send /
 *                                       srt_recv), MIB mebibytes one way
 *   bench_capi live MBPS SECONDS        one live stream of 1316-byte
 *                                       messages paced at MBPS
 *   bench_capi streams N MBPS SECONDS   N live callers to one listener port,
 *                                       MBPS each, received by one thread
 *                                       through one epoll container
 *
 * Prints one line: `result bytes=B seconds=S cpu=C sent=P received=R
 * lost=L`, where seconds is the wall time of the transfer (file: from the
 * first send until the receiver has every byte) and cpu the process's user
 * + system time over the same span (live: stream and drain). Exits 1 with a
 * message on any SRT error.
 */
#define _GNU_SOURCE
#include <srt/srt.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
/* Under `bench capi --callgrind` the live stream's instructions are counted
 * from its start to its end (no-ops when not run under valgrind). */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_ZERO_STATS
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name)
#endif

#define PAYLOAD 1316
#define FILE_CHUNK 65536
/* The longest a live receiver waits for the last packets, seconds. */
#define DRAIN_SECONDS 2.0

static void die(const char *what)
{
    fprintf(stderr, "bench_capi: %s: %s\n", what, srt_getlasterror_str());
    exit(1);
}

static void check(int r, const char *what)
{
    if (r == SRT_ERROR)
        die(what);
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

/* Sleeps until `deadline` (CLOCK_MONOTONIC seconds). */
static void sleep_until(double deadline)
{
    struct timespec t;
    t.tv_sec = (time_t)deadline;
    t.tv_nsec = (long)((deadline - (double)t.tv_sec) * 1e9);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) != 0) {
    }
}

static SRTSOCKET new_socket(int file_mode)
{
    SRTSOCKET s = srt_create_socket();
    if (s == SRT_INVALID_SOCK)
        die("srt_create_socket");
    if (file_mode) {
        int tt = SRTT_FILE;
        check(srt_setsockflag(s, SRTO_TRANSTYPE, &tt, sizeof tt), "SRTO_TRANSTYPE");
    }
    return s;
}

/* A listener on 127.0.0.1, any port; its address in `at`. */
static SRTSOCKET listener(int file_mode, int backlog, struct sockaddr_in *at)
{
    SRTSOCKET l = new_socket(file_mode);
    memset(at, 0, sizeof *at);
    at->sin_family = AF_INET;
    at->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(srt_bind(l, (struct sockaddr *)at, sizeof *at), "srt_bind");
    int len = sizeof *at;
    check(srt_getsockname(l, (struct sockaddr *)at, &len), "srt_getsockname");
    check(srt_listen(l, backlog), "srt_listen");
    return l;
}

static SRTSOCKET caller(int file_mode, const struct sockaddr_in *to)
{
    SRTSOCKET s = new_socket(file_mode);
    check(srt_connect(s, (const struct sockaddr *)to, sizeof *to), "srt_connect");
    return s;
}

/* ---- file ---------------------------------------------------------- */

struct file_rx {
    SRTSOCKET sock;
    uint64_t want;
    uint64_t got;
    double done;
};

static void *file_receiver(void *arg)
{
    struct file_rx *rx = arg;
    static char buf[FILE_CHUNK];
    while (rx->got < rx->want) {
        int n = srt_recv(rx->sock, buf, sizeof buf);
        if (n <= 0)
            die("srt_recv");
        rx->got += (uint64_t)n;
    }
    rx->done = now_seconds();
    return NULL;
}

static void run_file(uint64_t mib)
{
    struct sockaddr_in at;
    SRTSOCKET l = listener(1, 1, &at);
    SRTSOCKET s = caller(1, &at);
    struct sockaddr_storage peer;
    int plen = sizeof peer;
    SRTSOCKET r = srt_accept(l, (struct sockaddr *)&peer, &plen);
    if (r == SRT_INVALID_SOCK)
        die("srt_accept");
    struct file_rx rx = {r, mib << 20, 0, 0.0};
    static char chunk[FILE_CHUNK];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)(i * 7);
    double t0 = now_seconds(), c0 = cpu_seconds();
    pthread_t th;
    pthread_create(&th, NULL, file_receiver, &rx);
    uint64_t sent = 0;
    while (sent < rx.want) {
        uint64_t left = rx.want - sent;
        int n = srt_send(s, chunk, left < sizeof chunk ? (int)left : (int)sizeof chunk);
        if (n <= 0)
            die("srt_send");
        sent += (uint64_t)n;
    }
    pthread_join(th, NULL);
    double c1 = cpu_seconds();
    printf("result bytes=%llu seconds=%.6f cpu=%.6f sent=%llu received=%llu lost=0\n",
           (unsigned long long)rx.got, rx.done - t0, c1 - c0,
           (unsigned long long)sent, (unsigned long long)rx.got);
    fflush(stdout);
    srt_close(s);
    srt_close(r);
    srt_close(l);
}

/* ---- live: one stream or N streams on one listener port ------------ */

struct live_rx {
    SRTSOCKET listener;
    int n;
    SRTSOCKET *socks;
    /* The next message number expected of each stream; messages received. */
    uint64_t *got;
    uint64_t total;
    /* Messages that were malformed or not the next expected (a gap). */
    uint64_t bad;
    /* Streams that broke. */
    uint64_t broken;
    /* Set by the sender once it is done: the total it sent. */
    volatile uint64_t sent_total;
    volatile int sender_done;
    double drained;
};

/* Accepts the N streams, then reads them all through one epoll container
 * until everything sent has come or the drain time passed. */
static void *live_receiver(void *arg)
{
    struct live_rx *rx = arg;
    int eid = srt_epoll_create();
    if (eid < 0)
        die("srt_epoll_create");
    for (int i = 0; i < rx->n; i++) {
        struct sockaddr_storage peer;
        int plen = sizeof peer;
        SRTSOCKET r = srt_accept(rx->listener, (struct sockaddr *)&peer, &plen);
        if (r == SRT_INVALID_SOCK)
            die("srt_accept");
        int no = 0;
        check(srt_setsockflag(r, SRTO_RCVSYN, &no, sizeof no), "SRTO_RCVSYN");
        int ev = SRT_EPOLL_IN;
        check(srt_epoll_add_usock(eid, r, &ev), "srt_epoll_add_usock");
    }
    SRT_EPOLL_EVENT *ready = calloc((size_t)rx->n, sizeof *ready);
    char buf[1500];
    double drain_end = 0.0;
    for (;;) {
        if (rx->sender_done) {
            if (rx->total >= rx->sent_total)
                break;
            if (drain_end == 0.0)
                drain_end = now_seconds() + DRAIN_SECONDS;
            else if (now_seconds() > drain_end)
                break;
        }
        int k = srt_epoll_uwait(eid, ready, rx->n, 50);
        if (k < 0) {
            if (srt_getlasterror(NULL) == SRT_ETIMEOUT)
                continue;
            die("srt_epoll_uwait");
        }
        for (int i = 0; i < k; i++) {
            for (;;) {
                int len = srt_recvmsg(ready[i].fd, buf, sizeof buf);
                if (len == SRT_ERROR) {
                    if (srt_getlasterror(NULL) == SRT_EASYNCRCV)
                        break;
                    /* A broken stream loses the rest: counted, not fatal. */
                    srt_epoll_remove_usock(eid, ready[i].fd);
                    rx->broken++;
                    break;
                }
                uint32_t stream, seq;
                memcpy(&stream, buf, 4);
                memcpy(&seq, buf + 4, 4);
                if (len != PAYLOAD || stream >= (uint32_t)rx->n) {
                    rx->bad++;
                } else {
                    /* Live delivery is in order: a gap is a loss, a step
                     * back a duplicate. */
                    if (seq != rx->got[stream])
                        rx->bad++;
                    rx->got[stream] = (uint64_t)seq + 1;
                }
                rx->total++;
            }
        }
    }
    rx->drained = now_seconds();
    free(ready);
    srt_epoll_release(eid);
    return NULL;
}

static void run_live(int n, double mbps, double seconds)
{
    struct sockaddr_in at;
    SRTSOCKET l = listener(0, n < 64 ? 64 : n, &at);
    struct live_rx rx;
    memset(&rx, 0, sizeof rx);
    rx.listener = l;
    rx.n = n;
    rx.got = calloc((size_t)n, sizeof *rx.got);
    SRTSOCKET *callers = calloc((size_t)n, sizeof *callers);
    pthread_t th;
    pthread_create(&th, NULL, live_receiver, &rx);
    for (int i = 0; i < n; i++)
        callers[i] = caller(0, &at);
    /* Let every connection settle before the clock starts. */
    sleep_until(now_seconds() + 0.5);

    double per_stream = mbps * 1e6 / (PAYLOAD * 8.0); /* messages a second */
    char msg[PAYLOAD];
    memset(msg, 0x47, sizeof msg);
    uint64_t *sent = calloc((size_t)n, sizeof *sent);
    uint64_t sent_total = 0;
    CALLGRIND_ZERO_STATS;
    double t0 = now_seconds(), c0 = cpu_seconds();
    double end = t0 + seconds;
    for (double tick = t0;; tick += 0.001) {
        sleep_until(tick);
        double t = now_seconds();
        if (t >= end)
            break;
        uint64_t due = (uint64_t)((t - t0) * per_stream) + 1;
        for (int i = 0; i < n; i++) {
            while (sent[i] < due) {
                uint32_t stream = (uint32_t)i, seq = (uint32_t)sent[i];
                memcpy(msg, &stream, 4);
                memcpy(msg + 4, &seq, 4);
                if (srt_sendmsg2(callers[i], msg, PAYLOAD, NULL) == SRT_ERROR)
                    die("srt_sendmsg2");
                sent[i]++;
                sent_total++;
            }
        }
    }
    double sent_end = now_seconds();
    rx.sent_total = sent_total;
    __sync_synchronize();
    rx.sender_done = 1;
    pthread_join(th, NULL);
    double c1 = cpu_seconds();
    CALLGRIND_DUMP_STATS_AT("stream");
    printf("result bytes=%llu seconds=%.6f cpu=%.6f sent=%llu received=%llu lost=%llu "
           "bad=%llu broken=%llu\n",
           (unsigned long long)(rx.total * PAYLOAD), sent_end - t0, c1 - c0,
           (unsigned long long)sent_total, (unsigned long long)rx.total,
           (unsigned long long)(sent_total > rx.total ? sent_total - rx.total : 0),
           (unsigned long long)rx.bad, (unsigned long long)rx.broken);
    /* Out before closing: a close that hangs must not lose the figures. */
    fflush(stdout);
    for (int i = 0; i < n; i++)
        srt_close(callers[i]);
    srt_close(l);
    free(sent);
    free(callers);
    free(rx.got);
}

int main(int argc, char **argv)
{
    if (srt_startup() < 0)
        die("srt_startup");
    srt_setloglevel(LOG_CRIT);
    if (argc == 3 && strcmp(argv[1], "file") == 0) {
        run_file(strtoull(argv[2], NULL, 10));
    } else if (argc == 4 && strcmp(argv[1], "live") == 0) {
        run_live(1, atof(argv[2]), atof(argv[3]));
    } else if (argc == 5 && strcmp(argv[1], "streams") == 0) {
        run_live(atoi(argv[2]), atof(argv[3]), atof(argv[4]));
    } else {
        fprintf(stderr, "usage: bench_capi file MIB | live MBPS SECONDS | "
                        "streams N MBPS SECONDS\n");
        return 2;
    }
    srt_cleanup();
    return 0;
}
