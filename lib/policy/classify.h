/*
 * Failure classification: what an error at handshake or during a session
 * means, and whether to retry (docs/PROTOCOL.md, "Errors"). Pure policy.
 */
#ifndef SCN_CLASSIFY_H
#define SCN_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

typedef enum scn_failure_kind {
    SCN_FAIL_CONNECT,         /* TCP connect / reset before handshake */
    SCN_FAIL_RESOLVE,         /* the host name did not resolve */
    SCN_FAIL_TLS,             /* TLS handshake or certificate */
    SCN_FAIL_HTTP_STATUS,     /* handshake answered with a non-101 status */
    SCN_FAIL_CLOSE,           /* peer closed an open session with close_code */
    SCN_FAIL_LOST,            /* open connection lost without a close frame */
    SCN_FAIL_DEAD_PEER,       /* idle timeout: no traffic, no pong */
    SCN_FAIL_CONNECT_TIMEOUT, /* handshake did not finish in time */
    SCN_FAIL_TOO_BIG          /* we refused an inbound message over the limit */
} scn_failure_kind;

typedef struct scn_failure {
    scn_failure_kind kind;
    int http_status; /* SCN_FAIL_HTTP_STATUS */
    int close_code;  /* SCN_FAIL_CLOSE */
    /* WWW-Authenticate header (401) or close reason text; may be NULL. */
    const char *detail;
    /* Retry-After header in ms, already parsed; 0 when absent. For close
     * codes 1013 and 4029 the classifier falls back to
     * "retry_after=<seconds>" (a whole word) in detail. */
    uint32_t retry_after_ms;
} scn_failure;

typedef struct scn_verdict {
    int err;               /* SCN_ERR_* naming the cause */
    bool retry;            /* false: the session ends (FAILED) */
    uint32_t min_delay_ms; /* retry no sooner than this (Retry-After) */
} scn_verdict;

/* NULL failure: SCN_ERR_INVALID_ARG, fatal. */
scn_verdict scn__classify(const scn_failure *failure);

/* The error of an HTTP request's answer (POST /v1/predict, section 9.6):
 * http_status refined by the error object's code (may be NULL);
 * SCN_ERR_SERVER for a status the protocol does not name. */
int scn__status_error(int http_status, const char *code);

/* The error a cloud error message's code names (section 9.2), and whether
 * the cloud ends the session after it; SCN_ERR_SERVER (not ending) for a
 * code the protocol does not name. ends_session must not be NULL. */
int scn__cloud_code_error(const char *code, bool *ends_session);

/* Parses a Retry-After value given as delta-seconds ("120"). HTTP-dates
 * (all three RFC 9110 forms) are accepted when now_unix_s is nonzero; a
 * past date gives 0. Result capped at 24 h. Returns 0 or SCN_ERR_MALFORMED
 * (*delay_ms untouched). */
int scn__parse_retry_after(const char *value, int64_t now_unix_s,
                           uint32_t *delay_ms);

/* Default wait for 429 / quota close without a Retry-After: 60 s. */
#define SCN_QUOTA_DEFAULT_RETRY_MS 60000u

#endif
