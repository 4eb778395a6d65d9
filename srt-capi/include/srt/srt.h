/*
 * srt-capi: the C API of libsrt 1.5 (names, values and struct layouts of
 * libsrt 1.5.1), implemented in Rust on the srt-proto engine.
 * SPDX-License-Identifier: MPL-2.0
 */
#ifndef INC_SRTC_H
#define INC_SRTC_H

#include "version.h"
#include "platform_sys.h"

#include <string.h>
#include <stdlib.h>

#include "logging_api.h"

/* ---- Attributes -------------------------------------------------------- */

#define SRT_API __attribute__((visibility("default")))

/* SRTO_MINVERSION value of the first HSv5 version (1.3.0). */
#define SRT_VERSION_FEAT_HSv5 0x010300

#if defined(__cplusplus) && __cplusplus > 201406
#define SRT_HAVE_CXX17 1
#else
#define SRT_HAVE_CXX17 0
#endif

#if SRT_HAVE_CXX17
#define SRT_ATR_UNUSED [[maybe_unused]]
#define SRT_ATR_NODISCARD [[nodiscard]]
#elif defined(__GNUC__)
#define SRT_ATR_UNUSED __attribute__((unused))
#define SRT_ATR_NODISCARD __attribute__((warn_unused_result))
#else
#define SRT_ATR_UNUSED
#define SRT_ATR_NODISCARD
#endif

/* Deprecation: SRT_ATR_DEPRECATED_PX goes before a declaration,
 * SRT_ATR_DEPRECATED after it. SRT_NO_DEPRECATED silences both. */
#if defined(SRT_NO_DEPRECATED)
#define SRT_ATR_DEPRECATED
#define SRT_ATR_DEPRECATED_PX
#elif SRT_HAVE_CXX17
#define SRT_ATR_DEPRECATED
#define SRT_ATR_DEPRECATED_PX [[deprecated]]
#elif defined(__GNUC__)
#define SRT_ATR_DEPRECATED_PX
#define SRT_ATR_DEPRECATED __attribute__((deprecated))
#else
#define SRT_ATR_DEPRECATED_PX
#define SRT_ATR_DEPRECATED
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Sockets ------------------------------------------------------------- */

/* An SRT socket or socket group ID; never negative when valid. */
typedef int32_t SRTSOCKET;

/* Bit 30 of an SRTSOCKET marks a socket group. */
static const int32_t SRTGROUP_MASK = (1 << 30);

/* A system (UDP) socket descriptor. */
typedef int SYSSOCKET;
typedef SYSSOCKET UDPSOCKET;

#ifndef ENABLE_BONDING
#define ENABLE_BONDING 0
#endif

/* srt_getsockstate() */
typedef enum SRT_SOCKSTATUS {
    SRTS_INIT = 1,
    SRTS_OPENED = 2,
    SRTS_LISTENING = 3,
    SRTS_CONNECTING = 4,
    SRTS_CONNECTED = 5,
    SRTS_BROKEN = 6,
    SRTS_CLOSING = 7,
    SRTS_CLOSED = 8,
    SRTS_NONEXIST = 9
} SRT_SOCKSTATUS;

