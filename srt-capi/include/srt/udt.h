/*
 * srt-capi: the C part of libsrt's legacy UDT header: the old statistics
 * structure and the UDTSOCKET alias. libsrt's C++ `UDT::` and `srt::`
 * namespace functions are not provided by this library.
 * SPDX-License-Identifier: MPL-2.0
 */
#ifndef INC_SRT_UDT_H
#define INC_SRT_UDT_H

#include "srt.h"

/* Thread-check hooks of libsrt's own build: empty here. */
#define THREAD_STATE_INIT(name)
#define THREAD_EXIT()
#define THREAD_PAUSED()
#define THREAD_RESUMED()
#define INCREMENT_THREAD_ITERATIONS()

#ifdef __cplusplus
#include <fstream>
#include <set>
#include <string>
#include <vector>
#endif

/* UDT's statistics (without byte counters); see SRT_TRACEBSTATS. */
struct CPerfMon
{
    /* totals since the socket started */
    int64_t msTimeStamp;
    int64_t pktSentTotal;
    int64_t pktRecvTotal;
    int pktSndLossTotal;
    int pktRcvLossTotal;
    int pktRetransTotal;
    int pktRcvRetransTotal;
    int pktSentACKTotal;
    int pktRecvACKTotal;
    int pktSentNAKTotal;
    int pktRecvNAKTotal;
    int64_t usSndDurationTotal;

    /* since the last reset */
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

    /* instantaneous */
    double usPktSndPeriod;
    int pktFlowWindow;
    int pktCongestionWindow;
    int pktFlightSize;
    double msRTT;
    double mbpsBandwidth;
    int byteAvailSndBuf;
    int byteAvailRcvBuf;
};

typedef SRTSOCKET UDTSOCKET; /* the old name */

#endif /* INC_SRT_UDT_H */
