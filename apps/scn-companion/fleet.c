/*
 * The fleet output (--mqtt-url; docs/PROTOCOL.md 12): what the companion
 * records also goes to an MQTT broker under scentience/v1/<drone-id>/, in
 * envelopes with this run's id and a per-topic seq; the retained status
 * says online (birth, at every connection) or offline (the will, or a
 * clean stop); olfaction and state are thinned newest-wins; requests on
 * command/request go to fleet_command.c. Everything runs on the
 * companion's loop: the MQTT socket is one more of its file descriptors
 * (lib/mqtt), no thread of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <scentience/mqtt.h>
#include <scentience/version.h>

#include "cli.h"
#include "fleet.h"

/* How long a clean stop waits for the broker to take what is spooled
 * (the offline status last). */
#define STOP_WAIT_MS 3000

/* ---- publishing ---- */

static void publish_error(comp_fleet *f, fleet_stream s, int qos, int rc)
{
    uint64_t held;

    f->publish_errors++;
    /* Asked to keep it (QoS 0 may be lost), and not merely after the
     * output was turned off for good (STATE: a refusal, said then). */
    if (qos == 1 && rc != SCN_ERR_STATE)
        f->c->mqtt_lost++;
    if (!cli_ratelimit_allow(&f->rl_err, scn_loop_now_ms(f->c->loop), &held))
        return;
    fprintf(stderr, "scn-companion: mqtt: %s not published: %s",
            fleet_stream_name(s), scn_strerror(rc));
    if (held)
        fprintf(stderr, " (and %llu more since the last line)",
                (unsigned long long)held);
    fputc('\n', stderr);
}

/* One envelope on s: the next seq is used even when the message is then
 * dropped (offline at QoS 0), so that a subscriber sees the gap. */
void fleet_publish(comp_fleet *f, fleet_stream s, const char *data, size_t len,
                   int64_t ts_ns)
{
    uint64_t seq;
    size_t need;
    int rc, qos = fleet_stream_qos(s, f->data_qos);

    if (f->dead || f->freeing || f->quiet)
        return;
    seq = fleet_seq_next(&f->seqs, s);
    need = fleet_envelope(f->buf, f->cap, f->run, seq, ts_ns, data, len);
    if (need >= f->cap) {
        char *p = realloc(f->buf, need + 1);

        if (!p) {
            publish_error(f, s, qos, SCN_ERR_NOMEM);
            return;
        }
        f->buf = p;
        f->cap = need + 1;
        fleet_envelope(f->buf, f->cap, f->run, seq, ts_ns, data, len);
    }
    rc = scn_mqtt_publish(f->m, f->topic[s], f->buf, need, qos,
                          fleet_stream_retained(s));
    if (rc)
        publish_error(f, s, qos, rc);
}

void fleet_publish_json(comp_fleet *f, fleet_stream s, json_obj *j)
{
    if (!j->err)
        fleet_publish(f, s, j->buf, j->len, wall_ns());
    else if (!f->dead && !f->freeing && !f->quiet)
        publish_error(f, s, fleet_stream_qos(s, f->data_qos), j->err);
    json_obj_free(j);
}

static void on_thin_timer(scn_timer *t, void *user)
{
    comp_fleet *f = user;
    const char *data;
    size_t len;
    int64_t ts;
    uint64_t now = scn_loop_now_ms(f->c->loop);

    for (int i = 0; i < THIN_COUNT; i++) {
        if (f->thin_timer[i] != t)
            continue;
        if (newest_wins_take(&f->thin[i], now, &data, &len, &ts))
            fleet_publish(f,
                          i == THIN_OLFACTION ? FLEET_OLFACTION : FLEET_STATE,
                          data, len, ts);
        else if (newest_wins_wait_ms(&f->thin[i], now) != UINT64_MAX)
            scn_timer_start(t, newest_wins_wait_ms(&f->thin[i], now));
    }
}

