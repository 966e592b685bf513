/*
 * The simulated drone, without I/O: the mode rules of the UAV-Sockets
 * commands, a simple kinematic model (position, yaw, battery, motor time),
 * scent navigation over the plume model, and the state it reports.
 *
 * Commands run one at a time, in the order received, across connections:
 * a motion (or takeoff, land) holds the ones behind it until it ends and
 * is answered, as a single-threaded drone firmware would. emergency (and
 * stop, once in SDK mode) act at once: they cut the running action and
 * every queued command short and are answered ok at once. The commands
 * cut short get no answer at all: an "error" for them would arrive just
 * when the client waits for the emergency's answer, and an "error" can
 * belong to any command, so the client could take it for that answer.
 */
#ifndef SCN_SIM_UAV_DRONE_H
#define SCN_SIM_UAV_DRONE_H

#include <stddef.h>
#include <stdint.h>

#include <scentience/uav.h>

#include "common/plume.h"

#define UAV_QUEUE_MAX      256
#define UAV_TAKEOFF_H_CM   80.0
#define UAV_H_MIN_CM       20.0   /* lowest flying height */
#define UAV_H_MAX_CM       3000.0 /* highest */
#define UAV_ACTION_MAX_S   30.0   /* longest action, simulated seconds */
#define UAV_TAKEOFF_S      1.0
#define UAV_LAND_S         1.0
#define UAV_FLIP_S         1.0
#define UAV_YAW_RATE       90.0 /* degrees per second for cw/ccw */
#define UAV_BATTERY_MIN    10   /* % below which takeoff is refused */
#define UAV_DEFAULT_SPEED  20
#define UAV_SDK_VERSION    "1.0.0-scentience"
#define UAV_SERIAL         "SCN00001"
#define UAV_SENSOR_HALF_CM 5.0 /* sensors A (left) and B (right) */

typedef struct uav_hooks {
    /* An answer to the command conn sent. */
    void (*answer)(void *ctx, unsigned long conn, scn_uav_cmd_id id,
                   const char *text);
    /* A command of conn cut short by emergency or stop (by): it gets no
     * answer (see the top of this file). */
    void (*interrupted)(void *ctx, unsigned long conn, scn_uav_cmd_id id,
                        const char *by);
    /* hello_scentience from conn was accepted. */
    void (*activated)(void *ctx, unsigned long conn);
    /* streamon (1) / streamoff (0). */
    void (*stream)(void *ctx, int on);
    void *ctx;
} uav_hooks;

typedef enum uav_action_kind {
    UAV_ACT_NONE = 0,
    UAV_ACT_TAKEOFF,
    UAV_ACT_LAND,
    UAV_ACT_MOVE, /* straight legs and/or a rotation */
    UAV_ACT_FLIP
} uav_action_kind;

/* What the drone is doing: a path of up to two legs from p[0] through
 * p[1] to p[2] (legs 1 or 2) and a yaw change, over duration seconds. */
typedef struct uav_action {
    uav_action_kind kind;
    scn_uav_cmd_id cmd;
    unsigned long conn; /* 0: nobody to answer (automatic landing) */
    double p[3][3];
    int legs;
    double yaw0, dyaw;
    double duration, elapsed;
} uav_action;

typedef struct uav_queued {
    unsigned long conn;
    scn_uav_cmd cmd;
} uav_queued;

typedef struct uav_drone {
    const plume *pl;
    uint64_t seed;
    double battery_drain_s;
    uav_hooks hooks;

    int sdk, flying, streaming;
    int oio, oio_compound, oio_arrived; /* plume index */
    double pos[3];                      /* cm from home: x, y, z (height) */
    double yaw;                         /* degrees, -180..180, cw positive */
    double vel[3], acc[3];              /* cm/s, cm/s^2, world frame */
    double speed;                       /* cm/s */
    int rc[4];
    double battery; /* % */
    double motor_s; /* motor-on time */
    double t;       /* simulated seconds */
    int mdirection;
    char ssid[SCN_UAV_SSID_MAX + 1];
    uint64_t noise_n;

    uav_action act;
    uav_queued q[UAV_QUEUE_MAX]; /* ring */
    unsigned q_head, q_len;
} uav_drone;

void uav_drone_init(uav_drone *d, const plume *pl, uint64_t seed,
                    double battery, double battery_drain_s,
                    const uav_hooks *hooks);
/* A valid command from conn: run now, queue, or (emergency, stop) act at
 * once. */
void uav_drone_submit(uav_drone *d, unsigned long conn, const scn_uav_cmd *cmd);
/* Advances the simulation to t (simulated seconds). */
void uav_drone_advance(uav_drone *d, double t);
/* Commands waiting behind the running one. */
size_t uav_drone_queued(const uav_drone *d);
/* The state the drone reports, every documented field present. */
void uav_drone_state(uav_drone *d, scn_uav_state *st);

#endif
