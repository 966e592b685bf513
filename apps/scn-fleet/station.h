/*
 * scn-fleet: the ground station. One scn_loop on the main thread serves
 * the MQTT link to the broker (scn_mqtt), the live listener (scn_live)
 * and the MCAP recorder; the fleet model (scn_fleet, lib/fleet) decides
 * what is new. Every message the model accepts as new goes to the
 * recording and the live listener as it came (the companion's JSON).
 */
#ifndef SCN_FLEET_STATION_H
#define SCN_FLEET_STATION_H

#include <stddef.h>
#include <stdint.h>

#include <scentience/fleet.h>
#include <scentience/live.h>
#include <scentience/mqtt.h>
#include <scentience/recorder.h>
#include <scentience/scentience.h>

#include "live_listen.h"
#include "ratelimit.h"

#define P "scn-fleet"
/* Drones a command line may name with --drone. */
#define GS_MAX_CHOSEN 64

typedef struct gs_config {
    const char *mqtt_url, *username, *password_file, *ca, *cert, *key;
    const char *client_id, *record;
    const char *drones[GS_MAX_CHOSEN];
    size_t drone_count;
    live_listen_settings live; /* --live-* */
    int keepalive_s, table_ms, max_drones;
    int persistent; /* --mqtt-persistent */
    double duration;
} gs_config;

/* What one drone has on the recording and the live listener, by stream
 * (0: not made yet). */
typedef struct gs_channels {
    uint16_t rec[SCN_FLEET_STREAM_COUNT];
    uint32_t live[SCN_FLEET_STREAM_COUNT];
    int shown_online; /* the online flag last printed + 2 (0: none) */
} gs_channels;

typedef struct gs_app {
    const gs_config *cf;
    scn_loop *loop;
    scn_fleet *model;
    scn_mqtt *mqtt;
    scn_recorder *rec;
    scn_live *live;
    gs_channels *chans; /* by drone index, max_drones of them */
    int fatal;          /* the link's fatal error (FAILED), else 0 */
    int rec_error;      /* the recorder's first error, else 0 */
    /* The broker link as the table shows it. */
    scn_state link_state;
    int link_reason;
    uint64_t link_since_ms; /* when link_state began */
    uint64_t outages;       /* links lost after being open */
    size_t subs;            /* distinct filters subscribed to */
    size_t subs_pending;    /* of this connection, not yet granted */
    uint64_t last_outage_ms;
    uint64_t bad_messages; /* refused by the model (counted there too) */
    int table_tty;
    uint64_t next_table_ms;
    /* Fleet tables /live never got (live.c), said at most once an
     * interval. */
    uint64_t tables_unpublished;
    cli_ratelimit rl_table;
} gs_app;

/* ---- streams.c: a stream's names on the recording and /live ---- */

/* "/<id>/<stream>": the recording's and Foxglove's topic. */
void gs_topic(char *buf, size_t cap, const char *id, scn_fleet_stream st);
/* "<id>.<stream>": the /live stream (docs/PROTOCOL.md, Fleet over MQTT). */
void gs_live_stream(char *buf, size_t cap, const char *id, scn_fleet_stream st);
/* Schema name and JSON Schema of a stream's messages. */
const char *gs_schema_name(scn_fleet_stream st);
const char *gs_schema(scn_fleet_stream st);
/* Wall clock, ns since the epoch. */
uint64_t gs_now_ns(void);

/* ---- record.c ---- */

/* Creates cf->record. Returns 0 or an exit code (reported). */
int gs_record_start(gs_app *a);
/* Writes one new message's data on its drone's channel (made on first
 * use), received at t_ns, published at its ts (else t_ns). */
void gs_record(gs_app *a, const scn_fleet_message *m, uint64_t t_ns);
/* Finishes the file; returns 0 or an exit code (reported). */
int gs_record_stop(gs_app *a);

/* ---- live.c ---- */

int gs_live_start(gs_app *a);
void gs_live_publish(gs_app *a, const scn_fleet_message *m, uint64_t t_ns);
/* The "fleet" stream: the table as JSON. */
void gs_live_table(gs_app *a, uint64_t now_ms);
void gs_live_stop(gs_app *a);

/* ---- link.c: the broker ---- */

int gs_link_start(gs_app *a);
void gs_link_stop(gs_app *a);
/* The exit code for a link that cannot start or failed for good (rc):
 * 77 credentials refused, 76 certificate not verified, 64 bad URL, 78
 * password file, 69 otherwise. */
int gs_link_exit(int rc);
/* "open", "reconnecting (down 3.2 s): REASON" for the table. */
void gs_link_describe(const gs_app *a, uint64_t now_ms, char *buf, size_t cap);

/* ---- table.c ---- */

/* Prints the table when its interval has passed (force: now). */
void gs_table_poll(gs_app *a, int force);

/* ---- main.c ---- */

/* One received message: into the model, then (its data) to the
 * recording and the live listener when new. */
void gs_ingest(gs_app *a, const char *topic, const void *payload, size_t len);

#endif
