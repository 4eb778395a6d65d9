/*
 * Socket groups through the C API (libsrt's bonding API), compared with
 * the libsrt 1.5.5 peer kit: argument and option errors, option objects,
 * srt_prepare_endpoint, srt_accept_bond's timeout; then, for a broadcast
 * and a backup group, a caller group connected with srt_connect_group to
 * two groupconnect=1 listeners (and once to three endpoints, the first
 * one silent), messages sent with srt_sendmsg2 and received on the
 * accepted group with srt_recvmsg2, member states and weights from
 * SRT_MSGCTRL.grpdata and srt_group_data (also with too small an array),
 * srt_groupof, epoll on the group, srt_bstats and srt_close on a group.
 * Members are printed in the order of their targets (by peer port), IDs
 * only as "is a member" or "is a group".
 */
#include "show.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MESSAGES 200

static int is_group(SRTSOCKET s)
{
    return s != SRT_INVALID_SOCK && (s & SRTGROUP_MASK) != 0;
}

static int port_of(const struct sockaddr_storage* ss)
{
    return ntohs(((const struct sockaddr_in*)ss)->sin_port);
}

static int connect_callbacks;
static void on_connect(void* opaque, SRTSOCKET ns, int errorcode, const struct sockaddr* peer,
                       int token)
{
    (void)opaque, (void)ns, (void)peer, (void)token;
    if (errorcode != SRT_SUCCESS)
        __atomic_add_fetch(&connect_callbacks, 1, __ATOMIC_SEQ_CST);
}

/* Answers each member 2 ms late: libsrt 1.5.5's groupConnect can
 * overwrite the state a very fast handshake set and then never use that
 * member (see ARCHITECTURE.md, "Socket groups", Proof). */
static int slow_accept(void* opaque, SRTSOCKET ns, int hsversion, const struct sockaddr* peer,
                       const char* streamid)
{
    (void)opaque, (void)ns, (void)hsversion, (void)peer, (void)streamid;
    usleep(2000);
    return 0;
}

/* A groupconnect=1 listener on 127.0.0.1 (ephemeral port). */
static SRTSOCKET group_listener(int* port)
{
    SRTSOCKET l = srt_create_socket();
    int yes = 1;
    srt_setsockflag(l, SRTO_GROUPCONNECT, &yes, sizeof yes);
    srt_listen_callback(l, slow_accept, NULL);
    struct sockaddr_in sa = loopback();
    srt_bind(l, (struct sockaddr*)&sa, sizeof sa);
    srt_listen(l, 5);
    int len = sizeof sa;
    srt_getsockname(l, (struct sockaddr*)&sa, &len);
    *port = ntohs(sa.sin_port);
    return l;
}

/* srt_accept_bond in a thread started before the connect: libsrt's
 * epoll reports a listener only from its next change. */
static SRTSOCKET bond_listeners[2];
static SRTSOCKET bond_accepted;
static void* accept_thread(void* arg)
{
    (void)arg;
    bond_accepted = srt_accept_bond(bond_listeners, 2, 5000);
    if (bond_accepted == SRT_INVALID_SOCK)
        printf("srt_accept_bond error %d\n", srt_getlasterror(NULL));
    return NULL;
}

/* Members by target. `states`: print the member states too (a backup
 * group's idle active member, long after its last send, is left out: see
 * ARCHITECTURE.md); a failed member's socket state is not printed
 * (libsrt keeps the one it had when it last looked). */
static void print_members(const char* what, const SRT_SOCKGROUPDATA* d, size_t n,
                          const int* ports, int nports, int states)
{
    for (int p = 0; p < nports; ++p) {
        for (size_t i = 0; i < n; ++i) {
            if (port_of(&d[i].peeraddr) != ports[p])
                continue;
            printf("%s: target %d weight %d result %d", what, p, d[i].weight, d[i].result);
            if (d[i].result == 0)
                printf(" sockstate %d", d[i].sockstate);
            if (states || d[i].result != 0)
                printf(" memberstate %d", d[i].memberstate);
            printf("\n");
        }
    }
}

