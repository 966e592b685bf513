/* The drone: command rules, kinematics, scent navigation, state. */
#include "uav_drone.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/simlog.h"

#define UAV_PI       3.14159265358979323846
#define OIO_PROBE_CM 25.0 /* finite-difference step of the gradient */
#define OIO_STEP_MAX (OIO_PROBE_CM / 2) /* no step past the peak */
#define ACC_MAX      2000.0             /* cm/s^2 reported at most */
#define MIN_ACTION_S 0.05

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser: noise from (seed, counter), no hidden state */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Deterministic noise in [-1, 1). */
static double noise(uav_drone *d)
{
    uint64_t h = mix(d->seed ^ mix(++d->noise_n));

    return (double)(h >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static double wrap_yaw(double y)
{
    y = fmod(y + 180.0, 360.0);
    if (y < 0)
        y += 360.0;
    return y - 180.0;
}

/* Body frame: x forward, y left, z up; yaw turns clockwise seen from
 * above, so cw 90 makes forward what was right. */
static void body_to_world(const uav_drone *d, double bx, double by, double bz,
                          double out[3])
{
    double r = d->yaw * UAV_PI / 180.0, c = cos(r), s = sin(r);

    out[0] = bx * c + by * s;
    out[1] = -bx * s + by * c;
    out[2] = bz;
}

static double dist(const double a[3], const double b[3])
{
    double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];

    return sqrt(dx * dx + dy * dy + dz * dz);
}

static void drone_event(uav_drone *d, const char *what)
{
    cJSON *ev = simlog_event("drone");

    cJSON_AddStringToObject(ev, "what", what);
    cJSON_AddNumberToObject(ev, "x", round(d->pos[0]));
    cJSON_AddNumberToObject(ev, "y", round(d->pos[1]));
    cJSON_AddNumberToObject(ev, "z", round(d->pos[2]));
    cJSON_AddNumberToObject(ev, "battery", ceil(d->battery));
    simlog_emit(ev);
}

static void answer(uav_drone *d, unsigned long conn, scn_uav_cmd_id id,
                   const char *text)
{
    if (conn && d->hooks.answer)
        d->hooks.answer(d->hooks.ctx, conn, id, text);
}

void uav_drone_init(uav_drone *d, const plume *pl, uint64_t seed,
                    double battery, double battery_drain_s,
                    const uav_hooks *hooks)
{
    memset(d, 0, sizeof(*d));
    d->pl = pl;
    d->seed = seed;
    d->battery = battery;
    d->battery_drain_s = battery_drain_s;
    d->hooks = *hooks;
    d->speed = UAV_DEFAULT_SPEED;
    d->oio_compound = plume_compound_index("VOC");
}

size_t uav_drone_queued(const uav_drone *d)
{
    return d->q_len;
}

/* Ends the running action and empties the queue, without answers. */
static void interrupt_all(uav_drone *d, const char *by)
{
    if (d->act.kind && d->act.conn && d->hooks.interrupted)
        d->hooks.interrupted(d->hooks.ctx, d->act.conn, d->act.cmd, by);
    d->act.kind = UAV_ACT_NONE;
    for (; d->q_len; d->q_len--, d->q_head = (d->q_head + 1) % UAV_QUEUE_MAX) {
        const uav_queued *q = &d->q[d->q_head];

        if (d->hooks.interrupted)
            d->hooks.interrupted(d->hooks.ctx, q->conn, q->cmd.id, by);
    }
}

/* Starts an action along p0 -> p1 (-> p2 when legs is 2). */
static void start_action(uav_drone *d, uav_action_kind kind, unsigned long conn,
                         scn_uav_cmd_id id, double to[][3], int legs,
                         double dyaw, double duration)
{
    uav_action *a = &d->act;
    int i;

    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->cmd = id;
    a->conn = conn;
    memcpy(a->p[0], d->pos, sizeof(a->p[0]));
    for (i = 0; i < legs; i++)
        memcpy(a->p[i + 1], to[i], sizeof(a->p[0]));
    a->legs = legs;
    a->yaw0 = d->yaw;
    a->dyaw = dyaw;
    if (duration > UAV_ACTION_MAX_S)
        duration = UAV_ACTION_MAX_S; /* flown faster than asked */
    a->duration = duration < MIN_ACTION_S ? MIN_ACTION_S : duration;
    memset(d->rc, 0, sizeof(d->rc)); /* a command ends rc control */
}

static void action_pose(uav_drone *d, double f)
{
    const uav_action *a = &d->act;
    double l1 = a->legs ? dist(a->p[0], a->p[1]) : 0;
    double l2 = a->legs == 2 ? dist(a->p[1], a->p[2]) : 0;
    double s = f * (l1 + l2), u;
    const double *from = a->p[0], *to = a->p[a->legs ? 1 : 0];
    int i;

    if (a->legs == 2 && s > l1) {
        from = a->p[1];
        to = a->p[2];
        u = l2 > 0 ? (s - l1) / l2 : 1;
    } else {
        u = l1 > 0 ? s / l1 : 1;
    }
    for (i = 0; i < 3; i++)
        d->pos[i] = from[i] + (to[i] - from[i]) * u;
    d->yaw = wrap_yaw(a->yaw0 + f * a->dyaw);
}

static void land_now(uav_drone *d)
{
    double to[1][3] = {{d->pos[0], d->pos[1], 0}};
    double s = d->pos[2] / 100.0;

    start_action(d, UAV_ACT_LAND, 0, SCN_UAV_LAND, to, 1, 0,
                 s > UAV_LAND_S ? s : UAV_LAND_S);
}

static void finish_action(uav_drone *d)
{
    uav_action a = d->act;

    action_pose(d, 1.0);
    d->act.kind = UAV_ACT_NONE;
    if (a.kind == UAV_ACT_LAND) {
        d->flying = 0;
        d->pos[2] = 0;
        memset(d->vel, 0, sizeof(d->vel));
        drone_event(d, "landed");
    } else if (a.kind == UAV_ACT_TAKEOFF) {
        drone_event(d, "airborne");
    }
    answer(d, a.conn, a.cmd, "ok");
}

static double conc(const uav_drone *d, int c, double x, double y, double z)
{
    double v = plume_concentration(d->pl, c, x, y, z, d->t);

    return v > 0 ? v : 0; /* a sensor reads no negative level */
}

/* One step of scent navigation: up the concentration gradient of the
 * tracked compound, hovering where no probe around reads more (the
 * source, to the probe's resolution; it meanders, so this is checked
 * again every step). */
static void oio_step(uav_drone *d, double dt)
{
    const double h = OIO_PROBE_CM, *p = d->pos;
    int c = d->oio_compound, i;
    double c0 = conc(d, c, p[0], p[1], p[2]), g[3], n = 0, step;
    double lo[3], hi[3];

    hi[0] = conc(d, c, p[0] + h, p[1], p[2]);
    lo[0] = conc(d, c, p[0] - h, p[1], p[2]);
    hi[1] = conc(d, c, p[0], p[1] + h, p[2]);
    lo[1] = conc(d, c, p[0], p[1] - h, p[2]);
    hi[2] = conc(d, c, p[0], p[1], p[2] + h);
    lo[2] = p[2] - h >= UAV_H_MIN_CM ? conc(d, c, p[0], p[1], p[2] - h) : 0;
    for (i = 0; i < 3; i++) {
        g[i] = hi[i] - lo[i];
        n += g[i] * g[i];
    }
    n = sqrt(n);
    if (n <= 0 || (hi[0] <= c0 && lo[0] <= c0 && hi[1] <= c0 && lo[1] <= c0 &&
                   hi[2] <= c0 && lo[2] <= c0)) {
        /* Logged once per oio start: the source meanders, so the drone
         * keeps arriving as it follows. */
        if (!d->oio_arrived) {
            d->oio_arrived = 1;
            drone_event(d, "oio_arrived");
        }
        return;
    }
    step = d->speed * dt;
    if (step > OIO_STEP_MAX)
        step = OIO_STEP_MAX;
    for (i = 0; i < 3; i++)
        d->pos[i] += step * g[i] / n;
}

/* Free flight (no action): rc sticks, else scent navigation. */
static void free_flight(uav_drone *d, double dt)
{
    double v[3];

    if (d->rc[0] || d->rc[1] || d->rc[2] || d->rc[3]) {
        /* a: right, b: forward, c: up, d: yaw, in % of the speed */
        body_to_world(d, d->rc[1] * d->speed / 100.0,
                      -d->rc[0] * d->speed / 100.0, d->rc[2] * d->speed / 100.0,
                      v);
        d->pos[0] += v[0] * dt;
        d->pos[1] += v[1] * dt;
        d->pos[2] += v[2] * dt;
        d->yaw = wrap_yaw(d->yaw + d->rc[3] * UAV_YAW_RATE / 100.0 * dt);
    } else if (d->oio) {
        oio_step(d, dt);
    }
    if (d->pos[2] < UAV_H_MIN_CM)
        d->pos[2] = UAV_H_MIN_CM;
    if (d->pos[2] > UAV_H_MAX_CM)
        d->pos[2] = UAV_H_MAX_CM;
}

static void physics(uav_drone *d, double dt)
{
    double old[3], v;
    int i;

    memcpy(old, d->pos, sizeof(old));
    if (d->act.kind) {
        d->act.elapsed += dt;
        action_pose(d, d->act.elapsed >= d->act.duration
                           ? 1.0
                           : d->act.elapsed / d->act.duration);
    } else if (d->flying) {
        free_flight(d, dt);
    }
    d->t += dt;
    if (dt > 1e-6) {
        for (i = 0; i < 3; i++) {
            v = (d->pos[i] - old[i]) / dt;
            d->acc[i] = (v - d->vel[i]) / dt;
            if (d->acc[i] > ACC_MAX)
                d->acc[i] = ACC_MAX;
            if (d->acc[i] < -ACC_MAX)
                d->acc[i] = -ACC_MAX;
            d->vel[i] = v;
        }
    }
    if (!d->flying)
        return;
    d->motor_s += dt;
    d->battery -= dt / d->battery_drain_s;
    if (d->battery <= 0) {
        d->battery = 0;
        if (d->act.kind != UAV_ACT_LAND) {
            /* An empty battery lands the drone, whatever it was doing;
             * the command it cuts short is answered error. */
            if (d->act.kind)
                answer(d, d->act.conn, d->act.cmd, "error battery empty");
            drone_event(d, "battery_empty");
            land_now(d);
        }
    }
}

static void emergency(uav_drone *d)
{
    interrupt_all(d, "emergency");
    /* Motors off: the drone drops where it is. */
    d->flying = 0;
    d->pos[2] = 0;
    memset(d->vel, 0, sizeof(d->vel));
    memset(d->rc, 0, sizeof(d->rc));
    d->oio = 0;
    drone_event(d, "emergency");
}

static void stop(uav_drone *d)
{
    interrupt_all(d, "stop");
    memset(d->rc, 0, sizeof(d->rc));
    d->oio = 0; /* hover means hover: scent navigation ends too */
    memset(d->vel, 0, sizeof(d->vel));
}

/* A motion: where to, and how long it takes. Returns an error reason or
 * NULL. */
static const char *motion(uav_drone *d, unsigned long conn,
                          const scn_uav_cmd *c)
{
    double to[2][3], len = 0, dyaw = 0, dur, b[3] = {0, 0, 0};
    const int *a = c->arg;
    int legs = 1, i;

    switch (c->id) {
    case SCN_UAV_UP:
    case SCN_UAV_DOWN:
        b[2] = c->id == SCN_UAV_UP ? a[0] : -a[0];
        break;
    case SCN_UAV_FORWARD:
    case SCN_UAV_BACK:
        b[0] = c->id == SCN_UAV_FORWARD ? a[0] : -a[0];
        break;
    case SCN_UAV_LEFT:
    case SCN_UAV_RIGHT:
        b[1] = c->id == SCN_UAV_LEFT ? a[0] : -a[0];
        break;
    case SCN_UAV_CW:
    case SCN_UAV_CCW:
        dyaw = c->id == SCN_UAV_CW ? a[0] : -a[0];
        break;
    case SCN_UAV_GO:
        b[0] = a[0];
        b[1] = a[1];
        b[2] = a[2];
        break;
    case SCN_UAV_CURVE:
        /* Flown as two straight legs through p1: the end point and the
         * time are what a client observes. */
        legs = 2;
        break;
    default: /* flip */
        break;
    }
    if (legs == 2) {
        body_to_world(d, a[0], a[1], a[2], to[0]);
        body_to_world(d, a[3], a[4], a[5], to[1]);
    } else {
        body_to_world(d, b[0], b[1], b[2], to[0]);
    }
    for (i = 0; i < legs; i++) {
        to[i][0] += d->pos[0];
        to[i][1] += d->pos[1];
        to[i][2] += d->pos[2];
        if (to[i][2] < UAV_H_MIN_CM || to[i][2] > UAV_H_MAX_CM)
            return "error height out of range 20-3000 cm";
    }
    len = dist(d->pos, to[0]) + (legs == 2 ? dist(to[0], to[1]) : 0);
    if (c->id == SCN_UAV_CW || c->id == SCN_UAV_CCW)
        dur = fabs(dyaw) / UAV_YAW_RATE;
    else if (c->id == SCN_UAV_FLIP)
        dur = UAV_FLIP_S;
    else if (c->id == SCN_UAV_GO)
        dur = len / a[3];
    else if (c->id == SCN_UAV_CURVE)
        dur = len / a[6];
    else
        dur = len / d->speed;
    start_action(d, c->id == SCN_UAV_FLIP ? UAV_ACT_FLIP : UAV_ACT_MOVE, conn,
                 c->id, to, legs, dyaw, dur);
    return NULL;
}

static void snr(uav_drone *d, char *out, size_t cap, int base)
{
    snprintf(out, cap, "%d", base + (int)lround(2.0 * noise(d)));
}

static void sensor_pos(const uav_drone *d, int side, double p[3])
{
    body_to_world(d, 0, side ? -UAV_SENSOR_HALF_CM : UAV_SENSOR_HALF_CM, 0, p);
    p[0] += d->pos[0];
    p[1] += d->pos[1];
    p[2] += d->pos[2];
}

static double olf(const uav_drone *d, int side)
{
    double p[3];

    sensor_pos(d, side, p);
    return conc(d, d->oio_compound, p[0], p[1], p[2]);
}

/* The value a read command answers. */
static void read_value(uav_drone *d, scn_uav_cmd_id id, char *out, size_t cap)
{
    switch (id) {
    case SCN_UAV_READ_SPEED:
        snprintf(out, cap, "%d", (int)lround(d->speed));
        break;
    case SCN_UAV_READ_BATTERY:
        snprintf(out, cap, "%d", (int)ceil(d->battery));
        break;
    case SCN_UAV_READ_TIME:
        snprintf(out, cap, "%d", (int)d->motor_s);
        break;
    case SCN_UAV_READ_WIFI:
        snr(d, out, cap, 25);
        break;
    case SCN_UAV_READ_GPS:
        snr(d, out, cap, 21);
        break;
    case SCN_UAV_READ_BLE:
        snr(d, out, cap, 18);
        break;
    case SCN_UAV_READ_POS:
        /* + 0.0 turns -0.0 into 0.0 */
        snprintf(out, cap, "%.4f, %.4f", d->pos[0] + 0.0, d->pos[1] + 0.0);
        break;
    case SCN_UAV_READ_SDK:
        snprintf(out, cap, "%s", UAV_SDK_VERSION);
        break;
    case SCN_UAV_READ_SN:
        snprintf(out, cap, "%s", UAV_SERIAL);
        break;
    case SCN_UAV_READ_OLFA:
    case SCN_UAV_READ_OLFB:
        snprintf(out, cap, "%.2f", olf(d, id == SCN_UAV_READ_OLFB) + 0.0);
        break;
    default:
        snprintf(out, cap, "error unknown read");
        break;
    }
}

static void oio_set(uav_drone *d, int on)
{
    d->oio = on;
    d->oio_arrived = 0;
}

/* Runs one command from the queue (never emergency; stop only before
 * SDK mode). */
static void exec(uav_drone *d, unsigned long conn, const scn_uav_cmd *c)
{
    const char *err = NULL;
    char out[64];

    if (!d->sdk && c->id != SCN_UAV_HELLO) {
        answer(d, conn, c->id, "error not in SDK mode");
        return;
    }
    switch (scn_uav_cmd_kind(c->id)) {
    case SCN_UAV_KIND_READ:
        read_value(d, c->id, out, sizeof(out));
        answer(d, conn, c->id, out);
        return;
    case SCN_UAV_KIND_MOTION:
        err = d->flying ? motion(d, conn, c) : "error not flying";
        if (err)
            answer(d, conn, c->id, err);
        return; /* answered when the move ends */
    default:
        break;
    }
    switch (c->id) {
    case SCN_UAV_HELLO:
        d->sdk = 1;
        if (d->hooks.activated)
            d->hooks.activated(d->hooks.ctx, conn);
        break;
    case SCN_UAV_TAKEOFF:
        if (d->flying) {
            err = "error already flying";
        } else if (d->battery < UAV_BATTERY_MIN) {
            err = "error battery low";
        } else {
            double to[1][3] = {{d->pos[0], d->pos[1], UAV_TAKEOFF_H_CM}};

            d->flying = 1;
            drone_event(d, "takeoff");
            start_action(d, UAV_ACT_TAKEOFF, conn, c->id, to, 1, 0,
                         UAV_TAKEOFF_S);
            return;
        }
        break;
    case SCN_UAV_LAND:
        if (!d->flying) {
            err = "error not flying";
            break;
        }
        land_now(d);
        d->act.conn = conn;
        return;
    case SCN_UAV_STREAMON:
    case SCN_UAV_STREAMOFF:
        d->streaming = c->id == SCN_UAV_STREAMON;
        if (d->hooks.stream)
            d->hooks.stream(d->hooks.ctx, d->streaming);
        break;
    case SCN_UAV_OIOON:
    case SCN_UAV_OIOOFF:
        oio_set(d, c->id == SCN_UAV_OIOON);
        break;
    case SCN_UAV_OIO:
        d->oio_compound = plume_compound_index(scn_compound_name(c->compound));
        if (d->oio_compound < 0) /* cannot happen: validated */
            d->oio_compound = plume_compound_index("VOC");
        oio_set(d, 1);
        break;
    case SCN_UAV_SPEED:
        d->speed = c->arg[0];
        break;
    case SCN_UAV_RC:
        if (!d->flying) {
            err = "error not flying";
            break;
        }
        memcpy(d->rc, c->arg, sizeof(d->rc));
        break;
    case SCN_UAV_MDIRECTION:
        d->mdirection = c->arg[0];
        break;
    case SCN_UAV_SSID:
    case SCN_UAV_AP:
        /* Kept for realism; the password is not even stored. */
        snprintf(d->ssid, sizeof(d->ssid), "%s", c->ssid);
        break;
    default: /* stop before SDK mode is refused above */
        break;
    }
    answer(d, conn, c->id, err ? err : "ok");
}

static void run_queue(uav_drone *d)
{
    while (!d->act.kind && d->q_len) {
        uav_queued q = d->q[d->q_head];

        d->q_head = (d->q_head + 1) % UAV_QUEUE_MAX;
        d->q_len--;
        exec(d, q.conn, &q.cmd);
    }
}

void uav_drone_submit(uav_drone *d, unsigned long conn, const scn_uav_cmd *cmd)
{
    if (cmd->id == SCN_UAV_EMERGENCY) {
        emergency(d);
        answer(d, conn, cmd->id, "ok");
        return;
    }
    if (cmd->id == SCN_UAV_STOP && d->sdk) {
        stop(d);
        answer(d, conn, cmd->id, "ok");
        return;
    }
    if (d->q_len == UAV_QUEUE_MAX) {
        answer(d, conn, cmd->id, "error busy");
        return;
    }
    d->q[(d->q_head + d->q_len) % UAV_QUEUE_MAX] = (uav_queued){conn, *cmd};
    d->q_len++;
    run_queue(d);
}

void uav_drone_advance(uav_drone *d, double t)
{
    double left = t - d->t, step;

    run_queue(d);
    while (left > 1e-9) {
        step = left;
        if (d->act.kind && d->act.duration - d->act.elapsed < step)
            step = d->act.duration - d->act.elapsed;
        if (step < 0)
            step = 0;
        physics(d, step);
        left -= step;
        if (d->act.kind && d->act.elapsed >= d->act.duration - 1e-9) {
            finish_action(d);
            run_queue(d);
        }
    }
    d->t = t;
}

void uav_drone_state(uav_drone *d, scn_uav_state *st)
{
    double fwd, right, r = d->yaw * UAV_PI / 180.0;
    double mg = 1000.0 / 981.0; /* cm/s^2 to milli-g */
    int templ = 40 + (int)fmin(d->motor_s / 15.0, 40.0);

    memset(st, 0, sizeof(*st));
    /* Tilt follows the horizontal speed, as a multicopter's does. */
    fwd = d->vel[0] * cos(r) - d->vel[1] * sin(r);
    right = -(d->vel[0] * sin(r) + d->vel[1] * cos(r));
    scn_uav_state_set(st, SCN_UAV_F_PITCH, -fwd / 10.0 + 0.7 * noise(d));
    scn_uav_state_set(st, SCN_UAV_F_ROLL, right / 10.0 + 0.7 * noise(d));
    scn_uav_state_set(st, SCN_UAV_F_YAW, d->yaw);
    scn_uav_state_set(st, SCN_UAV_F_VGX, d->vel[0]);
    scn_uav_state_set(st, SCN_UAV_F_VGY, d->vel[1]);
    scn_uav_state_set(st, SCN_UAV_F_VGZ, d->vel[2]);
    scn_uav_state_set(st, SCN_UAV_F_TEMPL, templ);
    scn_uav_state_set(st, SCN_UAV_F_TEMPH, templ + 3);
    scn_uav_state_set(st, SCN_UAV_F_TOF, d->pos[2]);
    scn_uav_state_set(st, SCN_UAV_F_H, d->pos[2]);
    scn_uav_state_set(st, SCN_UAV_F_BAT, ceil(d->battery));
    scn_uav_state_set(st, SCN_UAV_F_BARO, d->pos[2] + 2.0 * noise(d));
    scn_uav_state_set(st, SCN_UAV_F_TIME, floor(d->motor_s));
    scn_uav_state_set(st, SCN_UAV_F_AGX, d->acc[0] * mg + 3.0 * noise(d));
    scn_uav_state_set(st, SCN_UAV_F_AGY, d->acc[1] * mg + 3.0 * noise(d));
    scn_uav_state_set(st, SCN_UAV_F_AGZ,
                      -1000.0 + d->acc[2] * mg + 3.0 * noise(d));
    scn_uav_state_set(st, SCN_UAV_F_OLFA, olf(d, 0));
    scn_uav_state_set(st, SCN_UAV_F_OLFB, olf(d, 1));
    scn_uav_state_set(st, SCN_UAV_F_X, d->pos[0]);
    scn_uav_state_set(st, SCN_UAV_F_Y, d->pos[1]);
    scn_uav_state_set(st, SCN_UAV_F_Z, d->pos[2]);
}
