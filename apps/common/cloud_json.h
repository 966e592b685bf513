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

#endif
