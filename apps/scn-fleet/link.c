/*
 * The broker link: one scn_mqtt subscribed to the fleet tree (or to the
 * chosen drones' subtrees), serviced by the loop. Its state changes are
 * printed one line each (the table shows the current one); "open" (or
 * "back") is said once the broker granted every subscription of the
 * connection, not at its CONNACK: only then can messages arrive. A
 * refused CONNECT or subscription, or a certificate that does not
 * verify, ends the program, as retrying cannot fix a wrong password.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "station.h"

static void on_state(scn_mqtt *m, const scn_state_event *ev, void *user)
{
    gs_app *a = user;
    uint64_t now = scn_loop_now_ms(a->loop);

    (void)m;
    if (ev->previous == SCN_STATE_OPEN && ev->state != SCN_STATE_OPEN) {
        a->outages++;
        a->last_outage_ms = now;
        fprintf(stderr, P ": broker link lost: %s\n", scn_strerror(ev->reason));
    } else if (ev->state == SCN_STATE_OPEN) {
        a->subs_pending = a->subs; /* said when granted: on_subscribe */
    } else if (ev->state == SCN_STATE_FAILED) {
        fprintf(stderr, P ": broker %s: %s\n", a->cf->mqtt_url,
                scn_strerror(ev->reason));
        a->fatal = ev->reason ? ev->reason : SCN_ERR_STATE;
    }
    a->link_state = ev->state;
    a->link_reason = ev->reason;
    a->link_since_ms = now;
}

static void on_subscribe(scn_mqtt *m, const char *filter, int granted_qos,
                         void *user)
{
    gs_app *a = user;

    (void)m;
    if (granted_qos < 0) {
        /* Nothing on that filter would ever come: not a link to wait on. */
        fprintf(stderr,
                P ": the broker refused the subscription to %s (not "
                  "authorised to read it?)\n",
                filter);
        a->fatal = SCN_ERR_MQTT_NOT_AUTHORISED;
        return;
    }
    if (!a->subs_pending || --a->subs_pending)
        return;
    if (a->outages)
        fprintf(stderr, P ": broker link back after %.1f s (outage %llu)\n",
                (double)(scn_loop_now_ms(a->loop) - a->last_outage_ms) / 1000.0,
                (unsigned long long)a->outages);
    else
        fprintf(stderr, P ": broker link open\n");
}

static void on_message(scn_mqtt *m, const scn_mqtt_message *msg, void *user)
{
    (void)m;
    gs_ingest(user, msg->topic, msg->payload, msg->len);
}

static void on_error(scn_mqtt *m, int err, const char *detail, void *user)
{
    (void)m;
    (void)user;
    fprintf(stderr, P ": broker link: %s: %s\n", scn_strerror(err),
            detail ? detail : "");
}

int gs_link_exit(int rc)
{
    switch (rc) {
    case SCN_ERR_MQTT_AUTH:
    case SCN_ERR_MQTT_NOT_AUTHORISED:
        return CLI_EX_NOPERM;
    case SCN_ERR_URL:
    case SCN_ERR_INVALID_ARG:
        return CLI_EX_USAGE;
    case SCN_ERR_KEY_FILE:
    case SCN_ERR_KEY_FILE_PERMS:
        return CLI_EX_CONFIG;
    case SCN_ERR_TLS: /* the broker's certificate did not verify */
        return CLI_EX_PROTOCOL;
    case SCN_ERR_NOMEM:
        return CLI_EX_SOFTWARE;
    default:
        return CLI_EX_UNAVAILABLE;
    }
}

/* --drone named the same drone earlier. */
static bool chosen_before(const gs_config *cf, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (!strcmp(cf->drones[j], cf->drones[i]))
            return true;
    return false;
}

int gs_link_start(gs_app *a)
{
    const gs_config *cf = a->cf;
    scn_mqtt_options o;
    char client_id[32], filter[SCN_FLEET_ID_MAX + 32];
    int rc;

    scn_mqtt_options_init(&o);
    snprintf(client_id, sizeof(client_id), "scn-fleet-%ld", (long)getpid());
    o.url = cf->mqtt_url;
    o.client_id = cf->client_id ? cf->client_id : client_id;
    o.username = cf->username;
    o.password_file = cf->password_file;
    o.ca_file = cf->ca;
    o.cert_file = cf->cert;
    o.key_file = cf->key;
    o.keepalive_s = (uint32_t)cf->keepalive_s;
    o.fail_fast_auth = 1;
    o.persistent_session = cf->persistent;
    o.on_state = on_state;
    o.on_message = on_message;
    o.on_subscribe = on_subscribe;
    o.on_error = on_error;
    o.user = a;
    a->link_state = SCN_STATE_CONNECTING;
    a->link_since_ms = scn_loop_now_ms(a->loop);
    rc = scn_mqtt_new(a->loop, &o, &a->mqtt);
    if (rc) {
        if (rc == SCN_ERR_KEY_FILE || rc == SCN_ERR_KEY_FILE_PERMS)
            fprintf(stderr, P ": --mqtt-password-file %s: %s\n",
                    cf->password_file, scn_strerror(rc));
        else if (rc == SCN_ERR_TLS)
            fprintf(stderr, P ": --mqtt-ca/--mqtt-cert/--mqtt-key: %s\n",
                    scn_strerror(rc));
        else
            fprintf(stderr, P ": --mqtt-url %s: %s\n", cf->mqtt_url,
                    scn_strerror(rc));
        return rc == SCN_ERR_TLS ? CLI_EX_CONFIG : gs_link_exit(rc);
    }
    /* QoS 1: what the drones send at QoS 1 reaches us at QoS 1. */
    if (cf->drone_count == 0) {
        a->subs = 1;
        return scn_mqtt_subscribe(a->mqtt, SCN_FLEET_TOPIC_PREFIX "+/#", 1)
                   ? CLI_EX_SOFTWARE
                   : 0;
    }
    for (size_t i = 0; i < cf->drone_count; i++) {
        if (chosen_before(cf, i))
            continue; /* one filter, one SUBACK */
        snprintf(filter, sizeof(filter), SCN_FLEET_TOPIC_PREFIX "%s/#",
                 cf->drones[i]);
        if (scn_mqtt_subscribe(a->mqtt, filter, 1) != 0)
            return CLI_EX_SOFTWARE;
        a->subs++;
    }
    return 0;
}

void gs_link_stop(gs_app *a)
{
    scn_mqtt_free(a->mqtt);
    a->mqtt = NULL;
}

void gs_link_describe(const gs_app *a, uint64_t now_ms, char *buf, size_t cap)
{
    double since = (double)(now_ms - a->link_since_ms) / 1000.0;

    if (a->link_state == SCN_STATE_OPEN && a->subs_pending)
        snprintf(buf, cap, "subscribing (%.1f s), outages %llu", since,
                 (unsigned long long)a->outages);
    else if (a->link_state == SCN_STATE_OPEN)
        snprintf(buf, cap, "open (%.0f s), outages %llu", since,
                 (unsigned long long)a->outages);
    else if (a->link_reason)
        snprintf(buf, cap, "%s (%.1f s): %s, outages %llu",
                 scn_state_name(a->link_state), since,
                 scn_strerror(a->link_reason), (unsigned long long)a->outages);
    else
        snprintf(buf, cap, "%s (%.1f s), outages %llu",
                 scn_state_name(a->link_state), since,
                 (unsigned long long)a->outages);
}
