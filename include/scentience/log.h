/*
 * Logging hook. The library never writes to stderr by itself: every line
 * goes to the function the application installs in scn_loop_options, or
 * nowhere. Lines never contain an API key; at most its redacted form.
 */
#ifndef SCENTIENCE_LOG_H
#define SCENTIENCE_LOG_H

#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum scn_log_level {
    SCN_LOG_ERROR = 0,
    SCN_LOG_WARN = 1,
    SCN_LOG_INFO = 2,
    SCN_LOG_DEBUG = 3
} scn_log_level;

/* component is a short static name ("session", "loop", "tls"); message is a
 * complete line without trailing newline, valid only during the call. */
typedef void (*scn_log_fn)(scn_log_level level, const char *component,
                           const char *message, void *user);

/* A ready-made scn_log_fn that prints "[level] component: message" to
 * stderr. For applications that want exactly that; user is ignored. */
SCN_API void scn_log_to_stderr(scn_log_level level, const char *component,
                               const char *message, void *user);

/* "error", "warn", "info", "debug". */
SCN_API const char *scn_log_level_name(scn_log_level level);

#ifdef __cplusplus
}
#endif

#endif