/* Socket options (see the socket options reference for each). */
typedef enum SRT_SOCKOPT {
    SRTO_MSS = 0,
    SRTO_SNDSYN = 1,
    SRTO_RCVSYN = 2,
    SRTO_ISN = 3,
    SRTO_FC = 4,
    SRTO_SNDBUF = 5,
    SRTO_RCVBUF = 6,
    SRTO_LINGER = 7,
    SRTO_UDP_SNDBUF = 8,
    SRTO_UDP_RCVBUF = 9,
    /* 10 and 11 unused */
    SRTO_RENDEZVOUS = 12,
    SRTO_SNDTIMEO = 13,
    SRTO_RCVTIMEO = 14,
    SRTO_REUSEADDR = 15,
    SRTO_MAXBW = 16,
    SRTO_STATE = 17,
    SRTO_EVENT = 18,
    SRTO_SNDDATA = 19,
    SRTO_RCVDATA = 20,
    SRTO_SENDER = 21,
    SRTO_TSBPDMODE = 22,
    SRTO_LATENCY = 23,
    SRTO_INPUTBW = 24,
    SRTO_OHEADBW = 25,
    SRTO_PASSPHRASE = 26,
    SRTO_PBKEYLEN = 27,
    SRTO_KMSTATE = 28,
    SRTO_IPTTL = 29,
    SRTO_IPTOS = 30,
    SRTO_TLPKTDROP = 31,
    SRTO_SNDDROPDELAY = 32,
    SRTO_NAKREPORT = 33,
    SRTO_VERSION = 34,
    SRTO_PEERVERSION = 35,
    SRTO_CONNTIMEO = 36,
    SRTO_DRIFTTRACER = 37,
    SRTO_MININPUTBW = 38,
    /* 39 unused */
    SRTO_SNDKMSTATE = 40,
    SRTO_RCVKMSTATE = 41,
    SRTO_LOSSMAXTTL = 42,
    SRTO_RCVLATENCY = 43,
    SRTO_PEERLATENCY = 44,
    SRTO_MINVERSION = 45,
    SRTO_STREAMID = 46,
    SRTO_CONGESTION = 47,
    SRTO_MESSAGEAPI = 48,
    SRTO_PAYLOADSIZE = 49,
    SRTO_TRANSTYPE = 50,
    SRTO_KMREFRESHRATE = 51,
    SRTO_KMPREANNOUNCE = 52,
    SRTO_ENFORCEDENCRYPTION = 53,
    SRTO_IPV6ONLY = 54,
    SRTO_PEERIDLETIMEO = 55,
    SRTO_BINDTODEVICE = 56,
    SRTO_GROUPCONNECT = 57,
    SRTO_GROUPMINSTABLETIMEO = 58,
    SRTO_GROUPTYPE = 59,
    SRTO_PACKETFILTER = 60,
    SRTO_RETRANSMITALGO = 61,
#ifdef ENABLE_AEAD_API_PREVIEW
    SRTO_CRYPTOMODE = 62, /* cipher: 0 auto, 1 AES-CTR, 2 AES-GCM (libsrt >= 1.5.2) */
#endif

    SRTO_E_SIZE /* one past the last option */
} SRT_SOCKOPT;

/* Deprecated option names (none at present) are made with
 * SRT_DEPRECATED_OPTION(value), which warns where used. */
#ifdef __cplusplus
#if __cplusplus > 199711L
#define SRT_DEPRECATED_OPTION(value) ((SRT_SOCKOPT [[deprecated]])value)
#else
typedef SRT_ATR_DEPRECATED_PX SRT_SOCKOPT SRT_SOCKOPT_DEPRECATED SRT_ATR_DEPRECATED;
#define SRT_DEPRECATED_OPTION(value) ((SRT_SOCKOPT_DEPRECATED)value)
#endif
#else
enum SRT_ATR_DEPRECATED SRT_SOCKOPT_DEPRECATED
{
    SRTO_DEPRECATED_END = 0
};
#define SRT_DEPRECATED_OPTION(value) ((enum SRT_SOCKOPT_DEPRECATED)value)
#endif

/* SRTO_TRANSTYPE */
typedef enum SRT_TRANSTYPE
{
    SRTT_LIVE = 0,
    SRTT_FILE = 1,
    SRTT_INVALID = 2
} SRT_TRANSTYPE;

/* Live mode payload sizes: 7 MPEG-TS packets by default, at most what fits
 * a 1500-byte MTU after the IP, UDP and SRT headers. */
static const int SRT_LIVE_DEF_PLSIZE = 1316;
static const int SRT_LIVE_MAX_PLSIZE = 1456;

/* Default live mode latency (ms). */
static const int SRT_LIVE_DEF_LATENCY_MS = 120;

/* ---- Statistics (srt_bstats, srt_bistats) -------------------------------- */

/* Fields are only ever added at the end. */
struct CBytePerfMon
{
    /* totals since the socket started */
    int64_t msTimeStamp;
    int64_t pktSentTotal;
    int64_t pktRecvTotal;
    int pktSndLossTotal;
    int pktRcvLossTotal;
    int pktRetransTotal;
    int pktSentACKTotal;
    int pktRecvACKTotal;
    int pktSentNAKTotal;
    int pktRecvNAKTotal;
    int64_t usSndDurationTotal;
    int pktSndDropTotal;
    int pktRcvDropTotal;
    int pktRcvUndecryptTotal;
    uint64_t byteSentTotal;
    uint64_t byteRecvTotal;
    uint64_t byteRcvLossTotal;
    uint64_t byteRetransTotal;
    uint64_t byteSndDropTotal;
    uint64_t byteRcvDropTotal;
    uint64_t byteRcvUndecryptTotal;

