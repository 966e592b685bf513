/*
 * The device side of client requests (docs/PROTOCOL.md section 4), for the
 * programs that act as a device: scn-sim device and scn-replay. Decoding
 * and its error answers live here once so that both answer every bad
 * request the same way; what a request does is up to each program.
 */
#ifndef SCN_APP_DEVICE_REQUEST_H
#define SCN_APP_DEVICE_REQUEST_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define DEVREQ_RATE_MIN 0.1
#define DEVREQ_RATE_MAX 1000.0

typedef enum devreq_kind { DEVREQ_SAMPLE, DEVREQ_STREAM } devreq_kind;

typedef struct devreq {
    devreq_kind kind;
    int has_id;
    double id; /* an integer within +-(2^53 - 1) */
    int on;    /* stream: 1 unless "on": false */
    int has_rate;
    double rate_hz; /* stream: within DEVREQ_RATE_MIN..MAX when has_rate */
} devreq;

/* Decodes one request (text, not NUL-terminated). Returns 0 with *r
 * filled, or -1 with *reply set to the error answer to send (the caller
 * sends and deletes it; NULL only when out of memory). */
int devreq_parse(const char *text, size_t len, devreq *r, cJSON **reply);

/* {"type":"error","code":...,"message":...[,"id":...]} for a request that
 * could not even be read (binary, too large): id unknown. */
cJSON *devreq_error(const char *code, const char *message);

/* {"type":"ack","id":...,"request":"sample"|"stream"}; a stream ack also
 * gets "on" (the caller adds "rate_hz" if it has a pace to report). NULL
 * when the request had no id (nothing to acknowledge). */
cJSON *devreq_ack(const devreq *r);

#endif