static void thin(comp_fleet *f, int which, fleet_stream s, const char *json,
                 size_t len, int64_t ts)
{
    uint64_t now = scn_loop_now_ms(f->c->loop);

    switch (newest_wins_offer(&f->thin[which], now, json, len, ts)) {
    case 1:
        fleet_publish(f, s, json, len, ts);
        break;
    case 0:
        scn_timer_start(f->thin_timer[which],
                        newest_wins_wait_ms(&f->thin[which], now));
        break;
    default:
        publish_error(f, s, fleet_stream_qos(s, f->data_qos), SCN_ERR_NOMEM);
    }
}

void comp_fleet_publish(comp *c, scn_record_stream st, const char *json,
                        size_t len, int64_t ts_ns)
{
    comp_fleet *f = c->fleet;

    if (!f)
        return;
    switch (st) {
    case SCN_RECORD_OLFACTION:
        thin(f, THIN_OLFACTION, FLEET_OLFACTION, json, len, ts_ns);
        break;
    case SCN_RECORD_UAV_STATE:
        thin(f, THIN_STATE, FLEET_STATE, json, len, ts_ns);
        break;
    case SCN_RECORD_INFERENCE:
        fleet_publish(f, FLEET_INFERENCE, json, len, ts_ns);
        break;
    case SCN_RECORD_EVENTS:
        fleet_publish(f, FLEET_EVENTS, json, len, ts_ns);
        break;
    case SCN_RECORD_UAV_COMMAND:
        fleet_publish(f, FLEET_COMMAND, json, len, ts_ns);
        break;
    default:
        break; /* the cloud's records stay with the cloud */
    }
}

/* ---- status: birth, will, stop ---- */

static void birth(comp_fleet *f)
{
    const config *cf = f->c->cf;
    char list[128];
    json_obj j;

    json_obj_init(&j, FLEET_JSON_MAX);
    json_obj_text(&j, "{\"online\":true,\"version\":");
    json_obj_string(&j, scn_version());
    json_obj_text(&j, ",\"drone_id\":");
    json_obj_string(&j, cf->drone_id);
    json_obj_text(&j, ",\"device_uid\":");
    json_obj_string(&j, f->device_uid);
    json_obj_text(&j, cf->drone_url ? ",\"drone\":true" : ",\"drone\":false");
    json_obj_text(&j, ",\"drone_serial\":");
    json_obj_string(&j, f->serial);
    json_obj_text(&j, cf->cloud_url ? ",\"cloud\":true" : ",\"cloud\":false");
    json_obj_text(&j, ",\"commands\":[");
    fleet_gate_list(&f->gate, list, sizeof(list));
    for (char *p = list, *end; *p; p = *end ? end + 1 : end) {
        end = p + strcspn(p, ",");
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)(end - p), p);
        if (p != list)
            json_obj_text(&j, ",");
        json_obj_string(&j, name);
    }
    snprintf(list, sizeof(list), "],\"rate_hz\":%g}", cf->mqtt_rate);
    json_obj_text(&j, list);
    fleet_publish_json(f, FLEET_STATUS, &j);
}

void comp_fleet_device_uid(comp *c, const char *uid)
{
    comp_fleet *f = c->fleet;

    if (!f || !uid || !*uid || strcmp(uid, f->device_uid) == 0)
        return;
    snprintf(f->device_uid, sizeof(f->device_uid), "%s", uid);
    birth(f);
}

static void on_serial(scn_uav_channel *ch, const scn_uav_reply *r, void *user)
{
    comp *c = user;
    comp_fleet *f = c->fleet;

    (void)ch;
    comp_command_reply(c, r);
    if (!f || r->err || !r->answer || !r->answer->raw_len)
        return;
    snprintf(f->serial, sizeof(f->serial), "%.*s", (int)sizeof(f->serial) - 1,
             r->answer->raw);
    birth(f);
}

