/**
 * @file
 *
 * An MQTT client on an scn_loop (libmosquitto underneath, its socket
 * serviced by the loop: no thread of its own). It is the transport of the
 * fleet path (docs/PROTOCOL.md section "Fleet over MQTT"): a companion
 * publishes under scentience/v1/<drone-id>/, a ground station subscribes.
 *
 * - QoS 1 publishes go to an on-disk spool first (the cloud spool's
 *   design: bounded, crash-safe) and are sent from it, oldest first, at
 *   most max_inflight beyond the broker's last PUBACK; a broker outage or a
 *   process restart loses none of them, up to the spool's cap (then the
 *   oldest go, counted and reported to on_spool_drop, never silently).
 *   After a reconnect every unacknowledged one is sent again (a subscriber
 *   may see it twice: payloads carry a seq for that).
 * - QoS 0 publishes are sent only while connected; otherwise they are
 *   dropped and counted (dropped_offline).
 * - Subscriptions are remembered and made again on every connect; the
 *   broker's answer to each is reported to on_subscribe.
 * - The link reconnects by itself with the session backoff (jittered,
 *   min..max). A refused CONNECT is reported with its own error
 *   (SCN_ERR_MQTT_AUTH: username or password; SCN_ERR_MQTT_NOT_AUTHORISED;
 *   SCN_ERR_MQTT_REFUSED: protocol or client id), a certificate that does
 *   not verify with SCN_ERR_TLS; the client stops trying when
 *   fail_fast_auth is set. Brokers (mosquitto among them) refuse a wrong
 *   password with "not authorised": when a username was sent that is
 *   SCN_ERR_MQTT_AUTH, without one SCN_ERR_MQTT_NOT_AUTHORISED. A
 *   server unavailable or busy is SCN_ERR_TRY_AGAIN, retried. A broker
 *   that requires a client certificate and gets none may show as
 *   SCN_ERR_NETWORK under TLS 1.3: its alert comes after our side of the
 *   handshake and can be lost to the reset of its close.
 * - A silent broker is found by the keepalive (an unanswered PINGREQ:
 *   within about twice keepalive_s), reported as SCN_ERR_DEAD_PEER.
 * - The connect does not block the loop, except for resolving a host
 *   name (getaddrinfo): give an address where that matters.
 * - The password is read from password_file at each connect, handed to
 *   libmosquitto and wiped from our memory; it is never logged.
 * Not thread-safe: call everything on the loop's thread (or while the loop
 * is not running). Callbacks run on the loop's thread; pointers they get
 * are valid only during the call.
 */
#ifndef SCENTIENCE_MQTT_H
#define SCENTIENCE_MQTT_H

#include <stddef.h>
#include <stdint.h>
#include <scentience/common.h>
#include <scentience/loop.h>
#include <scentience/options.h>
#include <scentience/session.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An MQTT client (opaque). */
typedef struct scn_mqtt scn_mqtt;

/** One message received on a subscription. */
typedef struct scn_mqtt_message {
    const char *topic;   /**< NUL-terminated */
    const void *payload; /**< len bytes; not NUL-terminated */
    size_t len;          /**< payload bytes */
    int qos;             /**< 0, 1 or 2 as delivered */
    int retain;          /**< nonzero: a retained message (sent on subscribe) */
} scn_mqtt_message;

/** QoS 1 messages dropped from the spool before the broker acknowledged
 * them, the oldest first (count of them, first..last by spool seq). */
typedef struct scn_mqtt_spool_drop {
    uint64_t first_seq; /**< the oldest spool seq dropped */
    uint64_t last_seq;  /**< the newest spool seq dropped */
    uint64_t count;     /**< messages dropped */
    int disk_full;      /**< 1: no room on the disk; 0: spool_cap_bytes */
} scn_mqtt_spool_drop;