static void errors(void)
{
    SRTSOCKET s = srt_create_socket();
    SRTSOCKET g = srt_create_group(SRT_GTYPE_BROADCAST);
    printf("srt_create_group(BROADCAST) is group %d\n", is_group(g));
    SRTSOCKET b = srt_create_group(SRT_GTYPE_BACKUP);
    printf("srt_create_group(BACKUP) is group %d\n", is_group(b));

    struct sockaddr_in peer = loopback();
    peer.sin_port = htons(9);
    SRT_SOCKGROUPCONFIG c = srt_prepare_endpoint(NULL, (struct sockaddr*)&peer, sizeof peer);
    printf("srt_prepare_endpoint: id %d token %d weight %d config NULL %d errorcode %d "
           "src family %d\n",
           c.id, c.token, c.weight, c.config == NULL, c.errorcode, c.srcaddr.ss_family);
    SHOW(srt_connect_group(s, &c, 1));
    SHOW(srt_connect_group(g, &c, 0));
    SHOW(srt_connect_group(g, NULL, 0));
    SRT_SOCKGROUPCONFIG mixed = c;
    mixed.srcaddr.ss_family = AF_INET6;
    SHOW(srt_connect_group(g, &mixed, 1));
    SRT_SOCKGROUPCONFIG heavy = c;
    heavy.weight = 40000;
    SHOW(srt_connect_group(g, &heavy, 1));
    SHOW(srt_groupof(s));
    SHOW(srt_groupof(g));
    size_t n = 7;
    SHOW(srt_group_data(s, NULL, &n));
    SHOW(srt_group_data(g, NULL, NULL));
    SHOW(srt_group_data(g, NULL, &n));
    printf("members %zu\n", n);

    int v = -1, len = sizeof v;
    SHOW(srt_getsockflag(g, SRTO_GROUPTYPE, &v, &len));
    printf("SRTO_GROUPTYPE of the broadcast group %d\n", v);
    len = sizeof v;
    SHOW(srt_getsockflag(b, SRTO_GROUPTYPE, &v, &len));
    printf("SRTO_GROUPTYPE of the backup group %d\n", v);
    len = sizeof v;
    SHOW(srt_getsockflag(s, SRTO_GROUPTYPE, &v, &len));
    printf("SRTO_GROUPTYPE of a socket %d\n", v);
    v = 2;
    SHOW(srt_setsockflag(g, SRTO_GROUPTYPE, &v, sizeof v));
    v = 50;
    SHOW(srt_setsockflag(b, SRTO_GROUPMINSTABLETIMEO, &v, sizeof v));
    v = 6000;
    SHOW(srt_setsockflag(b, SRTO_GROUPMINSTABLETIMEO, &v, sizeof v));
    v = SRTT_FILE;
    SHOW(srt_setsockflag(g, SRTO_TRANSTYPE, &v, sizeof v));
    v = 1;
    SHOW(srt_setsockflag(g, SRTO_GROUPCONNECT, &v, sizeof v));
    SHOW(srt_setsockflag(g, SRTO_RENDEZVOUS, &v, sizeof v));
    v = 200;
    SHOW(srt_setsockflag(g, SRTO_LATENCY, &v, sizeof v));
    v = 100;
    SHOW(srt_setsockflag(b, SRTO_GROUPMINSTABLETIMEO, &v, sizeof v));
    len = sizeof v;
    SHOW(srt_getsockflag(b, SRTO_GROUPMINSTABLETIMEO, &v, &len));
    printf("SRTO_GROUPMINSTABLETIMEO %d\n", v);
    v = 1;
    SHOW(srt_setsockflag(s, SRTO_GROUPCONNECT, &v, sizeof v));
    len = sizeof v;
    SHOW(srt_getsockflag(s, SRTO_GROUPCONNECT, &v, &len));
    printf("SRTO_GROUPCONNECT %d\n", v);

    SRT_SOCKOPT_CONFIG* config = srt_create_config();
    printf("srt_create_config NULL %d\n", config == NULL);
    srt_clearlasterror();
    int timeo = 1000;
    SHOW(srt_config_add(NULL, SRTO_CONNTIMEO, &timeo, sizeof timeo));
    SHOW(srt_config_add(config, SRTO_LATENCY, &timeo, sizeof timeo));
    SHOW(srt_config_add(config, SRTO_CONNTIMEO, &timeo, sizeof timeo));
    printf("last error after srt_config_add %d\n", srt_getlasterror(NULL));
    srt_delete_config(config);

    /* accept_bond: nothing comes within 100 ms. */
    int port;
    SRTSOCKET l = group_listener(&port);
    SRTSOCKET ls[1] = {l};
    SHOW(srt_accept_bond(ls, 1, 100));
    SHOW(srt_close(l));
    SHOW(srt_close(g));
    SHOW(srt_close(b));
    SHOW(srt_close(s));
    SHOW(srt_getsockstate(g));
}