void comp_fleet_drone_active(comp *c)
{
    comp_fleet *f = c->fleet;
    char why[128];

    /* Once per run: the serial does not change with the link. */
    if (!f || f->serial_asked || !c->ch)
        return;
    f->serial_asked = 1;
    comp_send_command(c, "sn?", on_serial, c, why, sizeof(why));
}

static void on_message(scn_mqtt *m, const scn_mqtt_message *msg, void *user)
{
    comp_fleet *f = user;

    (void)m;
    if (strcmp(msg->topic, f->topic[FLEET_REQUEST]) == 0)
        fleet_on_request(f, msg);
}

/* ---- the link ---- */

/* The exit code of a connection refused before the first one succeeded:
 * a wrong setting, which retrying does not mend. */
static int refusal_status(int reason)
{
    switch (reason) {
    case SCN_ERR_MQTT_AUTH:
    case SCN_ERR_MQTT_NOT_AUTHORISED:
        return CLI_EX_NOPERM;
    case SCN_ERR_TLS:
        return CLI_EX_PROTOCOL;
    default:
        return CLI_EX_UNAVAILABLE;
    }
}

static const char *refusal_hint(int reason)
{
    switch (reason) {
    case SCN_ERR_MQTT_AUTH:
        return " (check --mqtt-username and --mqtt-password-file)";
    case SCN_ERR_MQTT_NOT_AUTHORISED:
        return " (the broker's access list does not allow this client)";
    case SCN_ERR_TLS:
        return " (the broker's certificate does not verify against "
               "the system store or --mqtt-ca)";
    default:
        return "";
    }
}

static void link_record(comp_fleet *f, const scn_state_event *ev)
{
    json_obj j;
    char num[96];

    json_obj_init(&j, FLEET_JSON_MAX);
    json_obj_text(&j,
                  "{\"event\":\"connection\",\"source\":\"mqtt\",\"state\":");
    json_obj_string(&j, scn_state_name(ev->state));
    json_obj_text(&j, ",\"previous\":");
    json_obj_string(&j, scn_state_name(ev->previous));
    if (ev->reason) {
        json_obj_text(&j, ",\"reason\":");
        json_obj_string(&j, scn_strerror(ev->reason));
    }
    snprintf(num, sizeof(num), ",\"delay_ms\":%u,\"attempt\":%u}", ev->delay_ms,
             ev->attempt);
    json_obj_text(&j, num);
    if (j.err) {
        /* Out of memory for a few hundred bytes: counted as unrecorded. */
        if (f->c->rec)
            comp_record_failed(f->c, j.err, 1);
    } else {
        comp_emit(f->c, SCN_RECORD_EVENTS, "events", j.buf, j.len, 0);
    }
    json_obj_free(&j);
}

static void on_state(scn_mqtt *m, const scn_state_event *ev, void *user)
{
    comp_fleet *f = user;
    comp *c = f->c;

    (void)m;
    comp_status_link(c, LINK_MQTT, ev);
    link_record(f, ev);
    switch (ev->state) {
    case SCN_STATE_OPEN:
        if (f->opened)
            c->link[LINK_MQTT].reconnects++;
        f->opened = 1;
        /* At every connection: the will may have said offline. */
        birth(f);
        break;
    case SCN_STATE_RECONNECTING:
        if (!c->closing)
            fprintf(stderr,
                    "scn-companion: mqtt link: %s; reconnecting in %u ms\n",
                    scn_strerror(ev->reason), ev->delay_ms);
        break;
    case SCN_STATE_FAILED:
        fprintf(stderr, "scn-companion: --mqtt-url %s: %s%s\n", c->cf->mqtt_url,
                scn_strerror(ev->reason), refusal_hint(ev->reason));
        /* A wrong setting found at start ends the companion; once it has
         * been connected, or once the drone may be in the air (the script
         * has begun: a takeoff may be under way; the broker may have been
         * out of reach until then), the drone keeps its companion: a
         * broker's trouble never ends a flight. */
        if (!f->opened && !c->flying && c->step == 0 &&
            (!c->ch || scn_uav_channel_airborne(c->ch) != 1)) {
            if (!c->fatal) {
                c->fatal = ev->reason ? ev->reason : SCN_ERR_STATE;
                c->fatal_status = refusal_status(ev->reason);
            }
        } else {
            f->dead = 1;
            fprintf(stderr, "scn-companion: the fleet output (MQTT) is off "
                            "for the rest of this run\n");
            comp_event(c, "mqtt_failed", "mqtt", scn_strerror(ev->reason));
        }
        break;
    default:
        break;
    }
}