/** Counters (scn_mqtt_get_stats()). */
typedef struct scn_mqtt_stats {
    uint64_t published_qos0;  /**< QoS 0 messages written to the socket */
    uint64_t dropped_offline; /**< QoS 0 messages dropped: not connected */
    uint64_t submitted_qos1;  /**< QoS 1 messages accepted into the spool */
    uint64_t acked_qos1;      /**< QoS 1 messages the broker acknowledged */
    uint64_t resent_qos1;     /**< QoS 1 messages sent again after a drop */
    uint64_t spooled;         /**< QoS 1 messages waiting for their PUBACK */
    uint64_t dropped_full;    /**< QoS 1 messages lost to the spool cap */
    uint64_t dropped_disk;    /**< QoS 1 messages lost to a full disk */
    uint64_t received;        /**< messages delivered to on_message */
    uint64_t connects;        /**< CONNACKs accepted */
    uint64_t disconnects;     /**< links lost or closed */
    uint64_t refused;         /**< CONNECTs the broker refused */
} scn_mqtt_stats;

/** Options of scn_mqtt_new(); initialise with scn_mqtt_options_init(). */
typedef struct scn_mqtt_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** mqtt://HOST[:PORT] (default port 1883) or mqtts://HOST[:PORT]
     * (8883). Required. */
    const char *url;
    /** Required: stable per process (the broker drops an older connection
     * with the same id). At most 23 bytes of [0-9A-Za-z_-] is portable. */
    const char *client_id;
    const char *username;      /**< NULL: none */
    const char *password_file; /**< the password, one line; NULL: none.
                                  Refused when readable by others. */
    const char *ca_file;       /**< mqtts: PEM CA file trusted besides the
                                  system store; NULL: the system store only */
    const char *cert_file; /**< mqtts: client certificate (PEM); NULL: none */
    const char *key_file;  /**< its private key (PEM) */
    int insecure;          /**< nonzero: skip verification (tests only) */
    uint32_t keepalive_s;  /**< MQTT keepalive, 5..65535 s; default 10 */
    /** The will the broker publishes when this client vanishes (a lost
     * link or a killed process, not scn_mqtt_free()); NULL: none. */
    const char *will_topic;
    const char *will_payload; /**< NUL-terminated */
    int will_qos;             /**< 0 or 1; default 1 */
    int will_retain;          /**< nonzero: retained; default 1 */
    /** Where QoS 1 messages wait for their PUBACK; NULL: QoS 1 publishes
     * are refused (SCN_ERR_STATE). One process per directory. */
    const char *spool_dir;
    uint64_t spool_cap_bytes; /**< default 16 MiB, at least 1 KiB */
    uint32_t max_inflight;    /**< QoS 1 beyond the last PUBACK, 1..65535;
                                 default 32 */
    uint32_t backoff_min_ms;  /**< first reconnect delay, at least 1;
                                 default 250 */
    uint32_t backoff_max_ms;  /**< longest delay, at least backoff_min_ms;
                                 default 10000 */
    /** Nonzero: a CONNECT refused for its credentials or authorisation,
     * or a certificate that does not verify, is fatal (FAILED): a wrong
     * password does not get better by retrying. Default 0. */
    int fail_fast_auth;
    /** Every state change: IDLE, CONNECTING, OPEN, RECONNECTING (with
     * delay_ms and reason), CLOSED, FAILED (reason). */
    void (*on_state)(scn_mqtt *m, const scn_state_event *ev, void *user);
    /** A message on one of the subscriptions. */
    void (*on_message)(scn_mqtt *m, const scn_mqtt_message *msg, void *user);
    /** Problems that do not end the client (spool failures, oversize
     * messages); detail is safe to print. */
    void (*on_error)(scn_mqtt *m, int err, const char *detail, void *user);
    /** QoS 1 messages dropped from the spool; NULL: counted only. */
    void (*on_spool_drop)(scn_mqtt *m, const scn_mqtt_spool_drop *d,
                          void *user);
    void *user; /**< passed to every callback */
    /** How often at most the spool is forced to stable storage (fdatasync)
     * and the acknowledged position saved. Every QoS 1 publish is written
     * to the spool file at once, so a killed process loses nothing; this
     * bounds what a power cut can lose and what a restart sends again.
     * Default 1000 ms, as the cloud's; 0: at the next loop turn. */
    uint32_t sync_interval_ms;
    /** Nonzero: CONNECT without a clean session, so the broker keeps this
     * client's subscriptions and queues the QoS 1 messages that match
     * them while it is away (within the broker's limits), and a link
     * outage of this client loses none of them. client_id must then be
     * the same on every run. Default 0: a clean session. */
    int persistent_session;
    /** The broker's answer (SUBACK) to a subscription, made at every
     * connect: granted_qos is the QoS it granted (0..2), or -1 when it
     * refused the filter (commonly: not authorised to read it). Messages
     * on filter can arrive only once it is granted, not already at OPEN.
     * NULL: not reported. */
    void (*on_subscribe)(scn_mqtt *m, const char *filter, int granted_qos,
                         void *user);
} scn_mqtt_options;

