/*
 * mqtt_driver: the library's MQTT client (scn_mqtt) driven line by line
 * from stdin, for tests that time publishes against a broker they kill
 * and restart (tests/integration/test_mqtt_client.py), with mosquitto_sub
 * as the independent peer that says what arrived.
 *
 *   mqtt_driver --url URL --client-id ID [--username U]
 *               [--password-file F] [--ca F] [--cert F] [--key F]
 *               [--insecure] [--spool DIR] [--spool-cap BYTES]
 *               [--keepalive S] [--max-inflight N] [--backoff-min MS]
 *               [--backoff-max MS] [--will-topic T] [--will-payload P]
 *               [--fail-fast-auth] [--birth TOPIC]
 *
 * --birth: a QoS 1 "online" to TOPIC from inside every OPEN state
 * callback, as scn-companion does.
 *
 * stdin, one per line:
 *   pub QOS RETAIN TOPIC PAYLOAD   one publish (PAYLOAD: the rest)
 *   seq QOS TOPIC PREFIX FIRST N   N publishes, payloads PREFIX-FIRST ..
 *   big QOS TOPIC N                one publish of N bytes: "0123456789"
 *                                  repeated (more than a socket takes)
 *   sub QOS FILTER                 subscribe
 *   stats                          print the counters
 *   quit                           free the client (DISCONNECT) and exit
 * stdout: one JSON object per line (drivers/json_events.h), "event": new (rc of
 * scn_mqtt_new), state, message, published (rc of a pub or of each seq
 * publish that failed, and the count), error, spool_drop, stats,
 * subscribed (the broker's answer to a subscription: granted_qos, -1
 * refused).
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <scentience/scentience.h>

#include "json_events.h"
#include "stdin_lines.h"

typedef struct driver {
    scn_loop *loop;
    scn_mqtt *m;
    int quit;
    const char *birth_topic;
} driver;

static void on_state(scn_mqtt *m, const scn_state_event *e, void *user)
{
    const driver *d = user;
    cJSON *ev = json_event("state");

    if (e->state == SCN_STATE_OPEN && d->birth_topic)
        scn_mqtt_publish(m, d->birth_topic, "online", 6, 1, 0);
    cJSON_AddStringToObject(ev, "state", scn_state_name(e->state));
    cJSON_AddNumberToObject(ev, "reason", e->reason);
    cJSON_AddStringToObject(ev, "reason_text",
                            e->reason ? scn_strerror(e->reason) : "");
    cJSON_AddNumberToObject(ev, "delay_ms", e->delay_ms);
    json_event_emit(ev);
}

static void on_message(scn_mqtt *m, const scn_mqtt_message *msg, void *user)
{
    cJSON *ev = json_event("message");
    char *payload = malloc(msg->len + 1);

    (void)m;
    (void)user;
    if (payload) {
        memcpy(payload, msg->payload, msg->len);
        payload[msg->len] = '\0';
    }
    cJSON_AddStringToObject(ev, "topic", msg->topic);
    cJSON_AddStringToObject(ev, "payload", payload ? payload : "");
    cJSON_AddNumberToObject(ev, "qos", msg->qos);
    cJSON_AddNumberToObject(ev, "retain", msg->retain);
    free(payload);
    json_event_emit(ev);
}

static void on_error(scn_mqtt *m, int err, const char *detail, void *user)
{
    cJSON *ev = json_event("error");

    (void)m;
    (void)user;
    cJSON_AddNumberToObject(ev, "err", err);
    cJSON_AddStringToObject(ev, "detail", detail);
    json_event_emit(ev);
}

static void on_subscribe(scn_mqtt *m, const char *filter, int granted_qos,
                         void *user)
{
    cJSON *ev = json_event("subscribed");

    (void)m;
    (void)user;
    cJSON_AddStringToObject(ev, "filter", filter);
    cJSON_AddNumberToObject(ev, "granted_qos", granted_qos);
    json_event_emit(ev);
}

static void on_spool_drop(scn_mqtt *m, const scn_mqtt_spool_drop *d, void *user)
{
    cJSON *ev = json_event("spool_drop");

    (void)m;
    (void)user;
    cJSON_AddNumberToObject(ev, "first_seq", (double)d->first_seq);
    cJSON_AddNumberToObject(ev, "last_seq", (double)d->last_seq);
    cJSON_AddNumberToObject(ev, "count", (double)d->count);
    cJSON_AddNumberToObject(ev, "disk_full", d->disk_full);
    json_event_emit(ev);
}

static void print_stats(driver *d)
{
    scn_mqtt_stats st;
    cJSON *ev = json_event("stats");

    scn_mqtt_get_stats(d->m, &st);
#define STAT(f) cJSON_AddNumberToObject(ev, #f, (double)st.f)
    STAT(published_qos0);
    STAT(dropped_offline);
    STAT(submitted_qos1);
    STAT(acked_qos1);
    STAT(resent_qos1);
    STAT(spooled);
    STAT(dropped_full);
    STAT(dropped_disk);
    STAT(received);
    STAT(connects);
    STAT(disconnects);
    STAT(refused);
#undef STAT
    cJSON_AddStringToObject(ev, "state", scn_state_name(scn_mqtt_state(d->m)));
    json_event_emit(ev);
}

static void published(int rc, unsigned count)
{
    cJSON *ev = json_event("published");

    cJSON_AddNumberToObject(ev, "rc", rc);
    cJSON_AddNumberToObject(ev, "count", count);
    json_event_emit(ev);
}

static void command(driver *d, char *line)
{
    char topic[1024], prefix[256];
    unsigned qos, retain, first, n, sent = 0;
    int off = 0, rc = 0;

    if (sscanf(line, "pub %u %u %1023s %n", &qos, &retain, topic, &off) == 3 &&
        off > 0) {
        rc = scn_mqtt_publish(d->m, topic, line + off, strlen(line + off),
                              (int)qos, (int)retain);
        published(rc, rc == 0);
    } else if (sscanf(line, "seq %u %1023s %255s %u %u", &qos, topic, prefix,
                      &first, &n) == 5) {
        for (unsigned i = 0; i < n; i++) {
            char payload[300];
            int len =
                snprintf(payload, sizeof(payload), "%s-%u", prefix, first + i);
            int r = scn_mqtt_publish(d->m, topic, payload, (size_t)len,
                                     (int)qos, 0);

            if (r)
                rc = r;
            else
                sent++;
        }
        published(rc, sent);
    } else if (sscanf(line, "big %u %1023s %u", &qos, topic, &n) == 3) {
        char *payload = malloc(n ? n : 1);

        rc = SCN_ERR_NOMEM;
        if (payload) {
            for (unsigned i = 0; i < n; i++)
                payload[i] = (char)('0' + i % 10);
            rc = scn_mqtt_publish(d->m, topic, payload, n, (int)qos, 0);
            free(payload);
        }
        published(rc, rc == 0);
    } else if (sscanf(line, "sub %u %1023s", &qos, topic) == 2) {
        rc = scn_mqtt_subscribe(d->m, topic, (int)qos);
        published(rc, 0);
    } else if (!strcmp(line, "stats")) {
        print_stats(d);
    } else if (!strcmp(line, "quit")) {
        d->quit = 1;
    } else {
        cJSON *ev = json_event("error");

        cJSON_AddStringToObject(ev, "detail", "unknown command");
        json_event_emit(ev);
    }
}

static void on_line(void *user, char *line)
{
    command(user, line);
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (!*s || *end || v > UINT32_MAX)
        return 1;
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"client-id", required_argument, NULL, 'i'},
        {"username", required_argument, NULL, 'U'},
        {"password-file", required_argument, NULL, 'P'},
        {"ca", required_argument, NULL, 'a'},
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},
        {"insecure", no_argument, NULL, 'I'},
        {"spool", required_argument, NULL, 's'},
        {"spool-cap", required_argument, NULL, 'S'},
        {"keepalive", required_argument, NULL, 'K'},
        {"max-inflight", required_argument, NULL, 'w'},
        {"backoff-min", required_argument, NULL, 'b'},
        {"backoff-max", required_argument, NULL, 'B'},
        {"will-topic", required_argument, NULL, 't'},
        {"will-payload", required_argument, NULL, 'p'},
        {"fail-fast-auth", no_argument, NULL, 'f'},
        {"birth", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0}};
    scn_mqtt_options o;
    driver d = {0};
    uint32_t cap = 0;
    int opt, bad = 0, rc;
    cJSON *ev;

    scn_mqtt_options_init(&o);
    while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            o.url = optarg;
            break;
        case 'i':
            o.client_id = optarg;
            break;
        case 'U':
            o.username = optarg;
            break;
        case 'P':
            o.password_file = optarg;
            break;
        case 'a':
            o.ca_file = optarg;
            break;
        case 'c':
            o.cert_file = optarg;
            break;
        case 'k':
            o.key_file = optarg;
            break;
        case 'I':
            o.insecure = 1;
            break;
        case 's':
            o.spool_dir = optarg;
            break;
        case 'S':
            bad |= parse_u32(optarg, &cap);
            o.spool_cap_bytes = cap;
            break;
        case 'K':
            bad |= parse_u32(optarg, &o.keepalive_s);
            break;
        case 'w':
            bad |= parse_u32(optarg, &o.max_inflight);
            break;
        case 'b':
            bad |= parse_u32(optarg, &o.backoff_min_ms);
            break;
        case 'B':
            bad |= parse_u32(optarg, &o.backoff_max_ms);
            break;
        case 't':
            o.will_topic = optarg;
            break;
        case 'p':
            o.will_payload = optarg;
            break;
        case 'f':
            o.fail_fast_auth = 1;
            break;
        case 'r':
            d.birth_topic = optarg;
            break;
        default:
            bad = 1;
        }
    }
    if (bad || optind != argc) {
        fputs("usage: mqtt_driver --url URL --client-id ID [options]\n",
              stderr);
        return 64;
    }
    o.on_state = on_state;
    o.on_message = on_message;
    o.on_error = on_error;
    o.on_spool_drop = on_spool_drop;
    o.on_subscribe = on_subscribe;
    o.user = &d;
    if (scn_loop_new(NULL, &d.loop))
        return 70;
    rc = scn_mqtt_new(d.loop, &o, &d.m);
    ev = json_event("new");
    cJSON_AddNumberToObject(ev, "rc", rc);
    cJSON_AddStringToObject(ev, "text", rc ? scn_strerror(rc) : "");
    json_event_emit(ev);
    if (rc) {
        scn_loop_free(d.loop);
        return 1;
    }
    stdin_lines_run(d.loop, on_line, &d, &d.quit);
    scn_mqtt_free(d.m);
    scn_loop_free(d.loop);
    return 0;
}
