/*
 * fleet-load: many simulated drones publishing to one MQTT broker, for
 * scn-fleet's benchmark and tests (a stand-in for that many companions,
 * as issue 13 allows). Every drone is its own scn_mqtt client on one
 * loop (one connection each, as companions would have), with a retained
 * birth and a will on scentience/v1/<prefix><i>/status, and publishes
 * olfaction and state at --rate Hz each, QoS 0, in the companion's
 * envelope (docs/PROTOCOL.md 12.2) whose ts is the publish time (wall
 * clock, ns): scn-fleet --latency measures publish-to-table delays from
 * it. Drones are spread over the rate's period so that the broker sees a
 * steady stream, not bursts.
 *
 * usage: fleet-load --url mqtt://HOST:PORT [--drones N] [--rate HZ]
 *                   [--duration S] [--prefix P]
 * Prints one line at the end: published, and dropped while offline.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scentience/scentience.h>
#include <scentience/mqtt.h>
#include <scentience/timer.h>

#define TICK_MS 5

typedef struct drone {
    struct load *load;
    scn_mqtt *m;
    char id[32], run[17];
    char topic_olf[80], topic_state[80], topic_status[80];
    uint64_t seq_olf, seq_state, seq_status;
    int h_cm, bat;
} drone;

typedef struct load {
    scn_loop *loop;
    scn_timer *tick;
    drone *d;
    int n, rate, slots, slot;
    uint64_t ticks;
} load;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void publish(drone *d, const char *topic, uint64_t seq, int qos,
                    int retain, const char *data)
{
    char buf[768];
    int n = snprintf(buf, sizeof(buf),
                     "{\"run\":\"%s\",\"seq\":%llu,\"ts\":%llu,\"data\":%s}",
                     d->run, (unsigned long long)seq,
                     (unsigned long long)wall_ns(), data);

    if (n > 0 && (size_t)n < sizeof(buf))
        scn_mqtt_publish(d->m, topic, buf, (size_t)n, qos, retain);
}

static void on_state(scn_mqtt *m, const scn_state_event *ev, void *user)
{
    drone *d = user;
    char data[160];

    (void)m;
    if (ev->state == SCN_STATE_FAILED)
        fprintf(stderr, "fleet-load: %s: %s\n", d->id,
                scn_strerror(ev->reason));
    if (ev->state != SCN_STATE_OPEN)
        return;
    /* The birth, at every connection (a restarted broker lost it); QoS 0
     * here, as a drone without a spool. */
    snprintf(data, sizeof(data),
             "{\"online\":true,\"version\":\"%s\",\"drone_id\":\"%s\"}",
             scn_version(), d->id);
    publish(d, d->topic_status, ++d->seq_status, 0, 1, data);
}