static void on_error(scn_mqtt *m, int err, const char *detail, void *user)
{
    comp_fleet *f = user;
    uint64_t held;

    (void)m;
    f->quiet++;
    comp_event(f->c, "mqtt_error", scn_strerror(err), detail);
    f->quiet--;
    if (!cli_ratelimit_allow(&f->rl_err, scn_loop_now_ms(f->c->loop), &held))
        return;
    fprintf(stderr, "scn-companion: mqtt: %s: %s\n", detail ? detail : "",
            scn_strerror(err));
}

static void on_spool_drop(scn_mqtt *m, const scn_mqtt_spool_drop *d, void *user)
{
    comp_fleet *f = user;
    char buf[256];
    int n;

    (void)m;
    f->c->mqtt_lost += d->count;
    n = snprintf(buf, sizeof(buf),
                 "{\"event\":\"spool_drop\",\"source\":\"mqtt\","
                 "\"reason\":\"%s\",\"first_seq\":%llu,\"last_seq\":%llu,"
                 "\"count\":%llu}",
                 d->disk_full ? "disk_full" : "spool_cap",
                 (unsigned long long)d->first_seq,
                 (unsigned long long)d->last_seq, (unsigned long long)d->count);
    f->quiet++;
    comp_emit(f->c, SCN_RECORD_EVENTS, "events", buf, (size_t)n, 0);
    f->quiet--;
    fprintf(stderr,
            "scn-companion: mqtt spool: %s: dropped %llu unacknowledged "
            "messages, the oldest first\n",
            d->disk_full ? "the disk is full" : "over its cap",
            (unsigned long long)d->count);
}

static int start_error(comp_fleet *f, int rc)
{
    const config *cf = f->c->cf;

    switch (rc) {
    case SCN_ERR_URL:
    case SCN_ERR_INVALID_ARG:
        return cli_usage_error("scn-companion",
                               "--mqtt-url %s: %s (mqtt://HOST[:PORT] or "
                               "mqtts://HOST[:PORT])",
                               cf->mqtt_url, scn_strerror(rc));
    case SCN_ERR_KEY_FILE:
    case SCN_ERR_KEY_FILE_PERMS:
        fprintf(stderr, "scn-companion: --mqtt-password-file %s: %s\n",
                cf->mqtt_password_file ? cf->mqtt_password_file : "",
                scn_strerror(rc));
        return CLI_EX_CONFIG;
    case SCN_ERR_TLS:
        fprintf(stderr,
                "scn-companion: --mqtt-ca/--mqtt-cert/--mqtt-key: %s: a file "
                "cannot be loaded\n",
                scn_strerror(rc));
        return CLI_EX_CONFIG;
    case SCN_ERR_NOMEM:
        fprintf(stderr, "scn-companion: %s\n", scn_strerror(rc));
        return CLI_EX_OSERR;
    default: {
        int status = cli_spool_error("scn-companion", rc, cf->mqtt_spool);
        if (status) {
            fprintf(stderr, "scn-companion: (that is --mqtt-spool-dir)\n");
            return status;
        }
        fprintf(stderr, "scn-companion: --mqtt-url %s: %s\n", cf->mqtt_url,
                scn_strerror(rc));
        return cli_exit_for_error(rc);
    }
    }
}