    /* since the last clear */
    int64_t pktSent;
    int64_t pktRecv;
    int pktSndLoss;
    int pktRcvLoss;
    int pktRetrans;
    int pktRcvRetrans;
    int pktSentACK;
    int pktRecvACK;
    int pktSentNAK;
    int pktRecvNAK;
    double mbpsSendRate;
    double mbpsRecvRate;
    int64_t usSndDuration;
    int pktReorderDistance;
    double pktRcvAvgBelatedTime;
    int64_t pktRcvBelated;
    int pktSndDrop;
    int pktRcvDrop;
    int pktRcvUndecrypt;
    uint64_t byteSent;
    uint64_t byteRecv;
    uint64_t byteRcvLoss;
    uint64_t byteRetrans;
    uint64_t byteSndDrop;
    uint64_t byteRcvDrop;
    uint64_t byteRcvUndecrypt;

    /* instantaneous */
    double usPktSndPeriod;
    int pktFlowWindow;
    int pktCongestionWindow;
    int pktFlightSize;
    double msRTT;
    double mbpsBandwidth;
    int byteAvailSndBuf;
    int byteAvailRcvBuf;
    double mbpsMaxBW;
    int byteMSS;
    int pktSndBuf;
    int byteSndBuf;
    int msSndBuf;
    int msSndTsbPdDelay;
    int pktRcvBuf;
    int byteRcvBuf;
    int msRcvBuf;
    int msRcvTsbPdDelay;

    /* packet filter: totals, then since the last clear */
    int pktSndFilterExtraTotal;
    int pktRcvFilterExtraTotal;
    int pktRcvFilterSupplyTotal;
    int pktRcvFilterLossTotal;
    int pktSndFilterExtra;
    int pktRcvFilterExtra;
    int pktRcvFilterSupply;
    int pktRcvFilterLoss;
    int pktReorderTolerance;

    /* 1.5.0: what the application sent and received, totals then local */
    int64_t pktSentUniqueTotal;
    int64_t pktRecvUniqueTotal;
    uint64_t byteSentUniqueTotal;
    uint64_t byteRecvUniqueTotal;
    int64_t pktSentUnique;
    int64_t pktRecvUnique;
    uint64_t byteSentUnique;
    uint64_t byteRecvUnique;
};

/* ---- Errors -------------------------------------------------------------- */

/* Error class: an SRT_ERRNO is 1000 * major + minor. */
enum CodeMajor
{
    MJ_UNKNOWN = -1,
    MJ_SUCCESS = 0,
    MJ_SETUP = 1,
    MJ_CONNECTION = 2,
    MJ_SYSTEMRES = 3,
    MJ_FILESYSTEM = 4,
    MJ_NOTSUP = 5,
    MJ_AGAIN = 6,
    MJ_PEERERROR = 7
};

/* Error detail within its class (the same number means different things
 * in different classes). */
enum CodeMinor
{
    MN_NONE = 0,
    /* MJ_SETUP */
    MN_TIMEOUT = 1,
    MN_REJECTED = 2,
    MN_NORES = 3,
    MN_SECURITY = 4,
    MN_CLOSED = 5,
    /* MJ_CONNECTION */
    MN_CONNLOST = 1,
    MN_NOCONN = 2,
    /* MJ_SYSTEMRES */
    MN_THREAD = 1,
    MN_MEMORY = 2,
    MN_OBJECT = 3,
    /* MJ_FILESYSTEM */
    MN_SEEKGFAIL = 1,
    MN_READFAIL = 2,
    MN_SEEKPFAIL = 3,
    MN_WRITEFAIL = 4,
    /* MJ_NOTSUP */
    MN_ISBOUND = 1,
    MN_ISCONNECTED = 2,
    MN_INVAL = 3,
    MN_SIDINVAL = 4,
    MN_ISUNBOUND = 5,
    MN_NOLISTEN = 6,
    MN_ISRENDEZVOUS = 7,
    MN_ISRENDUNBOUND = 8,
    MN_INVALMSGAPI = 9,
    MN_INVALBUFFERAPI = 10,
    MN_BUSY = 11,
    MN_XSIZE = 12,
    MN_EIDINVAL = 13,
    MN_EEMPTY = 14,
    MN_BUSYPORT = 15,
    /* MJ_AGAIN */
    MN_WRAVAIL = 1,
    MN_RDAVAIL = 2,
    MN_XMTIMEOUT = 3,
    MN_CONGESTION = 4
};

