/*
 * Which peers may connect to a server: IPv4 and IPv6 addresses and CIDR
 * prefixes, matched against the address a connection comes from. Pure: no
 * sockets are opened and libwebsockets is not used; the server adapter
 * turns accept()'s address into an scn_ip_addr and asks.
 */
#ifndef SCN_PEER_ALLOW_H
#define SCN_PEER_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Longest text form, NUL included (INET6_ADDRSTRLEN). */
#define SCN_IP_TEXT_MAX 46

typedef struct scn_ip_addr {
    int family;          /* 4 or 6 */
    unsigned char b[16]; /* network order; IPv4 uses b[0..3] */
} scn_ip_addr;

typedef struct scn_peer_rule {
    scn_ip_addr addr; /* host bits beyond prefix are zero */
    unsigned prefix;  /* leading bits that must match */
} scn_peer_rule;

typedef struct scn_peer_allow {
    scn_peer_rule *rules;
    size_t count; /* 0: every peer is allowed */
} scn_peer_allow;

/* Parses an IPv4 or IPv6 literal. An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) becomes IPv4, the form a peer is matched in. Returns 0
 * or SCN_ERR_INVALID_ARG. */
int scn__ip_parse(const char *text, scn_ip_addr *out);

/* The address of an AF_INET or AF_INET6 socket address, IPv4-mapped
 * addresses as IPv4. Returns 0 or SCN_ERR_UNSUPPORTED (other families,
 * short length). */
int scn__ip_from_sockaddr(const struct sockaddr *sa, socklen_t len,
                          scn_ip_addr *out);

/* Text form ("127.0.0.1", "::1") into buf of cap bytes (SCN_IP_TEXT_MAX
 * always fits); "" when it does not fit. */
void scn__ip_format(const scn_ip_addr *a, char *buf, size_t cap);

/* Parses n entries: addresses or "address/prefix". Returns 0,
 * SCN_ERR_INVALID_ARG (an entry is NULL or malformed; al is then empty),
 * SCN_ERR_NOMEM. */
int scn__peer_allow_init(scn_peer_allow *al, const char *const *entries,
                         size_t n);
void scn__peer_allow_free(scn_peer_allow *al);

/* Whether peer may connect: always when the list is empty. */
bool scn__peer_allow_match(const scn_peer_allow *al, const scn_ip_addr *peer);

#endif