int comp_mqtt_settings_check(const config *cf, char *why, size_t why_cap)
{
    const char *needs_url[][2] = {
        {"mqtt-username", cf->mqtt_username},
        {"mqtt-password-file", cf->mqtt_password_file},
        {"mqtt-ca", cf->mqtt_ca},
        {"mqtt-cert", cf->mqtt_cert},
        {"mqtt-key", cf->mqtt_key},
        {"mqtt-spool-dir", cf->mqtt_spool},
        {"mqtt-commands", cf->mqtt_commands}};
    int tls = cf->mqtt_url && strncmp(cf->mqtt_url, "mqtts://", 8) == 0;

    if (!cf->mqtt_url) {
        for (size_t i = 0; i < sizeof(needs_url) / sizeof(needs_url[0]); i++)
            if (needs_url[i][1]) {
                snprintf(why, why_cap, "--%s needs --mqtt-url",
                         needs_url[i][0]);
                return -1;
            }
        return 0;
    }
    if (!tls && strncmp(cf->mqtt_url, "mqtt://", 7) != 0) {
        snprintf(why, why_cap,
                 "--mqtt-url %.200s: not mqtt://HOST[:PORT] or "
                 "mqtts://HOST[:PORT]",
                 cf->mqtt_url);
        return -1;
    }
    if (!cf->drone_id) {
        snprintf(why, why_cap,
                 "--mqtt-url needs --drone-id (this drone's "
                 "name in the topics)");
        return -1;
    }
    if (!cf->mqtt_spool) {
        snprintf(why, why_cap,
                 "--mqtt-url needs --mqtt-spool-dir (where QoS 1 "
                 "messages wait for the broker)");
        return -1;
    }
    if (cf->mqtt_password_file && !cf->mqtt_username) {
        snprintf(why, why_cap, "--mqtt-password-file needs --mqtt-username");
        return -1;
    }
    if (!tls && (cf->mqtt_ca || cf->mqtt_cert || cf->mqtt_key)) {
        snprintf(why, why_cap,
                 "--mqtt-ca, --mqtt-cert and --mqtt-key need "
                 "an mqtts:// URL");
        return -1;
    }
    if (!cf->mqtt_cert != !cf->mqtt_key) {
        snprintf(why, why_cap, "--mqtt-cert and --mqtt-key go together");
        return -1;
    }
    return 0;
}