/* srt_getlasterror() codes. */
typedef enum SRT_ERRNO
{
    SRT_EUNKNOWN = -1,
    SRT_SUCCESS = 0,

    SRT_ECONNSETUP = 1000,
    SRT_ENOSERVER = 1001,
    SRT_ECONNREJ = 1002,
    SRT_ESOCKFAIL = 1003,
    SRT_ESECFAIL = 1004,
    SRT_ESCLOSED = 1005,

    SRT_ECONNFAIL = 2000,
    SRT_ECONNLOST = 2001,
    SRT_ENOCONN = 2002,

    SRT_ERESOURCE = 3000,
    SRT_ETHREAD = 3001,
    SRT_ENOBUF = 3002,
    SRT_ESYSOBJ = 3003,

    SRT_EFILE = 4000,
    SRT_EINVRDOFF = 4001,
    SRT_ERDPERM = 4002,
    SRT_EINVWROFF = 4003,
    SRT_EWRPERM = 4004,

    SRT_EINVOP = 5000,
    SRT_EBOUNDSOCK = 5001,
    SRT_ECONNSOCK = 5002,
    SRT_EINVPARAM = 5003,
    SRT_EINVSOCK = 5004,
    SRT_EUNBOUNDSOCK = 5005,
    SRT_ENOLISTEN = 5006,
    SRT_ERDVNOSERV = 5007,
    SRT_ERDVUNBOUND = 5008,
    SRT_EINVALMSGAPI = 5009,
    SRT_EINVALBUFFERAPI = 5010,
    SRT_EDUPLISTEN = 5011,
    SRT_ELARGEMSG = 5012,
    SRT_EINVPOLLID = 5013,
    SRT_EPOLLEMPTY = 5014,
    SRT_EBINDCONFLICT = 5015,

    SRT_EASYNCFAIL = 6000,
    SRT_EASYNCSND = 6001,
    SRT_EASYNCRCV = 6002,
    SRT_ETIMEOUT = 6003,
    SRT_ECONGEST = 6004,

    SRT_EPEERERR = 7000
} SRT_ERRNO;

/* srt_getrejectreason(): why a connection was refused (below 1000). */
enum SRT_REJECT_REASON
{
    SRT_REJ_UNKNOWN = 0,     /* not (yet) known */
    SRT_REJ_SYSTEM = 1,      /* a system call failed */
    SRT_REJ_PEER = 2,        /* the peer rejected */
    SRT_REJ_RESOURCE = 3,    /* resource allocation failed */
    SRT_REJ_ROGUE = 4,       /* incorrect handshake data */
    SRT_REJ_BACKLOG = 5,     /* listener backlog full */
    SRT_REJ_IPE = 6,         /* internal program error */
    SRT_REJ_CLOSE = 7,       /* socket closing */
    SRT_REJ_VERSION = 8,     /* peer older than SRTO_MINVERSION */
    SRT_REJ_RDVCOOKIE = 9,   /* rendezvous cookie collision */
    SRT_REJ_BADSECRET = 10,  /* wrong passphrase */
    SRT_REJ_UNSECURE = 11,   /* passphrase required or unexpected */
    SRT_REJ_MESSAGEAPI = 12, /* stream/message API mismatch */
    SRT_REJ_CONGESTION = 13, /* congestion controller mismatch */
    SRT_REJ_FILTER = 14,     /* packet filter mismatch */
    SRT_REJ_GROUP = 15,      /* group settings mismatch */
    SRT_REJ_TIMEOUT = 16,    /* connection timed out */
#ifdef ENABLE_AEAD_API_PREVIEW
    SRT_REJ_CRYPTO = 17,     /* conflicting cryptographic configurations */

    SRT_REJ_E_SIZE = 18
#else

    SRT_REJ_E_SIZE = 17
#endif
};

/* Old name of SRT_REJ_E_SIZE. */
#define SRT_REJ__SIZE SRT_REJ_E_SIZE

/* Rejection code categories: below 1000 SRT_REJ_*, 1000-1999 the
 * predefined SRT_REJX_* (access_control.h), from 2000 the application's. */
#define SRT_REJC_VALUE(code) (1000 * (code / 1000))
#define SRT_REJC_INTERNAL 0
#define SRT_REJC_PREDEFINED 1000
#define SRT_REJC_USERDEFINED 2000

/* ---- Logging functional areas (srt_addlogfa and friends) ------------------ */

