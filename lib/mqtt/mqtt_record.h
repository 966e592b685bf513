/*
 * A QoS 1 message as it waits in the spool (lib/cloud/spool.c holds the
 * bytes, this file their meaning). Record, in order:
 *   u8  version (1)
 *   u8  flags: bit 0 retain; the other bits zero
 *   u16 topic length, big-endian (without the NUL)
 *   the topic, then a NUL (so that it is read in place as a C string)
 *   the payload, to the end of the record
 * Plain C, no I/O.
 */
#ifndef SCN_MQTT_RECORD_H
#define SCN_MQTT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCN_MQTT_RECORD_VERSION 1
#define SCN_MQTT_RECORD_HEAD    4u
#define SCN_MQTT_TOPIC_MAX      65535u

typedef struct scn_mqtt_record {
    const char *topic; /* NUL-terminated, inside the record */
    size_t topic_len;
    const void *payload; /* inside the record */
    size_t len;
    bool retain;
} scn_mqtt_record;

/* Bytes the record of a topic and payload takes (0: it cannot be made:
 * the topic is too long or the size overflows). */
size_t scn__mqtt_record_size(size_t topic_len, size_t payload_len);

/* Writes the record into buf (cap bytes, at least scn__mqtt_record_size).
 * Returns the bytes written, or 0 when it does not fit. */
size_t scn__mqtt_record_encode(void *buf, size_t cap, const char *topic,
                               size_t topic_len, const void *payload,
                               size_t len, bool retain);

/* Reads a record in place. Returns 0 or SCN_ERR_MALFORMED (wrong version,
 * unknown flags, a topic that runs past the end, is empty, holds a NUL or
 * is not followed by one). */
int scn__mqtt_record_decode(const void *rec, size_t rec_len,
                            scn_mqtt_record *out);

#endif
