/*
 * One MQTT connection to the broker, in plain C types: the seam between
 * the client (mqtt.c, policy and spool) and libmosquitto, which only
 * mqtt_mosq.c includes (scripts/check-lws-boundary). A link is made per
 * connection attempt and closed when it ends, so nothing of an old
 * connection (its queue, its packet ids) outlives it. The socket is
 * serviced by the loop (lib/lws/fd_watch.c), keepalive by a loop timer.
 * Loop thread only.
 */
#ifndef SCN_MQTT_LINK_H
#define SCN_MQTT_LINK_H

#include <scentience/loop.h>
#include <scentience/mqtt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct scn_mqtt_link scn_mqtt_link;

typedef struct scn_mqtt_link_params {
    const char *host;
    int port;
    bool tls, insecure;
    const char *ca_file, *cert_file, *key_file; /* NULL: none */
    const char *client_id;
    bool persistent_session;         /* CONNECT without clean session */
    const char *username, *password; /* NULL: none; password is copied */
    uint32_t keepalive_s;
    const char *will_topic; /* NULL: no will */
    const char *will_payload;
    int will_qos;
    bool will_retain;
} scn_mqtt_link_params;

/* What the connection reports; user is the one given to open. */
typedef struct scn_mqtt_link_events {
    /* The broker's CONNACK: 0 accepted, else its return code (the link
     * then reports on_lost). */
    void (*on_connack)(void *user, int code);
    /* A QoS 1 publish of this link was acknowledged. */
    void (*on_puback)(void *user, int mid);
    /* The broker's SUBACK to a subscribe of this link: the QoS granted,
     * or -1 when it refused (0x80: commonly not authorised). */
    void (*on_suback)(void *user, int mid, int granted_qos);
    void (*on_message)(void *user, const scn_mqtt_message *msg);
    /* The connection is gone (once): err is an SCN_ERR_* (NETWORK,
     * PEER_CLOSED, DEAD_PEER, TLS, TIMEOUT, RESOLVE, MQTT_REFUSED when the
     * CONNACK refused). Close the link; nothing more is reported. */
    void (*on_lost)(void *user, int err);
} scn_mqtt_link_events;

/* Starts connecting without blocking: a host name is resolved on a
 * thread first (lib/core/resolve.h), and a name that does not resolve is
 * reported by on_lost as SCN_ERR_RESOLVE. Returns 0, or the failure of
 * the attempt when it fails at once (SCN_ERR_NETWORK, SCN_ERR_TLS,
 * SCN_ERR_NOMEM, SCN_ERR_INVALID_ARG, SCN_ERR_IO): then there is no link. */
int scn__mqtt_link_open(scn_loop *loop, const scn_mqtt_link_params *p,
                        const scn_mqtt_link_events *ev, void *user,
                        scn_mqtt_link **out);

/* Queues a publish (written as the socket allows). *mid gets the packet
 * id of a QoS 1 publish. Returns 0, SCN_ERR_STATE (not connected),
 * SCN_ERR_MESSAGE_TOO_BIG, SCN_ERR_INVALID_ARG or SCN_ERR_NOMEM. */
int scn__mqtt_link_publish(scn_mqtt_link *l, const char *topic,
                           const void *payload, size_t len, int qos,
                           bool retain, int *mid);

/* Queues a SUBSCRIBE; *mid gets its packet id, which on_suback names.
 * Returns 0, SCN_ERR_STATE, SCN_ERR_INVALID_ARG or SCN_ERR_NOMEM. */
int scn__mqtt_link_subscribe(scn_mqtt_link *l, const char *filter, int qos,
                             int *mid);

/* Ends the connection and frees the link; with disconnect, a connected
 * link first sends DISCONNECT (so the broker drops the will). Safe inside
 * the link's own callbacks (then done when they return). NULL allowed. */
void scn__mqtt_link_close(scn_mqtt_link *l, bool disconnect);

/* Whether the TLS files can be read: 0 or SCN_ERR_TLS. */
int scn__mqtt_link_check_files(const scn_mqtt_link_params *p);

#endif