#define SRT_LOGFA_GENERAL 0    /* general, serious issues only */
#define SRT_LOGFA_SOCKMGMT 1   /* socket create, open, close, configure */
#define SRT_LOGFA_CONN 2       /* connection set-up and handshake */
#define SRT_LOGFA_XTIMER 3     /* timers */
#define SRT_LOGFA_TSBPD 4      /* TSBPD delivery */
#define SRT_LOGFA_RSRC 5       /* system resources */
#define SRT_LOGFA_HAICRYPT 6   /* encryption (off by default) */
#define SRT_LOGFA_CONGEST 7    /* congestion control */
#define SRT_LOGFA_PFILTER 8    /* packet filter */
#define SRT_LOGFA_APPLOG 10    /* applications */
#define SRT_LOGFA_API_CTRL 11  /* API: socket and library management */
#define SRT_LOGFA_QUE_CTRL 13  /* queue control */
#define SRT_LOGFA_EPOLL_UPD 16 /* epoll, internal updates */
#define SRT_LOGFA_API_RECV 21  /* API: receiving */
#define SRT_LOGFA_BUF_RECV 22  /* receive buffer */
#define SRT_LOGFA_QUE_RECV 23  /* receive queue */
#define SRT_LOGFA_CHN_RECV 24  /* UDP channel, receiving */
#define SRT_LOGFA_GRP_RECV 25  /* group, receiving */
#define SRT_LOGFA_API_SEND 31  /* API: sending */
#define SRT_LOGFA_BUF_SEND 32  /* send buffer */
#define SRT_LOGFA_QUE_SEND 33  /* send queue */
#define SRT_LOGFA_CHN_SEND 34  /* UDP channel, sending */
#define SRT_LOGFA_GRP_SEND 35  /* group, sending */
#define SRT_LOGFA_INTERNAL 41  /* internal, not tied to a socket */
#define SRT_LOGFA_QUE_MGMT 43  /* queue management */
#define SRT_LOGFA_CHN_MGMT 44  /* UDP channel management */
#define SRT_LOGFA_GRP_MGMT 45  /* group management */
#define SRT_LOGFA_EPOLL_API 46 /* epoll API */

/* The highest functional area number. */
#define SRT_LOGFA_LASTNONE 63

/* ---- Encryption state (SRTO_KMSTATE, SRTO_SNDKMSTATE, SRTO_RCVKMSTATE) ---- */

enum SRT_KM_STATE
{
    SRT_KM_S_UNSECURED = 0, /* no encryption */
    SRT_KM_S_SECURING = 1,  /* encrypted, key exchange in progress */
    SRT_KM_S_SECURED = 2,   /* encrypted, keys agreed */
    SRT_KM_S_NOSECRET = 3,  /* encrypted, but no passphrase here */
    SRT_KM_S_BADSECRET = 4  /* encrypted, wrong passphrase */
#ifdef ENABLE_AEAD_API_PREVIEW
    ,SRT_KM_S_BADCRYPTOMODE = 5 /* encrypted, the other cipher (libsrt >= 1.5.2) */
#endif
};

/* ---- Epoll --------------------------------------------------------------- */

/* Events and flags of srt_epoll_add_usock() and friends. IN, OUT, ERR and
 * ET have the values of <sys/epoll.h>. */
enum SRT_EPOLL_OPT
{
    SRT_EPOLL_OPT_NONE = 0x0,
    SRT_EPOLL_IN = 0x1,  /* readable, or (listener) a connection to accept */
    SRT_EPOLL_OUT = 0x4, /* writable, or (connecting socket) connected */
    SRT_EPOLL_ERR = 0x8, /* the next operation will fail */
    SRT_EPOLL_CONNECT = SRT_EPOLL_OUT,
    SRT_EPOLL_ACCEPT = SRT_EPOLL_IN,
    SRT_EPOLL_UPDATE = 0x10, /* (edge-triggered only) internal update */
    SRT_EPOLL_ET = 1u << 31  /* edge-triggered */
};

/* A set of SRT_EPOLL_OPT bits. */
typedef int32_t SRT_EPOLL_T;

/* The bits that are events (the others are flags). */
#define SRT_EPOLL_EVENTTYPES (SRT_EPOLL_IN | SRT_EPOLL_OUT | SRT_EPOLL_UPDATE | SRT_EPOLL_ERR)
/* The events that are only edge-triggered. */
#define SRT_EPOLL_ETONLY (SRT_EPOLL_UPDATE)

/* srt_epoll_set() flags. */
enum SRT_EPOLL_FLAGS
{
    /* waiting on an empty container is allowed (it waits forever or until
     * the timeout) */
    SRT_EPOLL_ENABLE_EMPTY = 1,
    /* waiting without an output array is an error */
    SRT_EPOLL_ENABLE_OUTPUTCHECK = 2
};

#ifdef __cplusplus
/* C++ enums do not combine with | on their own. */
inline SRT_EPOLL_OPT operator|(SRT_EPOLL_OPT a1, SRT_EPOLL_OPT a2)
{
    return SRT_EPOLL_OPT((int)a1 | (int)a2);
}
#endif

