/*
 * The fleet's MQTT topic tree (docs/PROTOCOL.md 12.2): topics under
 * scentience/v1/<drone-id>/, each with its QoS and retain flag, the
 * envelope every payload is wrapped in ({"run","seq","ts","data"}) and the
 * per-topic seq. Plain C: no broker, no clock.
 */
#ifndef SCN_APP_FLEET_TOPIC_H
#define SCN_APP_FLEET_TOPIC_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_TOPIC_ROOT "scentience/v1/"
/* Longest drone id: portable as an MQTT client id (and a topic level). */
#define FLEET_DRONE_ID_MAX 23
/* Longest topic: the root, an id, '/', the longest stream name. */
#define FLEET_TOPIC_MAX 64
/* The run id: 16 lowercase hex digits. */
#define FLEET_RUN_LEN 16

typedef enum fleet_stream {
    FLEET_OLFACTION = 0,
    FLEET_STATE,
    FLEET_INFERENCE,
    FLEET_EVENTS,
    FLEET_COMMAND,
    FLEET_STATUS,
    FLEET_REQUEST, /* command/request: to the drone */
    FLEET_REPLY,   /* command/reply */
    FLEET_STREAM_COUNT
} fleet_stream;

/* "olfaction", ..., "command/request"; NULL out of range. */
const char *fleet_stream_name(fleet_stream s);
/* data_qos (0 by default, --mqtt-data-qos) for olfaction and state, 1 for
 * the others. */
int fleet_stream_qos(fleet_stream s, int data_qos);
/* 1 for status only. */
int fleet_stream_retained(fleet_stream s);

/* 0 when id is 1-FLEET_DRONE_ID_MAX bytes of [A-Za-z0-9_-]; else -1 with a
 * sentence in why. */
int fleet_drone_id_check(const char *id, char *why, size_t why_cap);

/* Writes scentience/v1/<id>/<stream> into buf; returns its length, or 0
 * when id is not a valid drone id, s is out of range or cap is too
 * small. */
size_t fleet_topic(char *buf, size_t cap, const char *id, fleet_stream s);

/* Splits a topic of the tree: the drone id into id (cap bytes) and the
 * stream into *s. Returns 0, or -1 for anything else (another root, a
 * bad id, an unknown stream). */
int fleet_topic_parse(const char *topic, char *id, size_t id_cap,
                      fleet_stream *s);

/* Each topic's next seq (1 first): one per topic, per run. */
typedef struct fleet_seqs {
    uint64_t last[FLEET_STREAM_COUNT];
} fleet_seqs;

/* The seq of the next message on s (counted: a message that is then
 * dropped leaves a gap, as it should). */
uint64_t fleet_seq_next(fleet_seqs *q, fleet_stream s);

/* The run id from 8 random bytes: FLEET_RUN_LEN hex digits and a NUL. */
void fleet_run_id(char out[FLEET_RUN_LEN + 1], const uint8_t random8[8]);

/* {"run":RUN,"seq":SEQ,"ts":TS,"data":DATA} (no "ts" when ts_ns < 0) into
 * buf. data[0..len) must be one JSON value; it is copied as it is.
 * Returns the length the envelope needs (without a NUL), like snprintf:
 * written whole (NUL-terminated) only when it is less than cap. */
size_t fleet_envelope(char *buf, size_t cap, const char *run, uint64_t seq,
                      int64_t ts_ns, const char *data, size_t len);

#endif
