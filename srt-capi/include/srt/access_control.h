/*
 * srt-capi: rejection codes an application may give from its listener
 * callback (srt_setrejectreason). 1000-1099: SRT's own; 1400-1599: the
 * HTTP status code plus 1000.
 * SPDX-License-Identifier: MPL-2.0
 */
#ifndef INC_F_ACCESS_CONTROL_H
#define INC_F_ACCESS_CONTROL_H

/* SRT's own codes. */
#define SRT_REJX_FALLBACK 1000     /* some problem, not more precise */
#define SRT_REJX_KEY_NOTSUP 1001   /* a key of the StreamID is not supported */
#define SRT_REJX_FILEPATH 1002     /* file resource: bad path or not found */
#define SRT_REJX_HOSTNOTFOUND 1003 /* the `h` host is not known here */

/* HTTP 4xx. */
#define SRT_REJX_BAD_REQUEST 1400   /* StreamID syntax error (also the fallback) */
#define SRT_REJX_UNAUTHORIZED 1401  /* authentication failed */
#define SRT_REJX_OVERLOAD 1402      /* server overloaded or credits exceeded */
#define SRT_REJX_FORBIDDEN 1403     /* access to the resource denied */
#define SRT_REJX_NOTFOUND 1404      /* resource not found now */
#define SRT_REJX_BAD_MODE 1405      /* the `m` mode is not supported here */
#define SRT_REJX_UNACCEPTABLE 1406  /* requested parameters cannot be met */
#define SRT_REJX_CONFLICT 1409      /* resource locked for modification */
#define SRT_REJX_NOTSUP_MEDIA 1415  /* the `t` media type is not supported */
#define SRT_REJX_LOCKED 1423        /* resource locked for any access */
#define SRT_REJX_FAILED_DEPEND 1424 /* a dependent session is gone */

/* HTTP 5xx. */
#define SRT_REJX_ISE 1500           /* internal server error */
#define SRT_REJX_UNIMPLEMENTED 1501 /* request understood but not supported */
#define SRT_REJX_GW 1502            /* gateway: the target endpoint rejected */
#define SRT_REJX_DOWN 1503          /* service temporarily down */
#define SRT_REJX_VERSION 1505       /* SRT version not supported */
#define SRT_REJX_NOROOM 1507        /* no storage space for the stream */

#endif /* INC_F_ACCESS_CONTROL_H */
