/*
 * srt-capi: the system headers that srt.h relies on (sockaddr, int types,
 * errno). Linux and other POSIX systems only.
 * SPDX-License-Identifier: MPL-2.0
 */
#ifndef INC_SRT_PLATFORM_SYS_H
#define INC_SRT_PLATFORM_SYS_H

#include <stdint.h>
#include <inttypes.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <fcntl.h>

#ifndef __cplusplus
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#endif

#endif /* INC_SRT_PLATFORM_SYS_H */
