/* Internal logger and the ready-made stderr hook. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void scn_log(const scn_logger *lg, scn_log_level level, const char *component,
             const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (!lg || !lg->fn || level > lg->level)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
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
