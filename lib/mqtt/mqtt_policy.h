/*
 * The MQTT client's decisions that need no socket: what a refused CONNECT
 * means, which failures end the client, and the broker URL. Pure.
 */
#ifndef SCN_MQTT_POLICY_H
#define SCN_MQTT_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* The SCN_ERR_* of a CONNACK return code that is not 0 (MQTT 3.1.1 codes
 * 1..5, MQTT 5 reason codes 0x80..). "Not authorised" (5, 0x87) is how
 * brokers, mosquitto among them, refuse a wrong password: with
 * credentials sent it is SCN_ERR_MQTT_AUTH, without them (an anonymous
 * client refused) SCN_ERR_MQTT_NOT_AUTHORISED. Server unavailable or busy
 * is SCN_ERR_TRY_AGAIN. */
int scn__mqtt_connack_error(int code, bool sent_credentials);

/* Whether a failure ends the client (FAILED) rather than being retried:
 * only credentials, authorisation and certificates, and only with
 * fail_fast_auth (a wrong password does not get better by retrying; a
 * broker restarted with a new password file does). */
bool scn__mqtt_failure_is_fatal(int err, bool fail_fast_auth);

/* mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (a trailing / allowed; HOST
 * a name or address of [A-Za-z0-9._-], or [IPv6%zone]). host gets it
 * without brackets. Returns 0 or SCN_ERR_URL (another scheme, a path,
 * user info, an empty host or another character in it, a port outside
 * 1..65535, a host longer than host_cap - 1). */
int scn__mqtt_url_parse(const char *url, char *host, size_t host_cap, int *port,
                        bool *tls);

#endif