typedef struct CBytePerfMon SRT_TRACEBSTATS;

/* Failure returns. */
static const SRTSOCKET SRT_INVALID_SOCK = -1;
static const int SRT_ERROR = -1;

/* ---- Library -------------------------------------------------------------- */

SRT_API int srt_startup(void);
SRT_API int srt_cleanup(void);

/* ---- Socket set-up -------------------------------------------------------- */

/* Deprecated: the arguments are ignored; use srt_create_socket(). */
SRT_ATR_DEPRECATED_PX SRT_API SRTSOCKET srt_socket(int, int, int) SRT_ATR_DEPRECATED;
SRT_API SRTSOCKET srt_create_socket(void);

SRT_API int srt_bind(SRTSOCKET u, const struct sockaddr* name, int namelen);
SRT_API int srt_bind_acquire(SRTSOCKET u, UDPSOCKET sys_udp_sock);
/* Deprecated old name of srt_bind_acquire(). */
SRT_ATR_DEPRECATED_PX static inline int srt_bind_peerof(SRTSOCKET u, UDPSOCKET sys_udp_sock) SRT_ATR_DEPRECATED;
static inline int srt_bind_peerof(SRTSOCKET u, UDPSOCKET sys_udp_sock)
{
    return srt_bind_acquire(u, sys_udp_sock);
}
SRT_API int srt_listen(SRTSOCKET u, int backlog);
SRT_API SRTSOCKET srt_accept(SRTSOCKET u, struct sockaddr* addr, int* addrlen);
SRT_API SRTSOCKET srt_accept_bond(const SRTSOCKET listeners[], int lsize, int64_t msTimeOut);

/* Listener callback: called for each connection request; return -1 to
 * reject it. */
typedef int srt_listen_callback_fn(void* opaq, SRTSOCKET ns, int hsversion,
                                   const struct sockaddr* peeraddr, const char* streamid);
SRT_API int srt_listen_callback(SRTSOCKET lsn, srt_listen_callback_fn* hook_fn, void* hook_opaque);

/* Connect callback: called when a (non-blocking) connection fails. */
typedef void srt_connect_callback_fn(void* opaq, SRTSOCKET ns, int errorcode,
                                     const struct sockaddr* peeraddr, int token);
SRT_API int srt_connect_callback(SRTSOCKET clr, srt_connect_callback_fn* hook_fn, void* hook_opaque);

SRT_API int srt_connect(SRTSOCKET u, const struct sockaddr* name, int namelen);
SRT_API int srt_connect_debug(SRTSOCKET u, const struct sockaddr* name, int namelen, int forced_isn);
SRT_API int srt_connect_bind(SRTSOCKET u, const struct sockaddr* source,
                             const struct sockaddr* target, int len);
SRT_API int srt_rendezvous(SRTSOCKET u, const struct sockaddr* local_name, int local_namelen,
                           const struct sockaddr* remote_name, int remote_namelen);

SRT_API int srt_close(SRTSOCKET u);
SRT_API int srt_getpeername(SRTSOCKET u, struct sockaddr* name, int* namelen);
SRT_API int srt_getsockname(SRTSOCKET u, struct sockaddr* name, int* namelen);
/* `level` is ignored. */
SRT_API int srt_getsockopt(SRTSOCKET u, int level, SRT_SOCKOPT optname, void* optval, int* optlen);
SRT_API int srt_setsockopt(SRTSOCKET u, int level, SRT_SOCKOPT optname, const void* optval, int optlen);
SRT_API int srt_getsockflag(SRTSOCKET u, SRT_SOCKOPT opt, void* optval, int* optlen);
SRT_API int srt_setsockflag(SRTSOCKET u, SRT_SOCKOPT opt, const void* optval, int optlen);

/* ---- Messages ------------------------------------------------------------- */

typedef struct SRT_SocketGroupData_ SRT_SOCKGROUPDATA;

/* Per-message parameters of srt_sendmsg2() and results of srt_recvmsg2(). */
typedef struct SRT_MsgCtrl_
{
    int flags;        /* unused, 0 */
    int msgttl;       /* sending: drop the message after this many ms (-1: never) */
    int inorder;      /* sending (file mode): deliver only in order */
    int boundary;     /* packet position in the message (internal) */
    int64_t srctime;  /* source time (us, srt_time_now() clock); 0: now */
    int32_t pktseq;   /* receiving: sequence number of the first packet */
    int32_t msgno;    /* message number */
    SRT_SOCKGROUPDATA* grpdata; /* groups: member status array, or NULL */
    size_t grpdata_size;        /* its size (in: capacity, out: used) */
} SRT_MSGCTRL;