/** What scn_mqtt_options_init() calls, with the caller's
 * sizeof(scn_mqtt_options) (scentience/options.h). */
SCN_API void scn_mqtt_options_init_sized(scn_mqtt_options *opts, size_t size);

/** Fills opts with defaults. */
static inline void scn_mqtt_options_init(scn_mqtt_options *opts)
{
    scn_mqtt_options_init_sized(opts, sizeof(*opts));
}

/** Opens the spool (if any) and starts connecting. Returns 0,
 * SCN_ERR_INVALID_ARG, SCN_ERR_URL, SCN_ERR_KEY_FILE / KEY_FILE_PERMS (the
 * password file), SCN_ERR_OPTIONS_SIZE (opts not from
 * scn_mqtt_options_init()), SCN_ERR_SPOOL_BUSY, a system error of the spool
 * directory, SCN_ERR_TLS (a CA, certificate or key file that cannot be
 * loaded) or SCN_ERR_NOMEM. */
SCN_API int scn_mqtt_new(scn_loop *loop, const scn_mqtt_options *opts,
                         scn_mqtt **out);

/** Sends DISCONNECT (so the broker does not publish the will), syncs and
 * closes the spool (unacked messages stay for the next scn_mqtt_new on the
 * same directory), frees. NULL allowed. Not from inside its callbacks. */
SCN_API void scn_mqtt_free(scn_mqtt *m);

/** Publishes payload on topic. qos 0: sent now if connected, else dropped
 * and counted (returns 0 either way: the caller asked for at most once).
 * qos 1: spooled, then sent in order. Returns 0, SCN_ERR_INVALID_ARG (bad
 * topic: empty, wildcards, over 65535 bytes; qos not 0 or 1),
 * SCN_ERR_STATE (qos 1 without spool_dir, or after FAILED),
 * SCN_ERR_MESSAGE_TOO_BIG, or the spool's errors (SPOOL_FULL, IO). */
SCN_API int scn_mqtt_publish(scn_mqtt *m, const char *topic,
                             const void *payload, size_t len, int qos,
                             int retain);

/** Subscribes to filter (wildcards + and # allowed) at qos 0 or 1, now if
 * connected and again on every connect. Returns 0, SCN_ERR_INVALID_ARG or
 * SCN_ERR_NOMEM. */
SCN_API int scn_mqtt_subscribe(scn_mqtt *m, const char *filter, int qos);

/** The client's state. */
SCN_API scn_state scn_mqtt_state(const scn_mqtt *m);
/** Copies the counters into *out. */
SCN_API void scn_mqtt_get_stats(const scn_mqtt *m, scn_mqtt_stats *out);

/** Nonzero when filter (MQTT wildcards) matches topic. */
SCN_API int scn_mqtt_topic_matches(const char *filter, const char *topic);

#ifdef __cplusplus
}
#endif

#endif
