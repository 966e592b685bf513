/* Internal logger and the ready-made stderr hook. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void scn__log(const scn_logger *lg, scn_log_level level, const char *component,
              const char *fmt, ...)
{
    /* Escaped as a whole: lines carry text from peers (device errors,
     * close reasons), which must not forge lines or drive a terminal. */
    char raw[512], line[4 * sizeof(raw)];
    va_list ap;
    int n;

    if (!lg || !lg->fn || level > lg->level)
        return;
    va_start(ap, fmt);
    n = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    scn_escape_text(line, sizeof(line), raw,
                    (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1);
    lg->fn(level, component, line, lg->user);
}

const char *scn_log_level_name(scn_log_level level)
{
    switch (level) {
    case SCN_LOG_ERROR:
        return "error";
    case SCN_LOG_WARN:
        return "warn";
    case SCN_LOG_INFO:
        return "info";
    case SCN_LOG_DEBUG:
        return "debug";
    }
    return "?";
}

void scn_log_to_stderr(scn_log_level level, const char *component,
                       const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "[%s] %s: %s\n", scn_log_level_name(level), component,
            message);
}