/* "Unset" sequence and message numbers, and the message number of
 * packet filter control packets. */
static const int32_t SRT_SEQNO_NONE = -1;
static const int32_t SRT_MSGNO_NONE = -1;
static const int32_t SRT_MSGNO_CONTROL = 0;

/* SRT_MSGCTRL::msgttl: no time limit. */
static const int SRT_MSGTTL_INF = -1;

/* Set *mctrl to srt_msgctrl_default. */
SRT_API void srt_msgctrl_init(SRT_MSGCTRL* mctrl);
SRT_API extern const SRT_MSGCTRL srt_msgctrl_default;

SRT_API int srt_send(SRTSOCKET u, const char* buf, int len);
SRT_API int srt_sendmsg(SRTSOCKET u, const char* buf, int len, int ttl, int inorder);
SRT_API int srt_sendmsg2(SRTSOCKET u, const char* buf, int len, SRT_MSGCTRL* mctrl);

SRT_API int srt_recv(SRTSOCKET u, char* buf, int len);
/* The same as srt_recv(). */
SRT_API int srt_recvmsg(SRTSOCKET u, char* buf, int len);
SRT_API int srt_recvmsg2(SRTSOCKET u, char* buf, int len, SRT_MSGCTRL* mctrl);

/* File transfer (file mode, stream API). */
#define SRT_DEFAULT_SENDFILE_BLOCK 364000
#define SRT_DEFAULT_RECVFILE_BLOCK 7280000
SRT_API int64_t srt_sendfile(SRTSOCKET u, const char* path, int64_t* offset, int64_t size, int block);
SRT_API int64_t srt_recvfile(SRTSOCKET u, const char* path, int64_t* offset, int64_t size, int block);

/* ---- Errors (per thread) -------------------------------------------------- */

SRT_API const char* srt_getlasterror_str(void);
SRT_API int srt_getlasterror(int* errno_loc);
SRT_API const char* srt_strerror(int code, int errnoval);
SRT_API void srt_clearlasterror(void);

/* ---- Statistics and state ------------------------------------------------- */

SRT_API int srt_bstats(SRTSOCKET u, SRT_TRACEBSTATS* perf, int clear);
SRT_API int srt_bistats(SRTSOCKET u, SRT_TRACEBSTATS* perf, int clear, int instantaneous);

SRT_API SRT_SOCKSTATUS srt_getsockstate(SRTSOCKET u);

/* ---- Epoll ---------------------------------------------------------------- */

SRT_API int srt_epoll_create(void);
SRT_API int srt_epoll_clear_usocks(int eid);
SRT_API int srt_epoll_add_usock(int eid, SRTSOCKET u, const int* events);
SRT_API int srt_epoll_add_ssock(int eid, SYSSOCKET s, const int* events);
SRT_API int srt_epoll_remove_usock(int eid, SRTSOCKET u);
SRT_API int srt_epoll_remove_ssock(int eid, SYSSOCKET s);
SRT_API int srt_epoll_update_usock(int eid, SRTSOCKET u, const int* events);
SRT_API int srt_epoll_update_ssock(int eid, SYSSOCKET s, const int* events);

SRT_API int srt_epoll_wait(int eid, SRTSOCKET* readfds, int* rnum, SRTSOCKET* writefds, int* wnum,
                           int64_t msTimeOut, SYSSOCKET* lrfds, int* lrnum, SYSSOCKET* lwfds,
                           int* lwnum);

/* One ready socket of srt_epoll_uwait(). */
typedef struct SRT_EPOLL_EVENT_STR
{
    SRTSOCKET fd;
    int events; /* SRT_EPOLL_IN | SRT_EPOLL_OUT | SRT_EPOLL_ERR */
#ifdef __cplusplus
    SRT_EPOLL_EVENT_STR(SRTSOCKET s, int ev) : fd(s), events(ev) {}
    SRT_EPOLL_EVENT_STR() : fd(-1), events(0) {}
#endif
} SRT_EPOLL_EVENT;
SRT_API int srt_epoll_uwait(int eid, SRT_EPOLL_EVENT* fdsSet, int fdsSize, int64_t msTimeOut);

SRT_API int32_t srt_epoll_set(int eid, int32_t flags);
SRT_API int srt_epoll_release(int eid);

/* ---- Logging -------------------------------------------------------------- */