/* Waits up to 3 s until `want` members of `g` are connected. */
static void wait_connected(SRTSOCKET g, int want)
{
    for (int i = 0; i < 300; ++i) {
        SRT_SOCKGROUPDATA d[4];
        size_t n = 4;
        int connected = 0;
        if (srt_group_data(g, d, &n) > 0)
            for (size_t k = 0; k < n; ++k)
                connected += d[k].sockstate == SRTS_CONNECTED;
        if (connected >= want)
            return;
        usleep(10000);
    }
    printf("only some members connected\n");
}

static void transfer(SRT_GROUP_TYPE type, int silent_first)
{
    const char* name = type == SRT_GTYPE_BROADCAST ? "broadcast" : "backup";
    printf("--- %s, %d endpoints\n", name, silent_first ? 3 : 2);
    int ports[3];
    SRTSOCKET ls[2];
    int nports = 0;
    int silent = -1;
    if (silent_first) {
        /* A UDP socket that never answers. */
        silent = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in sa = loopback();
        bind(silent, (struct sockaddr*)&sa, sizeof sa);
        socklen_t len = sizeof sa;
        getsockname(silent, (struct sockaddr*)&sa, &len);
        ports[nports++] = ntohs(sa.sin_port);
    }
    for (int i = 0; i < 2; ++i)
        ls[i] = group_listener(&ports[nports++]);

    SRTSOCKET g = srt_create_group(type);
    SHOW(srt_connect_callback(g, on_connect, NULL));
    SRT_SOCKGROUPCONFIG targets[3];
    for (int i = 0; i < nports; ++i) {
        struct sockaddr_in sa = loopback();
        sa.sin_port = htons(ports[i]);
        targets[i] = srt_prepare_endpoint(NULL, (struct sockaddr*)&sa, sizeof sa);
        targets[i].weight = (uint16_t)(i == nports - 2 ? 10 : 1);
    }
    SRT_SOCKOPT_CONFIG* config = srt_create_config();
    int timeo = 1000;
    srt_config_add(config, SRTO_CONNTIMEO, &timeo, sizeof timeo);
    if (silent_first)
        targets[0].config = config;
    bond_listeners[0] = ls[0];
    bond_listeners[1] = ls[1];
    pthread_t acceptor;
    pthread_create(&acceptor, NULL, accept_thread, NULL);
    usleep(100000);
    SRTSOCKET first = srt_connect_group(g, targets, nports);
    int member = 0;
    for (int i = 0; i < nports; ++i) {
        member |= first == targets[i].id;
        printf("target %d: id set %d errorcode %d token set %d\n", i, targets[i].id > 0,
               targets[i].errorcode, targets[i].token != -1);
    }
    printf("srt_connect_group returned a member %d\n", member);
    srt_delete_config(config);
    printf("srt_groupof(first) is the group %d\n", srt_groupof(first) == g);
    int v, len;
    printf("group state %d\n", srt_getsockstate(g));
    /* Connected: only what a connected socket may change, on every member. */
    v = 300;
    SHOW(srt_setsockflag(g, SRTO_LATENCY, &v, sizeof v));
    int64_t maxbw = 50000000;
    SHOW(srt_setsockflag(g, SRTO_MAXBW, &maxbw, sizeof maxbw));
    int64_t got_bw = 0;
    len = sizeof got_bw;
    SHOW(srt_getsockflag(first, SRTO_MAXBW, &got_bw, &len));
    printf("a member's SRTO_MAXBW %lld\n", (long long)got_bw);

    pthread_join(acceptor, NULL);
    SRTSOCKET ag = bond_accepted;
    printf("accepted is a group %d\n", is_group(ag));
    v = -1, len = sizeof v;
    SHOW(srt_getsockflag(ag, SRTO_GROUPTYPE, &v, &len));
    printf("accepted SRTO_GROUPTYPE %d\n", v);
    wait_connected(g, 2);
    wait_connected(ag, 2);

    int eid = srt_epoll_create();
    int in = SRT_EPOLL_IN;
    srt_epoll_add_usock(eid, ag, &in);

    SRT_SOCKGROUPDATA gd[3];
    char msg[1316];
    memset(msg, 0, sizeof msg);
    int sent = 0;
    for (int i = 0; i < MESSAGES; ++i) {
        memcpy(msg, &i, sizeof i);
        SRT_MSGCTRL mc = srt_msgctrl_default;
        mc.grpdata = gd;
        mc.grpdata_size = 3;
        if (srt_sendmsg2(g, msg, sizeof msg, &mc) == (int)sizeof msg)
            ++sent;
        if (i == MESSAGES - 1) {
            printf("sendmsg2 grpdata NULL %d grpdata_size %zu\n", mc.grpdata == NULL,
                   mc.grpdata_size);
            print_members("sent", gd, mc.grpdata_size, ports, nports, 1);
        }
        usleep(1000);
    }
    printf("sent %d\n", sent);
    /* Too small an array: NULL, with the member count. */
    SRT_MSGCTRL small = srt_msgctrl_default;
    small.grpdata = gd;
    small.grpdata_size = 1;
    SHOW(srt_sendmsg2(g, msg, sizeof msg, &small));
    printf("small: grpdata NULL %d grpdata_size %zu\n", small.grpdata == NULL,
           small.grpdata_size);

    SRTSOCKET ready[2];
    int rn = 2;
    SHOW(srt_epoll_wait(eid, ready, &rn, NULL, NULL, 3000, NULL, NULL, NULL, NULL));
    printf("ready is the accepted group %d\n", ready[0] == ag);

    int got = 0, in_order = 1, expect = 0;
    char buf[1500];
    int timeout = 1000;
    srt_setsockflag(ag, SRTO_RCVTIMEO, &timeout, sizeof timeout);
    for (;;) {
        SRT_MSGCTRL mc = srt_msgctrl_default;
        mc.grpdata = gd;
        mc.grpdata_size = 3;
        int r = srt_recvmsg2(ag, buf, sizeof buf, &mc);
        if (r < 0)
            break;
        int idx;
        memcpy(&idx, buf, sizeof idx);
        in_order &= idx == expect;
        expect = idx + 1;
        ++got;
        if (got == MESSAGES) {
            printf("recvmsg2 grpdata NULL %d grpdata_size %zu\n", mc.grpdata == NULL,
                   mc.grpdata_size);
            SRT_MSGCTRL tiny = srt_msgctrl_default;
            tiny.grpdata = gd;
            tiny.grpdata_size = 1;
            r = srt_recvmsg2(ag, buf, sizeof buf, &tiny);
            printf("tiny: result %d grpdata NULL %d grpdata_size %zu error %d\n", r,
                   tiny.grpdata == NULL, tiny.grpdata_size, srt_getlasterror(NULL));
            if (r > 0)
                ++got;
        }
    }
    printf("received %d in order %d, then error %d\n", got, in_order, srt_getlasterror(NULL));
    size_t n = 1;
    SHOW(srt_group_data(g, gd, &n));
    printf("members %zu\n", n);
    n = 3;
    SHOW(srt_group_data(g, gd, &n));
    print_members("caller", gd, n, ports, nports, type == SRT_GTYPE_BROADCAST);

    SRT_TRACEBSTATS st;
    SHOW(srt_bstats(g, &st, 0));
    printf("group stats: sent unique %lld\n", (long long)st.pktSentUnique);
    SHOW(srt_bstats(ag, &st, 0));
    printf("accepted group stats: received unique %lld\n", (long long)st.pktRecvUnique);

    srt_epoll_release(eid);
    SHOW(srt_close(g));
    printf("group state after close %d\n", srt_getsockstate(g));
    printf("member closed %d\n", srt_getsockstate(first) >= SRTS_CLOSED);
    SHOW(srt_close(ag));
    for (int i = 0; i < 2; ++i)
        srt_close(ls[i]);
    if (silent >= 0)
        close(silent);
}

int main(void)
{
    srt_startup();
    errors();
    transfer(SRT_GTYPE_BROADCAST, 0);
    transfer(SRT_GTYPE_BACKUP, 0);
    transfer(SRT_GTYPE_BROADCAST, 1);
    transfer(SRT_GTYPE_BACKUP, 1);
    printf("connect callbacks for failed members %d\n", connect_callbacks);
    srt_cleanup();
    return 0;
}
