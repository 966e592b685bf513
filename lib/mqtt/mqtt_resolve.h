/*
 * A broker's host name resolved off the loop thread (mqtt_resolve.c).
 * getaddrinfo() blocks for the resolver's whole timeout when a DNS server
 * does not answer (seconds, times attempts): on the loop thread that
 * would stop every device frame, drone state and command meanwhile. One
 * short-lived thread per attempt resolves; the loop learns the result
 * from a descriptor becoming readable and never waits for the thread.
 */
#ifndef SCN_MQTT_RESOLVE_H
#define SCN_MQTT_RESOLVE_H

#include <netinet/in.h>
#include <stddef.h>

/* At most this many addresses are kept, in the resolver's order. */
#define SCN_MQTT_RESOLVE_MAX 8

typedef struct scn_mqtt_resolve scn_mqtt_resolve;

/* A numeric address, as text libmosquitto resolves without DNS. */
typedef char scn_mqtt_addr[INET6_ADDRSTRLEN];

/* Starts resolving host (for TCP, IPv4 or IPv6) on a thread of its own.
 * Returns 0, SCN_ERR_NOMEM, or SCN_ERR_IO (no descriptor or thread: see
 * errno). */
int scn__mqtt_resolve_start(const char *host, scn_mqtt_resolve **out);

/* Readable once the result is there (then scn__mqtt_resolve_result). */
int scn__mqtt_resolve_fd(const scn_mqtt_resolve *r);

/* The result, once the descriptor is readable: 0 with *n (>= 1)
 * addresses in addrs, SCN_ERR_RESOLVE (the name did not resolve: no
 * answer, no such name, no address), SCN_ERR_NOMEM, or SCN_ERR_STATE
 * before the result is there. */
int scn__mqtt_resolve_result(scn_mqtt_resolve *r,
                             scn_mqtt_addr addrs[SCN_MQTT_RESOLVE_MAX],
                             size_t *n);

/* The loop is done with it, finished or not: never waits. A thread still
 * inside getaddrinfo frees the job itself when it returns; it touches
 * nothing else. NULL allowed. */
void scn__mqtt_resolve_free(scn_mqtt_resolve *r);

#endif
