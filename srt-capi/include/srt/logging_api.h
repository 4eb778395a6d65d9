/*
 * srt-capi: log levels, log flags and the log handler type.
 * SPDX-License-Identifier: MPL-2.0
 */
#ifndef INC_SRT_LOGGING_API_H
#define INC_SRT_LOGGING_API_H

#ifdef __cplusplus
#include <set>
#include <iostream>
#endif

/* The log levels are syslog's (LOG_CRIT .. LOG_DEBUG). */
#include <syslog.h>

/* One level below LOG_DEBUG, for the record (never used). */
#ifndef LOG_DEBUG_TRACE
#define LOG_DEBUG_TRACE 8
#endif
#define SRT_LOG_LEVEL_MIN LOG_CRIT
#define SRT_LOG_LEVEL_MAX LOG_DEBUG

/* srt_setlogflags(): parts of the log line header to leave out. */
#define SRT_LOGF_DISABLE_TIME 1
#define SRT_LOGF_DISABLE_THREADNAME 2
#define SRT_LOGF_DISABLE_SEVERITY 4
#define SRT_LOGF_DISABLE_EOL 8

/* srt_setloghandler(): receives each log line instead of stderr. */
typedef void SRT_LOG_HANDLER_FN(void* opaque, int level, const char* file, int line,
                                const char* area, const char* message);

#ifdef __cplusplus
namespace srt_logging
{

/* A functional area, as the SRT_LOGFA_* numbers. */
struct LogFA
{
private:
    int value;

public:
    operator int() const { return value; }
    LogFA(int v) : value(v) {}
};

const LogFA LOGFA_GENERAL = 0;

namespace LogLevel
{
/* The five levels in use, as syslog numbers them. */
enum type
{
    fatal = LOG_CRIT,
    error = LOG_ERR,
    warning = LOG_WARNING,
    note = LOG_NOTICE,
    debug = LOG_DEBUG
};
} // namespace LogLevel

class Logger;

} // namespace srt_logging
#endif

#endif /* INC_SRT_LOGGING_API_H */