static void drone_tick(drone *d, uint64_t ticks, int rate)
{
    char data[512], stamp[40];
    uint64_t now = wall_ns();
    time_t sec = (time_t)(now / 1000000000ULL);
    struct tm tm;

    gmtime_r(&sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(data, sizeof(data),
             "{\"UID\":\"LOAD-%s\",\"TIMESTAMP\":\"%s.%03uZ\",\"SEQ\":%llu,"
             "\"CO2\":%.1f,\"NH3\":%.2f,\"VOC\":%.1f,\"ENV_temperatureC\":21.5,"
             "\"ENV_humidity\":40.2,\"BATT_charge\":%d}",
             d->id, stamp, (unsigned)(now / 1000000ULL % 1000),
             (unsigned long long)d->seq_olf + 1, 400.0 + (double)(ticks % 50),
             1.25, 30.0 + (double)(ticks % 7), d->bat);
    publish(d, d->topic_olf, ++d->seq_olf, 0, 0, data);
    d->h_cm = 100 + (int)(ticks % 400);
    snprintf(data, sizeof(data),
             "{\"pitch\":0,\"roll\":0,\"yaw\":%d,\"vgx\":0,\"vgy\":0,"
             "\"vgz\":0,\"templ\":40,\"temph\":42,\"tof\":%d,\"h\":%d,"
             "\"bat\":%d,\"baro\":12.5,\"time\":%llu,\"agx\":0.0,"
             "\"agy\":0.0,\"agz\":-1000.0,\"x\":0,\"y\":0,\"z\":0}",
             (int)(ticks % 360), d->h_cm, d->h_cm, d->bat,
             (unsigned long long)(ticks / (uint64_t)rate));
    publish(d, d->topic_state, ++d->seq_state, 0, 0, data);
}

/* Every TICK_MS: the drones of this slot of the period. */
static void on_tick(scn_timer *t, void *user)
{
    load *l = user;

    for (int i = l->slot; i < l->n; i += l->slots)
        drone_tick(&l->d[i], l->ticks / (uint64_t)l->slots, l->rate);
    if (++l->slot == l->slots)
        l->slot = 0;
    l->ticks++;
    scn_timer_start(t, TICK_MS);
}

static int drone_start(load *l, drone *d, int i, const char *url,
                       const char *prefix)
{
    scn_mqtt_options o;
    char will[160];
    uint64_t r = wall_ns() ^ ((uint64_t)i * 0x9e3779b97f4a7c15ULL);

    d->load = l;
    d->bat = 100 - i % 40;
    snprintf(d->id, sizeof(d->id), "%s%d", prefix, i);
    snprintf(d->run, sizeof(d->run), "%016llx", (unsigned long long)r);
    snprintf(d->topic_olf, sizeof(d->topic_olf), "scentience/v1/%s/olfaction",
             d->id);
    snprintf(d->topic_state, sizeof(d->topic_state), "scentience/v1/%s/state",
             d->id);
    snprintf(d->topic_status, sizeof(d->topic_status),
             "scentience/v1/%s/status", d->id);
    snprintf(will, sizeof(will),
             "{\"run\":\"%s\",\"seq\":0,\"data\":{\"online\":false,"
             "\"reason\":\"lost\"}}",
             d->run);
    scn_mqtt_options_init(&o);
    o.url = url;
    o.client_id = d->id;
    o.will_topic = d->topic_status;
    o.will_payload = will;
    o.on_state = on_state;
    o.user = d;
    return scn_mqtt_new(l->loop, &o, &d->m);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *prefix = "load";
    double duration = 0;
    load l = {0};
    scn_mqtt_stats st, sum = {0};
    uint64_t end_ms = 0;
    int rc;

    l.n = 200;
    l.rate = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v) {
            fprintf(stderr, "fleet-load: %s needs a value\n", a);
            return 64;
        }
        if (!strcmp(a, "--url"))
            url = v;
        else if (!strcmp(a, "--drones"))
            l.n = atoi(v);
        else if (!strcmp(a, "--rate"))
            l.rate = atoi(v);
        else if (!strcmp(a, "--duration"))
            duration = atof(v);
        else if (!strcmp(a, "--prefix"))
            prefix = v;
        else {
            fprintf(stderr, "fleet-load: unknown option %s\n", a);
            return 64;
        }
        i++;
    }
    if (!url || l.n < 1 || l.n > 10000 || l.rate < 1 || l.rate > 200) {
        fprintf(stderr, "usage: fleet-load --url mqtt://HOST:PORT [--drones "
                        "1-10000] [--rate 1-200] [--duration S] [--prefix "
                        "P]\n");
        return 64;
    }
    l.slots = 1000 / l.rate / TICK_MS;
    if (l.slots < 1)
        l.slots = 1;
    l.d = calloc((size_t)l.n, sizeof(*l.d));
    if (!l.d || scn_loop_new(NULL, &l.loop) ||
        scn_timer_new(l.loop, on_tick, &l, &l.tick))
        return 70;
    for (int i = 0; i < l.n; i++) {
        rc = drone_start(&l, &l.d[i], i, url, prefix);
        if (rc) {
            fprintf(stderr, "fleet-load: drone %d: %s\n", i, scn_strerror(rc));
            return 69;
        }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    scn_timer_start(l.tick, TICK_MS);
    fprintf(stderr, "fleet-load: %d drones at %d Hz on %s\n", l.n, l.rate, url);
    if (duration > 0)
        end_ms = scn_loop_now_ms(l.loop) + (uint64_t)(duration * 1000);
    while (!stop && (!end_ms || scn_loop_now_ms(l.loop) < end_ms))
        scn_loop_run_once(l.loop, 100);
    scn_timer_free(l.tick);
    for (int i = 0; i < l.n; i++) {
        scn_mqtt_get_stats(l.d[i].m, &st);
        sum.published_qos0 += st.published_qos0;
        sum.dropped_offline += st.dropped_offline;
        scn_mqtt_free(l.d[i].m);
    }
    printf("fleet-load: published %llu dropped_offline %llu\n",
           (unsigned long long)sum.published_qos0,
           (unsigned long long)sum.dropped_offline);
    scn_loop_free(l.loop);
    free(l.d);
    return 0;
}
