/**
 * @file
 *
 * Logging hook. The library never writes to stderr by itself: every line
 * goes to the function the application installs in scn_loop_options, or
 * nowhere. Lines never contain an API key, at most its redacted form,
 * and never a raw control byte: text from peers in them is escaped
 * (scn_escape_text below).
 */
#ifndef SCENTIENCE_LOG_H
#define SCENTIENCE_LOG_H

#include <stddef.h>
#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Severity of a log line; a sink receives its level and the ones above it. */
typedef enum scn_log_level {
    /** something failed and the detail is in this line only: the error
     * code the call returned does not carry it (which file did not load,
     * and OpenSSL's reason) */
    SCN_LOG_ERROR = 0,
    /** a failure the caller also learns from a return code or a callback
     * (a link given up, a port in use), or something unusual handled */
    SCN_LOG_WARN = 1,
    SCN_LOG_INFO = 2, /**< connections, state changes */
    SCN_LOG_DEBUG = 3 /**< details for debugging */
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

/**
 * Writes text[0..len) into out so that it is safe in a log line or on a
 * terminal, whoever sent it: printable ASCII and valid UTF-8 stay as they
 * are; a backslash becomes `\\`, CR, LF and TAB `\r`, `\n`, `\t`, other
 * control bytes (ESC, BEL, NUL, DEL...) and bytes that are not valid UTF-8
 * `\xNN`, and the code points a terminal acts on instead of showing (C1
 * controls, bidirectional overrides, line separators) `\uNNNN`. Every line
 * the library logs goes through it; use it wherever an application prints
 * text that came from a peer (device error messages, close reasons, drone
 * answers, cloud labels).
 * out receives at most cap - 1 bytes and a NUL (when cap > 0); the text
 * is cut before an escape that does not fit, never inside one. Returns
 * the length the whole escaped text needs, without the NUL (as snprintf).
 */
SCN_API size_t scn_escape_text(char *out, size_t cap, const char *text,
                               size_t len);

#ifdef __cplusplus
}
#endif

#endif
