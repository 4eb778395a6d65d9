/*
 * srt-capi: version of the libsrt API this library implements.
 * SPDX-License-Identifier: MPL-2.0
 */
#ifndef INC_SRT_VERSION_H
#define INC_SRT_VERSION_H

/* One number from major.minor.patch: 0xMMmmpp. */
#define SRT_MAKE_VERSION(major, minor, patch) \
    ((patch) + ((minor) * 0x100) + ((major) * 0x10000))
#define SRT_MAKE_VERSION_VALUE SRT_MAKE_VERSION

/* srt-capi implements the API and ABI of libsrt 1.5.1. */
#define SRT_VERSION_MAJOR 1
#define SRT_VERSION_MINOR 5
#define SRT_VERSION_PATCH 1
#define SRT_VERSION_STRING "1.5.1"
#define SRT_VERSION_VALUE \
    SRT_MAKE_VERSION_VALUE(SRT_VERSION_MAJOR, SRT_VERSION_MINOR, SRT_VERSION_PATCH)

#endif /* INC_SRT_VERSION_H */