int comp_fleet_start(comp *c)
{
    const config *cf = c->cf;
    comp_fleet *f;
    scn_mqtt_options o;
    uint8_t rnd[8];
    char will[128], why[256];
    const char *will_doc = "{\"online\":false,\"reason\":\"lost\"}";
    int rc;

    if (!cf->mqtt_url)
        return 0;
    if (!(f = calloc(1, sizeof(*f))))
        return CLI_EX_OSERR;
    c->fleet = f;
    f->c = c;
    f->rl_err.interval_ms = 5000;
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        fprintf(stderr, "scn-companion: no random bytes for the run id\n");
        return CLI_EX_OSERR;
    }
    fleet_run_id(f->run, rnd);
    f->data_qos = cf->mqtt_data_qos;
    for (int i = 0; i < FLEET_STREAM_COUNT; i++)
        fleet_topic(f->topic[i], sizeof(f->topic[i]), cf->drone_id,
                    (fleet_stream)i);
    for (int i = 0; i < THIN_COUNT; i++) {
        newest_wins_init(&f->thin[i], cf->mqtt_rate > 0
                                          ? (uint64_t)(1000.0 / cf->mqtt_rate)
                                          : 0);
        if (scn_timer_new(c->loop, on_thin_timer, f, &f->thin_timer[i]))
            return CLI_EX_OSERR;
    }
    fleet_gate_init(&f->gate);
    if (cf->mqtt_commands &&
        fleet_gate_allow_list(&f->gate, cf->mqtt_commands, why, sizeof(why)))
        return cli_usage_error("scn-companion", "--mqtt-commands %s: %s",
                               cf->mqtt_commands, why);
    fleet_envelope(will, sizeof(will), f->run, 0, -1, will_doc,
                   strlen(will_doc));

    scn_mqtt_options_init(&o);
    o.url = cf->mqtt_url;
    o.client_id = cf->drone_id;
    o.username = cf->mqtt_username;
    o.password_file = cf->mqtt_password_file;
    o.ca_file = cf->mqtt_ca;
    o.cert_file = cf->mqtt_cert;
    o.key_file = cf->mqtt_key;
    o.will_topic = f->topic[FLEET_STATUS];
    o.will_payload = will;
    o.will_qos = 1;
    o.will_retain = 1;
    o.spool_dir = cf->mqtt_spool;
    if (cf->mqtt_spool_cap)
        o.spool_cap_bytes = cf->mqtt_spool_cap;
    /* A refusal before the first connection is fatal (a wrong setting);
     * after it, on_state turns the output off instead. */
    o.fail_fast_auth = 1;
    o.on_state = on_state;
    o.on_message = on_message;
    o.on_error = on_error;
    o.on_spool_drop = on_spool_drop;
    o.user = f;
    if ((rc = scn_mqtt_new(c->loop, &o, &f->m)) != 0)
        return start_error(f, rc);
    /* Subscribed also without --mqtt-commands: the gate then refuses
     * every request, and the requester learns why (not_enabled) instead
     * of waiting for an answer that never comes. */
    if ((rc = scn_mqtt_subscribe(f->m, f->topic[FLEET_REQUEST], 1)) != 0) {
        fprintf(stderr, "scn-companion: mqtt: %s\n", scn_strerror(rc));
        return cli_exit_for_error(rc);
    }
    return 0;
}

void comp_fleet_stop(comp *c)
{
    comp_fleet *f = c->fleet;
    scn_mqtt_stats st;
    const char *doc = "{\"online\":false,\"reason\":\"stopped\"}";

    if (!f)
        return;
    if (f->m && !f->dead && scn_mqtt_state(f->m) == SCN_STATE_OPEN) {
        uint64_t until = scn_loop_now_ms(c->loop) + STOP_WAIT_MS;

        fleet_publish(f, FLEET_STATUS, doc, strlen(doc), wall_ns());
        /* The broker takes what is spooled, the offline status last; what
         * it has not acknowledged by then stays spooled for the next
         * start. */
        do {
            scn_loop_run_once(c->loop, 20);
            scn_mqtt_get_stats(f->m, &st);
        } while (st.spooled && scn_mqtt_state(f->m) == SCN_STATE_OPEN &&
                 scn_loop_now_ms(c->loop) < until);
    }
    if (f->m) {
        scn_mqtt_get_stats(f->m, &st);
        fprintf(
            stderr,
            "scn-companion: mqtt: %llu QoS 0 sent, %llu dropped while "
            "away; QoS 1 %llu submitted, %llu acknowledged, %llu "
            "spooled, %llu dropped (spool cap or full disk); %llu fleet "
            "commands, "
            "%llu refused\n",
            (unsigned long long)st.published_qos0,
            (unsigned long long)st.dropped_offline,
            (unsigned long long)st.submitted_qos1,
            (unsigned long long)st.acked_qos1, (unsigned long long)st.spooled,
            (unsigned long long)(st.dropped_full + st.dropped_disk),
            (unsigned long long)f->requests, (unsigned long long)f->refused);
    }
    f->freeing = 1;
    scn_mqtt_free(f->m);
    for (int i = 0; i < THIN_COUNT; i++) {
        scn_timer_free(f->thin_timer[i]);
        newest_wins_free(&f->thin[i]);
    }
    free(f->buf);
    free(f);
    c->fleet = NULL;
}
