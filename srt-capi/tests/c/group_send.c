/*
 * A caller group that sends (tests/group_interop.rs: run on our
 * libsrt.so into the libsrt 1.5.5 kit's srt-test-live listening with
 * groupconnect=1): group_send TYPE PORT COUNT connects a group of TYPE
 * (1 broadcast, 2 backup) with two members (weights 10 and 1) to
 * 127.0.0.1:PORT and sends COUNT messages of 1316 bytes, message i
 * starting with "msg %08d" of i, one per millisecond. Prints what it did.
 */
#include <srt/srt.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: group_send TYPE PORT COUNT\n");
        return 2;
    }
    int type = atoi(argv[1]), port = atoi(argv[2]), count = atoi(argv[3]);
    srt_startup();
    SRTSOCKET g = srt_create_group((SRT_GROUP_TYPE)type);
    if (g == SRT_INVALID_SOCK) {
        printf("srt_create_group failed: %s\n", srt_getlasterror_str());
        return 1;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    SRT_SOCKGROUPCONFIG members[2];
    for (int i = 0; i < 2; ++i) {
        members[i] = srt_prepare_endpoint(NULL, (struct sockaddr*)&sa, sizeof sa);
        members[i].weight = (uint16_t)(i == 0 ? 10 : 1);
    }
    if (srt_connect_group(g, members, 2) == SRT_ERROR) {
        printf("srt_connect_group failed: %s\n", srt_getlasterror_str());
        return 1;
    }
    /* Both members up before the stream starts. */
    for (int i = 0; i < 300; ++i) {
        SRT_SOCKGROUPDATA d[2];
        size_t n = 2;
        int up = 0;
        if (srt_group_data(g, d, &n) > 0)
            for (size_t k = 0; k < n; ++k)
                up += d[k].sockstate == SRTS_CONNECTED;
        if (up == 2)
            break;
        usleep(10000);
    }
    char msg[1316];
    memset(msg, 'x', sizeof msg);
    int sent = 0;
    for (int i = 0; i < count; ++i) {
        char head[16];
        snprintf(head, sizeof head, "msg %08d", i);
        memcpy(msg, head, 12);
        if (srt_sendmsg2(g, msg, sizeof msg, NULL) == (int)sizeof msg)
            ++sent;
        usleep(1000);
    }
    SRT_SOCKGROUPDATA d[2];
    size_t n = 2;
    srt_group_data(g, d, &n);
    printf("sent %d of %d over %zu members\n", sent, count, n);
    /* The receiver plays out 120 ms later: let it have everything. */
    usleep(1000000);
    srt_close(g);
    srt_cleanup();
    return sent == count ? 0 : 1;
}
