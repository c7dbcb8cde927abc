/*
 * log.h - leveled logging to stderr.  One global level, set from config; a
 * line is "YYYY-mm-dd HH:MM:SS.mmm LEVEL message".  Cheap when filtered out:
 * the level check is an inline compare before any formatting.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include "sw/conf.h"

extern sw_log_level sw_log_current;

void sw_log_write(sw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sw_log(level, ...) \
    do { if ((level) <= sw_log_current) sw_log_write((level), __VA_ARGS__); } while (0)
#define sw_error(...) sw_log(SW_LOG_ERROR, __VA_ARGS__)
#define sw_warn(...) sw_log(SW_LOG_WARN, __VA_ARGS__)
#define sw_info(...) sw_log(SW_LOG_INFO, __VA_ARGS__)
#define sw_debug(...) sw_log(SW_LOG_DEBUG, __VA_ARGS__)

#endif
