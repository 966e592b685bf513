/*
 * The recording's cloud messages, shared by scn-companion and scn-record so
 * that both write the same /inference and /cloud/record messages (schemas
 * in lib/mcap/recorder_schemas.c).
 */
#ifndef SCN_APP_CLOUD_JSON_H
#define SCN_APP_CLOUD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <scentience/cloud.h>

/* Both return the length written to buf (NUL-terminated), or 0 when the
 * message does not fit in cap: a cut message would not be JSON. */

/* An inference push; age_ms < 0 leaves age_ms out (frame unknown). */
size_t cloud_inference_json(char *buf, size_t cap, const scn_cloud_result *r,
                            int64_t age_ms);

/* A fused record as submitted: seq, stream id, the frame's UID and
 * TIMESTAMP, and state_json (a JSON object, or NULL: none) with age_ms. */
size_t cloud_record_json(char *buf, size_t cap, uint64_t seq,
                         const char *stream, const char *uid,
                         const char *timestamp, const char *state_json,
                         int64_t age_ms);

/* A buffer the caller keeps for these messages and the functions below
 * grow to the longest one, so that no message is too long to record:
 * {NULL, 0} to start, free(buf) at the end. */
typedef struct cloud_text {
    char *buf;
    size_t cap;
} cloud_text;

/* As cloud_inference_json(), into t (first grown to 4 KiB): returns the
 * length, 0 only when memory runs out. */
size_t cloud_inference_text(cloud_text *t, const scn_cloud_result *r,
                            int64_t age_ms);

/* As cloud_record_json(), into t (first grown to first bytes): returns
 * the length, 0 only when memory runs out. */
size_t cloud_record_text(cloud_text *t, size_t first, uint64_t seq,
                         const char *stream, const char *uid,
                         const char *timestamp, const char *state_json,
                         int64_t age_ms);

#endif
