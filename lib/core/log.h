/* Internal logging: formats and hands lines to the application's hook. */
#ifndef SCN_LOG_INTERNAL_H
#define SCN_LOG_INTERNAL_H

#include <scentience/log.h>

typedef struct scn_logger {
    scn_log_fn fn;
    void *user;
    scn_log_level level;
} scn_logger;

#if defined(__GNUC__)
#define SCN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SCN_PRINTF(a, b)
#endif

/* Formats into a stack buffer (lines are cut at 512 bytes) and calls the
 * hook if level is enabled. Never pass a key: pass its redacted form. */
void scn__log(const scn_logger *lg, scn_log_level level, const char *component,
              const char *fmt, ...) SCN_PRINTF(4, 5);

#endif
