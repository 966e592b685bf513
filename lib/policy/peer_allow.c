/* The server's allow list: address and CIDR parsing and matching. */
#include "peer_allow.h"

#include <scentience/error.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
                                                   0, 0, 0, 0, 0xff, 0xff};

/* IPv4 peers reach an IPv6 socket as ::ffff:a.b.c.d; the allow list speaks
 * of them as IPv4, so both forms must meet as one. */
static void unmap(scn_ip_addr *a)
{
    if (a->family == 6 && memcmp(a->b, v4_mapped_prefix, 12) == 0) {
        memmove(a->b, a->b + 12, 4);
        memset(a->b + 4, 0, 12);
        a->family = 4;
    }
}

int scn__ip_parse(const char *text, scn_ip_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return SCN_ERR_INVALID_ARG;
    if (inet_pton(AF_INET, text, out->b) == 1) {
        out->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->b) == 1) {
        out->family = 6;
        unmap(out);
        return 0;
    }
    memset(out, 0, sizeof(*out));
    return SCN_ERR_INVALID_ARG;
}

int scn__ip_from_sockaddr(const struct sockaddr *sa, socklen_t len,
                          scn_ip_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (!sa)
        return SCN_ERR_UNSUPPORTED;
    if (sa->sa_family == AF_INET &&
        len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        out->family = 4;
        memcpy(out->b, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6 &&
        len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        out->family = 6;
        memcpy(out->b, &in6->sin6_addr, 16);
        unmap(out);
        return 0;
    }
    return SCN_ERR_UNSUPPORTED;
}

void scn__ip_format(const scn_ip_addr *a, char *buf, size_t cap)
{
    char tmp[SCN_IP_TEXT_MAX];
    const char *r;

    if (!cap)
        return;
    buf[0] = '\0';
    r = inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, tmp, sizeof(tmp));
    if (r && strlen(tmp) < cap)
        memcpy(buf, tmp, strlen(tmp) + 1);
}

/* Zeroes the bits past prefix, so that matching compares whole bytes. */
static void mask(unsigned char *b, unsigned prefix, unsigned bits)
{
    for (unsigned i = prefix; i < bits; i++)
        b[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
}

static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    size_t n = strlen(s);

    /* Digits only, as written by people: no sign, no spaces, no hex. */
    if (n == 0 || n > 3)
        return SCN_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SCN_ERR_INVALID_ARG;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return SCN_ERR_INVALID_ARG;
    *out = v;
    return 0;
}

static int parse_rule(const char *text, scn_peer_rule *r)
{
    char addr[SCN_IP_TEXT_MAX + 8];
    const char *slash;
    size_t alen;
    unsigned max;
    bool mapped;
    int rc;

    if (!text)
        return SCN_ERR_INVALID_ARG;
    slash = strchr(text, '/');
    alen = slash ? (size_t)(slash - text) : strlen(text);
    if (alen == 0 || alen >= sizeof(addr))
        return SCN_ERR_INVALID_ARG;
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    memset(r, 0, sizeof(*r));
    /* Parsed before unmapping, so that a mapped prefix is read in IPv6
     * bits and then shifted to IPv4 bits. */
    if (inet_pton(AF_INET, addr, r->addr.b) == 1) {
        r->addr.family = 4;
        mapped = false;
    } else if (inet_pton(AF_INET6, addr, r->addr.b) == 1) {
        r->addr.family = 6;
        mapped = memcmp(r->addr.b, v4_mapped_prefix, 12) == 0;
    } else {
        return SCN_ERR_INVALID_ARG;
    }
    max = r->addr.family == 4 ? 32 : 128;
    r->prefix = max;
    if (slash) {
        rc = parse_prefix(slash + 1, max, &r->prefix);
        if (rc)
            return rc;
    }
    if (mapped && r->prefix >= 96) {
        unmap(&r->addr);
        r->prefix -= 96;
        max = 32;
    }
    mask(r->addr.b, r->prefix, max);
    return 0;
}

int scn__peer_allow_init(scn_peer_allow *al, const char *const *entries,
                         size_t n)
{
    int rc;

    memset(al, 0, sizeof(*al));
    if (n == 0)
        return 0;
    if (!entries)
        return SCN_ERR_INVALID_ARG;
    al->rules = calloc(n, sizeof(*al->rules));
    if (!al->rules)
        return SCN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        rc = parse_rule(entries[i], &al->rules[i]);
        if (rc) {
            scn__peer_allow_free(al);
            return rc;
        }
    }
    al->count = n;
    return 0;
}

void scn__peer_allow_free(scn_peer_allow *al)
{
    free(al->rules);
    memset(al, 0, sizeof(*al));
}

static bool rule_matches(const scn_peer_rule *r, const scn_ip_addr *peer)
{
    unsigned full = r->prefix / 8, rest = r->prefix % 8;

    if (r->addr.family != peer->family)
        return false;
    if (memcmp(r->addr.b, peer->b, full) != 0)
        return false;
    if (rest) {
        unsigned char m = (unsigned char)(0xffu << (8 - rest));

        if ((peer->b[full] & m) != r->addr.b[full])
            return false;
    }
    return true;
}

bool scn__peer_allow_match(const scn_peer_allow *al, const scn_ip_addr *peer)
{
    if (al->count == 0)
        return true;
    for (size_t i = 0; i < al->count; i++)
        if (rule_matches(&al->rules[i], peer))
            return true;
    return false;
}
