/*
 * The fleet envelope (docs/PROTOCOL.md 12.2):
 * {"run":"<16 hex>","seq":N,"ts":NS,"data":{...}}. Plain C over the
 * library's strict JSON parse.
 */
#ifndef SCN_FLEET_ENVELOPE_H
#define SCN_FLEET_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <scentience/fleet.h>

typedef struct scn_envelope {
    cJSON *doc;            /* the whole payload (owned: scn__envelope_free) */
    const cJSON *data;     /* its "data" object */
    const char *data_text; /* data's bytes in the payload, as sent */
    size_t data_len;
    char run[SCN_FLEET_RUN_MAX + 1]; /* "" when absent */
    int64_t seq;                     /* -1 when absent */
    int64_t ts_ns;                   /* -1 when absent */
} scn_envelope;

/* Parses payload[0..len). Returns 0, SCN_ERR_MALFORMED (not JSON, not an
 * object, "data" missing or not an object, "seq" not an integer 0..2^53,
 * "run" not a string of at most SCN_FLEET_RUN_MAX, "ts" not a
 * non-negative integer) or SCN_ERR_NOMEM. */
int scn__envelope_parse(const char *payload, size_t len, scn_envelope *env);
void scn__envelope_free(scn_envelope *env);

/* The bytes of the value of top-level member key in json[0..len), a
 * valid JSON object (as the strict parse checked): *start and *vlen.
 * Returns 0 or -1 (no such member). */
int scn__json_member_span(const char *json, size_t len, const char *key,
                          const char **start, size_t *vlen);

#endif
