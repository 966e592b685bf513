/*
 * What the fleet output's files share (fleet.c: the link, publishing,
 * status; fleet_command.c: fleet commands). Internal to scn-companion.
 */
#ifndef SCN_COMPANION_FLEET_H
#define SCN_COMPANION_FLEET_H

#include <scentience/mqtt.h>

#include "companion.h"
#include "fleet_gate.h"
#include "fleet_topic.h"
#include "json_obj.h"
#include "newest_wins.h"

/* The two thinned streams. */
enum { THIN_OLFACTION, THIN_STATE, THIN_COUNT };

struct comp_fleet {
    comp *c;
    scn_mqtt *m;
    char run[FLEET_RUN_LEN + 1];
    fleet_seqs seqs;
    char topic[FLEET_STREAM_COUNT][FLEET_TOPIC_MAX];
    newest_wins thin[THIN_COUNT];
    scn_timer *thin_timer[THIN_COUNT];
    fleet_gate gate;
    int data_qos; /* olfaction's and state's QoS (--mqtt-data-qos) */
    char *buf;    /* the envelope being published */
    size_t cap;
    int opened;  /* connected at least once */
    int dead;    /* refused for good after having been connected */
    int freeing; /* in scn_mqtt_free: its callbacks publish nothing */
    /* In on_error or on_spool_drop: what they record is not published,
     * since a publish from there could fail or drop again and call them
     * back without end (a full disk). stderr and the recording have it. */
    int quiet;
    char device_uid[64];
    char serial[64];
    int serial_asked;
    char follow[32]; /* the follow rule a fleet command set */
    uint64_t publish_errors, requests, refused;
    cli_ratelimit rl_err;
};

/* The longest fleet message the companion builds (status, reply): far
 * more than their bounded pieces (an id, a command line, a detail, a
 * drone's answer, each escaped) can make. */
#define FLEET_JSON_MAX (64 * 1024)

/* One envelope on s (fleet.c). */
void fleet_publish(comp_fleet *f, fleet_stream s, const char *data, size_t len,
                   int64_t ts_ns);
/* j (pieces, FLEET_JSON_MAX) published on s now, or, when it could not be
 * built whole, counted and said as a message not published; j is freed. */
void fleet_publish_json(comp_fleet *f, fleet_stream s, json_obj *j);

/* A message on command/request (fleet_command.c). */
void fleet_on_request(comp_fleet *f, const scn_mqtt_message *msg);

#endif
