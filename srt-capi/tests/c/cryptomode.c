/*
 * SRTO_CRYPTOMODE (libsrt >= 1.5.2 with ENABLE_AEAD_API_PREVIEW): the
 * constants, which values the option takes, and every pair of listener
 * and caller modes (0 auto, 1 AES-CTR, 2 AES-GCM) with the same
 * passphrase: the connect's result, the rejection reason, the KM states,
 * key length and mode each side reads, and one message each way.
 * Built with -DENABLE_AEAD_API_PREVIEW; tests/differential.rs requires
 * the same output from the libsrt 1.5.5 peer kit and ours.
 */
#include "show.h"

#include <string.h>
#include <sys/socket.h>

static const char secret[] = "cryptomode-secret";

static void show_socket(const char* who, SRTSOCKET s)
{
    int rcv = -1, snd = -1, keylen = -1, mode = -1;
    int len = sizeof rcv;
    srt_getsockflag(s, SRTO_RCVKMSTATE, &rcv, &len);
    len = sizeof snd;
    srt_getsockflag(s, SRTO_SNDKMSTATE, &snd, &len);
    len = sizeof keylen;
    srt_getsockflag(s, SRTO_PBKEYLEN, &keylen, &len);
    len = sizeof mode;
    srt_getsockflag(s, SRTO_CRYPTOMODE, &mode, &len);
    printf("  %s: reject %d rcvkm %d sndkm %d pbkeylen %d cryptomode %d\n", who,
           srt_getrejectreason(s), rcv, snd, keylen, mode);
}

/* Sends one message from `from` and prints what `to` receives. */
static void exchange(const char* what, SRTSOCKET from, SRTSOCKET to)
{
    char msg[64], got[1500];
    snprintf(msg, sizeof msg, "message %s", what);
    int sent = srt_sendmsg(from, msg, (int)strlen(msg), -1, 1);
    int n = srt_recvmsg(to, got, sizeof got);
    printf("  %s: sent %d received %d %s\n", what, sent, n,
           n == sent && memcmp(got, msg, (size_t)sent) == 0 ? "same" : "different");
}

static SRTSOCKET secured_socket(int mode)
{
    SRTSOCKET s = srt_create_socket();
    srt_setsockflag(s, SRTO_PASSPHRASE, secret, (int)strlen(secret));
    srt_setsockflag(s, SRTO_CRYPTOMODE, &mode, sizeof mode);
    int timeo = 2000;
    srt_setsockflag(s, SRTO_RCVTIMEO, &timeo, sizeof timeo);
    return s;
}

static void run_case(int lmode, int cmode)
{
    printf("-- listener cryptomode %d, caller cryptomode %d\n", lmode, cmode);
    SRTSOCKET lsn = secured_socket(lmode);
    struct sockaddr_in sa = loopback();
    srt_bind(lsn, (struct sockaddr*)&sa, sizeof sa);
    srt_listen(lsn, 5);
    int len = sizeof sa;
    srt_getsockname(lsn, (struct sockaddr*)&sa, &len);
    SRTSOCKET caller = secured_socket(cmode);
    SHOW(srt_connect(caller, (struct sockaddr*)&sa, sizeof sa));
    show_socket("caller", caller);
    if (srt_getsockstate(caller) == SRTS_CONNECTED) {
        SRTSOCKET accepted = srt_accept(lsn, NULL, NULL);
        show_socket("accepted", accepted);
        exchange("caller to listener", caller, accepted);
        exchange("listener to caller", accepted, caller);
        srt_close(accepted);
    }
    srt_close(caller);
    srt_close(lsn);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    srt_startup();
    printf("SRTO_CRYPTOMODE %d SRT_KM_S_BADCRYPTOMODE %d SRT_REJ_CRYPTO %d SRT_REJ_E_SIZE %d\n",
           SRTO_CRYPTOMODE, SRT_KM_S_BADCRYPTOMODE, SRT_REJ_CRYPTO, SRT_REJ_E_SIZE);

    printf("-- option values\n");
    SRTSOCKET s = srt_create_socket();
    int mode = -1;
    int len = sizeof mode;
    SHOW(srt_getsockflag(s, SRTO_CRYPTOMODE, &mode, &len));
    printf("default %d\n", mode);
    for (int v = -1; v <= 3; ++v)
        SHOW(srt_setsockflag(s, SRTO_CRYPTOMODE, &v, sizeof v));
    int file = SRTT_FILE, gcm = 2;
    SHOW(srt_setsockflag(s, SRTO_TRANSTYPE, &file, sizeof file));
    SHOW(srt_setsockflag(s, SRTO_CRYPTOMODE, &gcm, sizeof gcm));
    srt_close(s);

    for (int lmode = 0; lmode <= 2; ++lmode)
        for (int cmode = 0; cmode <= 2; ++cmode)
            run_case(lmode, cmode);
    srt_cleanup();
    return 0;
}