SRT_API void srt_setloglevel(int ll);
SRT_API void srt_addlogfa(int fa);
SRT_API void srt_dellogfa(int fa);
SRT_API void srt_resetlogfa(const int* fara, size_t fara_size);
SRT_API void srt_setloghandler(void* opaque, SRT_LOG_HANDLER_FN* handler);
SRT_API void srt_setlogflags(int flags);

/* ---- Miscellaneous -------------------------------------------------------- */

SRT_API int srt_getsndbuffer(SRTSOCKET sock, size_t* blocks, size_t* bytes);

SRT_API int srt_getrejectreason(SRTSOCKET sock);
SRT_API int srt_setrejectreason(SRTSOCKET sock, int value);
/* Deprecated (no bound check): use srt_rejectreason_str(). */
SRT_API SRT_ATR_DEPRECATED extern const char* const srt_rejectreason_msg[];
SRT_API const char* srt_rejectreason_str(int id);

SRT_API uint32_t srt_getversion(void);

/* The library's clock, in microseconds. */
SRT_API int64_t srt_time_now(void);
SRT_API int64_t srt_connection_time(SRTSOCKET sock);

/* srt_clock_type() results. */
#define SRT_SYNC_CLOCK_STDCXX_STEADY 0
#define SRT_SYNC_CLOCK_GETTIME_MONOTONIC 1
#define SRT_SYNC_CLOCK_WINQPC 2
#define SRT_SYNC_CLOCK_MACH_ABSTIME 3
#define SRT_SYNC_CLOCK_POSIX_GETTIMEOFDAY 4
#define SRT_SYNC_CLOCK_AMD64_RDTSC 5
#define SRT_SYNC_CLOCK_IA32_RDTSC 6
#define SRT_SYNC_CLOCK_IA64_ITC 7

SRT_API int srt_clock_type(void);

/* ---- Socket groups -------------------------------------------------------- */

typedef enum SRT_GROUP_TYPE
{
    SRT_GTYPE_UNDEFINED = 0,
    SRT_GTYPE_BROADCAST = 1,
    SRT_GTYPE_BACKUP = 2,
    SRT_GTYPE_E_END = 3
} SRT_GROUP_TYPE;

/* Group flags. */
static const uint32_t SRT_GFLAG_SYNCONMSG = 1;

/* State of a group member. */
typedef enum SRT_MemberStatus
{
    SRT_GST_PENDING = 0, /* created, not yet ready for data */
    SRT_GST_IDLE = 1,    /* ready to be activated */
    SRT_GST_RUNNING = 2, /* active */
    SRT_GST_BROKEN = 3   /* broken, to be closed */
} SRT_MEMBERSTATUS;

/* One member in srt_group_data() and SRT_MSGCTRL::grpdata. */
struct SRT_SocketGroupData_
{
    SRTSOCKET id;
    struct sockaddr_storage peeraddr;
    SRT_SOCKSTATUS sockstate;
    uint16_t weight;
    SRT_MEMBERSTATUS memberstate;
    int result;
    int token;
};

/* An opaque set of socket options for a group member. */
typedef struct SRT_SocketOptionObject SRT_SOCKOPT_CONFIG;

/* One member to connect with srt_connect_group(). */
typedef struct SRT_GroupMemberConfig_
{
    SRTSOCKET id;
    struct sockaddr_storage srcaddr;
    struct sockaddr_storage peeraddr;
    uint16_t weight;
    SRT_SOCKOPT_CONFIG* config;
    int errorcode;
    int token;
} SRT_SOCKGROUPCONFIG;

SRT_API SRTSOCKET srt_create_group(SRT_GROUP_TYPE);
SRT_API SRTSOCKET srt_groupof(SRTSOCKET socket);
SRT_API int srt_group_data(SRTSOCKET socketgroup, SRT_SOCKGROUPDATA* output, size_t* inoutlen);

SRT_API SRT_SOCKOPT_CONFIG* srt_create_config(void);
SRT_API void srt_delete_config(SRT_SOCKOPT_CONFIG* config);
SRT_API int srt_config_add(SRT_SOCKOPT_CONFIG* config, SRT_SOCKOPT option, const void* contents, int len);

SRT_API SRT_SOCKGROUPCONFIG srt_prepare_endpoint(const struct sockaddr* src, const struct sockaddr* adr,
                                                 int namelen);
SRT_API int srt_connect_group(SRTSOCKET group, SRT_SOCKGROUPCONFIG name[], int arraysize);

#ifdef __cplusplus
}
#endif

#endif /* INC_SRTC_H */
