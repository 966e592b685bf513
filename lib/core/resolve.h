/*
 * A host name (a session's, a broker's) resolved off the loop thread
 * (resolve.c). lws 4.1.6 as Debian builds it and libmosquitto would call
 * getaddrinfo() themselves, on the loop thread.
 * getaddrinfo() blocks for the resolver's whole timeout when a DNS server
 * does not answer (seconds, times attempts): on the loop thread that
 * would stop every device frame, drone state and command meanwhile. One
 * short-lived thread per attempt resolves; the loop learns the result
 * from a descriptor becoming readable and never waits for the thread.
 */
#ifndef SCN_RESOLVE_H
#define SCN_RESOLVE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* At most this many addresses are kept, in the resolver's order. */
#define SCN_RESOLVE_MAX 8

typedef struct scn_resolve scn_resolve;

/* A numeric address, as text lws and libmosquitto take without DNS. */
typedef char scn_addr_text[INET6_ADDRSTRLEN];

/* True when host is a numeric IPv4 or IPv6 address: nothing to resolve. */
bool scn__resolve_is_address(const char *host);

/* Starts resolving host (for TCP, IPv4 or IPv6) on a thread of its own.
 * Returns 0, SCN_ERR_NOMEM, or SCN_ERR_IO (no descriptor or thread: see
 * errno). */
int scn__resolve_start(const char *host, scn_resolve **out);

/* Readable once the result is there (then scn__resolve_result). */
int scn__resolve_fd(const scn_resolve *r);

/* The result, once the descriptor is readable: 0 with *n (>= 1)
 * addresses in addrs, SCN_ERR_RESOLVE (the name did not resolve: no
 * answer, no such name, no address), SCN_ERR_NOMEM, or SCN_ERR_STATE
 * before the result is there. */
int scn__resolve_result(scn_resolve *r, scn_addr_text addrs[SCN_RESOLVE_MAX],
                        size_t *n);

/* The loop is done with it, finished or not: never waits. A thread still
 * inside getaddrinfo frees the job itself when it returns; it touches
 * nothing else. NULL allowed. */
void scn__resolve_free(scn_resolve *r);

#endif
