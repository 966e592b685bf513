/*
 * The simulators' API key store: a JSON file of keys with the restrictions
 * Scentience documents (revocation, expiry, IP allow list, usage quota).
 *
 *   {"keys":[{"name":"testing","key":"...","revoked":false,
 *             "expires":"2030-01-01T00:00:00Z",
 *             "allow":["127.0.0.1","10.0.0.0/8","::1"],
 *             "quota":1000,"quota_window_s":3600}]}
 *
 * Only name and key are required. Without a file the store runs in dev
 * mode: any syntactically valid key is accepted.
 *
 * Key texts never leave this module: errors and names identify a key by its
 * name or its position in the file. Entries are never freed before the
 * store itself, so a session may keep a pointer to its key across reloads:
 * a reload updates entries in place and marks the ones it drops removed.
 */
#ifndef SCN_SIM_KEYSTORE_H
#define SCN_SIM_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define KS_DEFAULT_WINDOW_S 3600
#define KS_KEY_MIN          8
#define KS_KEY_MAX          512

typedef enum ks_verdict {
    KS_OK,
    KS_INVALID, /* malformed, unknown or removed key */
    KS_EXPIRED,
    KS_REVOKED,
    KS_ADDRESS, /* the peer's address is not on the allow list */
    KS_QUOTA    /* usage quota exhausted for the current window */
} ks_verdict;

typedef struct ks_key ks_key;
typedef struct keystore keystore;

/* path NULL: dev mode. Returns 0, or -1 with a message in err. */
int ks_open(keystore **out, const char *path, char *err, size_t errlen);
void ks_free(keystore *ks);
/* Reads the file again. On any error (unreadable, bad JSON, bad member)
 * returns -1 with a message and keeps the current keys. In dev mode does
 * nothing and returns 0. */
int ks_reload(keystore *ks, char *err, size_t errlen);
int ks_is_dev(const keystore *ks);
/* Keys in use (not removed). */
size_t ks_count(const keystore *ks);

/* Finds the key of an "Authorization" header value ("Bearer <key>", scheme
 * case-insensitive). Returns 0 with *key and *len giving the key inside value,
 * or -1 when the header is not a Bearer credential. */
int ks_bearer(const char *value, const char **key, size_t *len);
/* 0 when text is KS_KEY_MIN..KS_KEY_MAX printable ASCII without spaces. */
int ks_key_syntax(const char *text, size_t len);

/*
 * The handshake decision for a key presented by peer (numeric address,
 * IPv4 or IPv6). now is wall-clock time (expiry), mono a monotonic second
 * count (quota windows). *entry is the key found, whatever the verdict
 * (NULL in dev mode or when no key matched): a refusal can then be logged
 * with the key's name. On KS_QUOTA *retry_after holds the seconds left in
 * the window (>= 1).
 */
ks_verdict ks_admit(keystore *ks, const char *key, size_t len, const char *peer,
                    time_t now, double mono, ks_key **entry,
                    unsigned *retry_after);
/* Whether an open session may go on (removed or revoked: KS_REVOKED,
 * then KS_EXPIRED, KS_ADDRESS). NULL (dev mode) is always KS_OK. */
ks_verdict ks_recheck(const ks_key *k, const char *peer, time_t now);
/* Counts one frame against the key's quota. Returns 0, or -1 when the
 * quota is exhausted (nothing counted, *retry_after set). NULL: 0. */
int ks_quota_take(ks_key *k, double mono, unsigned *retry_after);

/* The key's name, for logs ("dev" for NULL). */
const char *ks_key_name(const ks_key *k);
const char *ks_verdict_name(ks_verdict v);

/* Parses an ISO-8601 UTC time ("2030-01-01T00:00:00Z", optional fraction,
 * "Z" or a +hh:mm/-hh:mm offset). Returns 0 or -1. */
int ks_parse_time(const char *s, time_t *out);

#endif
