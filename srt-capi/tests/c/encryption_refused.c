/*
 * A caller that refuses the listener's answer (enforced encryption: no
 * passphrase facing one, a wrong one, or one facing none) tells the
 * listener's socket with a SHUTDOWN: that socket, made before the caller
 * refused, goes to SRTS_BROKEN and srt_accept still returns it, as in
 * libsrt. The listener's socket is known from the listen callback; its
 * state is read as soon as it is broken (libsrt's collector closes a
 * broken socket within a second). Prints codes only;
 * tests/differential.rs requires the same output from Debian's libsrt
 * and ours.
 */
#include "show.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static SRTSOCKET made = SRT_INVALID_SOCK;

static int listen_hook(void* opaque, SRTSOCKET ns, int hsversion, const struct sockaddr* peer,
                       const char* streamid)
{
    (void)opaque, (void)hsversion, (void)peer, (void)streamid;
    made = ns;
    return 0;
}

static void set_crypto(SRTSOCKET s, const char* pw, int enforced)
{
    if (pw)
        srt_setsockflag(s, SRTO_PASSPHRASE, pw, (int)strlen(pw));
    srt_setsockflag(s, SRTO_ENFORCEDENCRYPTION, &enforced, sizeof enforced);
}

static void run_case(const char* lpw, const char* cpw, int blocking)
{
    printf("-- listener %s, caller %s enforced, %s\n", lpw ? lpw : "none", cpw ? cpw : "none",
           blocking ? "blocking" : "non-blocking");
    made = SRT_INVALID_SOCK;
    SRTSOCKET lsn = srt_create_socket();
    set_crypto(lsn, lpw, 0);
    struct sockaddr_in sa = loopback();
    srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa);
    srt_listen_callback(lsn, listen_hook, NULL);
    srt_listen(lsn, 5);
    int len = sizeof sa;
    srt_getsockname(lsn, (struct sockaddr*)&sa, &len);

    SRTSOCKET caller = srt_create_socket();
    set_crypto(caller, cpw, 1);
    if (!blocking) {
        int no = 0;
        srt_setsockflag(caller, SRTO_RCVSYN, &no, sizeof no);
        int eid = srt_epoll_create();
        int events = SRT_EPOLL_OUT | SRT_EPOLL_ERR;
        srt_epoll_add_usock(eid, caller, &events);
        SHOW(srt_connect(caller, (struct sockaddr*)&sa, sizeof sa));
        SRT_EPOLL_EVENT ready[1];
        printf("epoll %d\n", srt_epoll_uwait(eid, ready, 1, 3000));
        srt_epoll_release(eid);
    } else {
        SHOW(srt_connect(caller, (struct sockaddr*)&sa, sizeof sa));
    }
    printf("caller state %d reject %d\n", (int)srt_getsockstate(caller),
           srt_getrejectreason(caller));
    printf("listener made a socket: %s\n", made == SRT_INVALID_SOCK ? "no" : "yes");
    int waited = 0;
    while (srt_getsockstate(made) < SRTS_BROKEN && waited < 1000) {
        usleep(10000);
        waited += 10;
    }
    printf("its state %d\n", (int)srt_getsockstate(made));
    SRTSOCKET accepted = srt_accept(lsn, NULL, NULL);
    printf("accept returns it: %s, state %d\n", accepted == made ? "yes" : "no",
           (int)srt_getsockstate(accepted));
    srt_close(accepted);
    srt_close(caller);
    srt_close(lsn);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    for (int blocking = 1; blocking >= 0; --blocking) {
        run_case("listener-secret-1", NULL, blocking);
        run_case("listener-secret-1", "caller-wrong-2", blocking);
        run_case(NULL, "listener-secret-1", blocking);
    }
    srt_cleanup();
    return 0;
}
