/**
 * @file
 *
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

/** Severity of a log line; a sink receives its level and the ones above it. */
typedef enum scn_log_level {
    SCN_LOG_ERROR = 0, /**< something failed */
    SCN_LOG_WARN = 1,  /**< something unusual that was handled */
    SCN_LOG_INFO = 2,  /**< connections, state changes */
    SCN_LOG_DEBUG = 3  /**< details for debugging */
} scn_log_level;

/** component is a short static name ("session", "loop", "tls"); message is a
 * complete line without trailing newline, valid only during the call. */
typedef void (*scn_log_fn)(scn_log_level level, const char *component,
                           const char *message, void *user);

/** A ready-made scn_log_fn that prints "[level] component: message" to
 * stderr. For applications that want exactly that; user is ignored. */
SCN_API void scn_log_to_stderr(scn_log_level level, const char *component,
                               const char *message, void *user);

/** "error", "warn", "info", "debug". */
SCN_API const char *scn_log_level_name(scn_log_level level);

#ifdef __cplusplus
}
#endif

#endif
