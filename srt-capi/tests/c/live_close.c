/*
 * A live sender that closes right after its last message, with
 * SRTO_LINGER set: connects to 127.0.0.1:PORT (argv[1]), sends COUNT
 * (argv[2]) numbered 1316-byte messages one per millisecond, then calls
 * srt_close at once. tests/live_close.rs runs it against ours with
 * libsrt's srt-live-transmit as the receiver and checks that every byte
 * arrived (issue 16). Prints what it sent and how long srt_close took.
 */
#include <srt/srt.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 1316

/* Message i: its index (big-endian), then bytes derived from it. */
static void payload(unsigned i, char *m)
{
    m[0] = (char)(i >> 24);
    m[1] = (char)(i >> 16);
    m[2] = (char)(i >> 8);
    m[3] = (char)i;
    for (unsigned k = 4; k < PAYLOAD; k++)
        m[k] = (char)(k * 7u + i * 13u);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, srt_getlasterror_str());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: live_close PORT COUNT\n");
        return 2;
    }
    int port = atoi(argv[1]);
    unsigned count = (unsigned)atoi(argv[2]);
    srt_startup();
    SRTSOCKET s = srt_create_socket();
    struct linger lin = {1, 10};
    if (srt_setsockflag(s, SRTO_LINGER, &lin, sizeof lin) == SRT_ERROR)
        return fail("SRTO_LINGER");
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (srt_connect(s, (struct sockaddr *)&sa, sizeof sa) == SRT_ERROR)
        return fail("srt_connect");
    char m[PAYLOAD];
    for (unsigned i = 0; i < count; i++) {
        payload(i, m);
        if (srt_sendmsg(s, m, PAYLOAD, -1, 0) != PAYLOAD)
            return fail("srt_sendmsg");
        usleep(1000);
    }
    double t = now_ms();
    if (srt_close(s) == SRT_ERROR)
        return fail("srt_close");
    printf("sent %u messages; srt_close took %.0f ms\n", count, now_ms() - t);
    srt_cleanup();
    return 0;
}
