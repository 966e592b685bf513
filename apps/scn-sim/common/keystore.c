/* JSON key store for the simulators: load, check, reload. */
#include "keystore.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KS_FILE_MAX  (1024 * 1024)
#define KS_NAME_MAX  128
#define KS_ALLOW_MAX 64

typedef struct ks_net {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
} ks_net;

struct ks_key {
    struct ks_key *next;
    char *name;
    char *key;
    size_t key_len;
    int revoked;
    int removed; /* dropped by a reload; kept for sessions that point here */
    int has_expiry;
    time_t expires;
    ks_net allow[KS_ALLOW_MAX];
    size_t n_allow; /* 0: any address */
    int64_t quota;  /* -1: unlimited */
    unsigned window_s;
    /* Usage: survives reloads, as the service's own counter would. */
    double window_start;
    int64_t used;
};

struct keystore {
    char *path; /* NULL: dev mode */
    ks_key *keys;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void key_free(ks_key *k)
{
    if (!k)
        return;
    if (k->key)
        explicit_bzero(k->key, k->key_len);
    free(k->key);
    free(k->name);
    free(k);
}

static void list_free(ks_key *k)
{
    while (k) {
        ks_key *next = k->next;

        key_free(k);
        k = next;
    }
}

int ks_key_syntax(const char *text, size_t len)
{
    size_t i;

    if (!text || len < KS_KEY_MIN || len > KS_KEY_MAX)
        return -1;
    for (i = 0; i < len; i++)
        if (text[i] <= 0x20 || text[i] >= 0x7f)
            return -1;
    return 0;
}

int ks_bearer(const char *value, const char **key, size_t *len)
{
    const char *p = value, *e;

    if (!value)
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "Bearer", 6) || (p[6] != ' ' && p[6] != '\t'))
        return -1;
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    e = p + strlen(p);
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *key = p;
    *len = (size_t)(e - p);
    return 0;
}

/* Digits at s[0..n): value into *v. */
static int digits(const char *s, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int ks_parse_time(const char *s, time_t *out)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    struct tm tm;
    time_t t;

    if (!s || strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
        digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    s += 19;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -1;
        while (isdigit((unsigned char)*s))
            s++; /* the store counts whole seconds */
    }
    if ((*s == 'Z' || *s == 'z') && !s[1]) {
        sign = 0;
    } else if ((*s == '+' || *s == '-') && strlen(s) == 6 &&
               !digits(s + 1, 2, &oh) && s[3] == ':' &&
               !digits(s + 4, 2, &om) && oh < 24 && om < 60) {
        sign = *s == '+' ? 1 : -1;
    } else {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = t - (time_t)sign * (oh * 3600 + om * 60);
    return 0;
}

/* An address, optionally "/prefix". */
static int parse_net(const char *s, ks_net *n)
{
    char buf[INET6_ADDRSTRLEN + 8];
    char *slash;
    int max;

    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    slash = strchr(buf, '/');
    if (slash)
        *slash++ = '\0';
    memset(n, 0, sizeof(*n));
    if (inet_pton(AF_INET, buf, n->addr) == 1) {
        n->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
        n->family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    n->prefix = max;
    if (slash && (digits(slash, (int)strlen(slash), &n->prefix) || !*slash ||
                  strlen(slash) > 3 || n->prefix > max))
        return -1;
    return 0;
}

/* The peer as a network address; a v4-mapped IPv6 address counts as the
 * IPv4 address it carries, as a dual-stack listener reports them. */
static int parse_peer(const char *peer, ks_net *n)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};

    if (!peer || parse_net(peer, n) || strchr(peer, '/'))
        return -1;
    if (n->family == AF_INET6 && !memcmp(n->addr, mapped, 12)) {
        memmove(n->addr, n->addr + 12, 4);
        memset(n->addr + 4, 0, 12);
        n->family = AF_INET;
        n->prefix = 32;
    }
    return 0;
}

static int net_contains(const ks_net *net, const ks_net *a)
{
    int full = net->prefix / 8, rest = net->prefix % 8;

    if (net->family != a->family)
        return 0;
    if (memcmp(net->addr, a->addr, (size_t)full))
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));

        if ((net->addr[full] & mask) != (a->addr[full] & mask))
            return 0;
    }
    return 1;
}

static int allowed(const ks_key *k, const char *peer)
{
    ks_net a;
    size_t i;

    if (!k->n_allow)
        return 1;
    if (parse_peer(peer, &a))
        return 0;
    for (i = 0; i < k->n_allow; i++)
        if (net_contains(&k->allow[i], &a))
            return 1;
    return 0;
}

/* Whole non-negative integer from a JSON number. */
static int json_int(const cJSON *v, double min, double max, int64_t *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < min || d > max)
        return -1;
    *out = (int64_t)d;
    return 0;
}

/* One element of "keys". Errors name the element by index and name only. */
static ks_key *parse_key(const cJSON *o, int idx, char *err, size_t errlen)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "key");
    const cJSON *v;
    ks_key *k;
    int64_t n;

    if (!cJSON_IsObject(o)) {
        seterr(err, errlen, "keys[%d]: not an object", idx);
        return NULL;
    }
    if (!cJSON_IsString(name) || !name->valuestring[0] ||
        strlen(name->valuestring) > KS_NAME_MAX) {
        seterr(err, errlen,
               "keys[%d]: \"name\" must be a string of 1-%d "
               "characters",
               idx, KS_NAME_MAX);
        return NULL;
    }
    if (!cJSON_IsString(key) ||
        ks_key_syntax(key->valuestring, strlen(key->valuestring))) {
        seterr(err, errlen,
               "keys[%d] (%s): \"key\" must be %d-%d printable "
               "characters without spaces",
               idx, name->valuestring, KS_KEY_MIN, KS_KEY_MAX);
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (!k || !(k->name = strdup(name->valuestring)) ||
        !(k->key = strdup(key->valuestring))) {
        key_free(k);
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    k->key_len = strlen(k->key);
    k->quota = -1;
    k->window_s = KS_DEFAULT_WINDOW_S;

    v = cJSON_GetObjectItemCaseSensitive(o, "revoked");
    if (v && !cJSON_IsBool(v)) {
        seterr(err, errlen, "keys[%d] (%s): \"revoked\" must be a boolean", idx,
               k->name);
        goto fail;
    }
    k->revoked = cJSON_IsTrue(v);

    v = cJSON_GetObjectItemCaseSensitive(o, "expires");
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsString(v) || ks_parse_time(v->valuestring, &k->expires)) {
            seterr(err, errlen,
                   "keys[%d] (%s): \"expires\" must be an "
                   "ISO-8601 UTC time",
                   idx, k->name);
            goto fail;
        }
        k->has_expiry = 1;
    }

    v = cJSON_GetObjectItemCaseSensitive(o, "allow");
    if (v && !cJSON_IsNull(v)) {
        const cJSON *a;

        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > KS_ALLOW_MAX) {
            seterr(err, errlen,
                   "keys[%d] (%s): \"allow\" must be an array "
                   "of at most %d addresses",
                   idx, k->name, KS_ALLOW_MAX);
            goto fail;
        }
        cJSON_ArrayForEach(a, v)
        {
            if (!cJSON_IsString(a) ||
                parse_net(a->valuestring, &k->allow[k->n_allow])) {
                seterr(err, errlen,
                       "keys[%d] (%s): \"allow\" entry %zu is "
                       "not an address or CIDR network",
                       idx, k->name, k->n_allow);
                goto fail;
            }
            k->n_allow++;
        }
    }

    v = cJSON_GetObjectItemCaseSensitive(o, "quota");
    if (v && !cJSON_IsNull(v)) {
        if (json_int(v, 0, 9007199254740991.0, &n)) {
            seterr(err, errlen,
                   "keys[%d] (%s): \"quota\" must be a "
                   "non-negative integer",
                   idx, k->name);
            goto fail;
        }
        k->quota = n;
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "quota_window_s");
    if (v && !cJSON_IsNull(v)) {
        if (json_int(v, 1, 366.0 * 86400, &n)) {
            seterr(err, errlen,
                   "keys[%d] (%s): \"quota_window_s\" must be "
                   "an integer from 1 to 31622400",
                   idx, k->name);
            goto fail;
        }
        k->window_s = (unsigned)n;
    }
    return k;
fail:
    key_free(k);
    return NULL;
}

/* Overwrites every "key" string of the parsed tree before it is freed. */
static void wipe_tree(cJSON *root)
{
    cJSON *keys = cJSON_GetObjectItemCaseSensitive(root, "keys"), *o;

    if (!cJSON_IsArray(keys))
        return;
    cJSON_ArrayForEach(o, keys)
    {
        cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "key");

        if (cJSON_IsString(k))
            explicit_bzero(k->valuestring, strlen(k->valuestring));
    }
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (!f) {
        seterr(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(KS_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    n = fread(buf, 1, KS_FILE_MAX + 1, f);
    if (ferror(f) || n > KS_FILE_MAX) {
        seterr(err, errlen, "%s: %s", path,
               ferror(f) ? "read error" : "file larger than 1 MiB");
        explicit_bzero(buf, n);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parses the file into a fresh list. */
static int load(const char *path, ks_key **out, char *err, size_t errlen)
{
    ks_key *head = NULL, **tail = &head, *k, *j;
    cJSON *root, *keys, *o;
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    int idx = 0;

    if (!text)
        return -1;
    root = cJSON_ParseWithLength(text, len);
    if (!root) {
        /* Never quote the text around the error: it may hold a key. */
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= text && at <= text + len ? at - text : -1;

        seterr(err, errlen, "%s: JSON syntax error near byte %ld", path, off);
        explicit_bzero(text, len);
        free(text);
        return -1;
    }
    explicit_bzero(text, len);
    free(text);
    keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(keys)) {
        seterr(err, errlen, "%s: expected {\"keys\":[...]}", path);
        goto fail;
    }
    cJSON_ArrayForEach(o, keys)
    {
        k = parse_key(o, idx, err, errlen);
        if (!k)
            goto fail;
        for (j = head; j; j = j->next)
            if (j->key_len == k->key_len &&
                !memcmp(j->key, k->key, k->key_len)) {
                seterr(err, errlen, "keys[%d] (%s): same key as \"%s\"", idx,
                       k->name, j->name);
                key_free(k);
                goto fail;
            }
        *tail = k;
        tail = &k->next;
        idx++;
    }
    wipe_tree(root);
    cJSON_Delete(root);
    *out = head;
    return 0;
fail:
    wipe_tree(root);
    cJSON_Delete(root);
    list_free(head);
    return -1;
}

int ks_open(keystore **out, const char *path, char *err, size_t errlen)
{
    keystore *ks = calloc(1, sizeof(*ks));

    if (!ks) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    if (path) {
        ks->path = strdup(path);
        if (!ks->path || load(path, &ks->keys, err, errlen)) {
            free(ks->path);
            free(ks);
            return -1;
        }
    }
    *out = ks;
    return 0;
}

void ks_free(keystore *ks)
{
    if (!ks)
        return;
    list_free(ks->keys);
    free(ks->path);
    free(ks);
}

/* Moves the settings of n into o, keeping o's identity and usage. */
static void adopt(ks_key *o, ks_key *n)
{
    char *name = o->name;

    o->name = n->name;
    n->name = name;
    o->revoked = n->revoked;
    o->removed = 0;
    o->has_expiry = n->has_expiry;
    o->expires = n->expires;
    memcpy(o->allow, n->allow, sizeof(o->allow));
    o->n_allow = n->n_allow;
    o->quota = n->quota;
    o->window_s = n->window_s;
}

int ks_reload(keystore *ks, char *err, size_t errlen)
{
    ks_key *fresh = NULL, *o, *n, *next, **tail;

    if (!ks->path)
        return 0;
    if (load(ks->path, &fresh, err, errlen))
        return -1;
    for (o = ks->keys; o; o = o->next)
        o->removed = 1;
    tail = &ks->keys;
    while (*tail)
        tail = &(*tail)->next;
    for (n = fresh; n; n = next) {
        next = n->next;
        n->next = NULL;
        for (o = ks->keys; o; o = o->next)
            if (o->key_len == n->key_len && !memcmp(o->key, n->key, n->key_len))
                break;
        if (o) {
            adopt(o, n);
            key_free(n);
        } else {
            *tail = n;
            tail = &n->next;
        }
    }
    return 0;
}

int ks_is_dev(const keystore *ks)
{
    return !ks->path;
}

size_t ks_count(const keystore *ks)
{
    const ks_key *k;
    size_t n = 0;

    for (k = ks->keys; k; k = k->next)
        n += !k->removed;
    return n;
}

/* Equal texts, in time independent of where they differ. */
static int same_key(const ks_key *k, const char *key, size_t len)
{
    unsigned char diff = 0;
    size_t i;

    if (k->key_len != len)
        return 0;
    for (i = 0; i < len; i++)
        diff |= (unsigned char)(k->key[i] ^ key[i]);
    return diff == 0;
}

/* Ends the current quota window once it is over. A window opens with the
 * first frame counted in it (ks_quota_take). */
static void roll_window(ks_key *k, double mono)
{
    if (k->used && mono >= k->window_start + k->window_s)
        k->used = 0;
}

static unsigned window_left(const ks_key *k, double mono)
{
    double left = k->window_start + k->window_s - mono;

    return left < 1 ? 1 : (unsigned)ceil(left);
}

ks_verdict ks_admit(keystore *ks, const char *key, size_t len, const char *peer,
                    time_t now, double mono, ks_key **entry,
                    unsigned *retry_after)
{
    ks_key *k, *hit = NULL;
    ks_verdict v;

    *entry = NULL;
    if (!key || ks_key_syntax(key, len))
        return KS_INVALID;
    if (ks_is_dev(ks))
        return KS_OK;
    for (k = ks->keys; k; k = k->next)
        if (!k->removed && same_key(k, key, len))
            hit = k;
    if (!hit)
        return KS_INVALID;
    *entry = hit;
    v = ks_recheck(hit, peer, now);
    if (v != KS_OK)
        return v;
    if (hit->quota >= 0) {
        roll_window(hit, mono);
        if (hit->used >= hit->quota) {
            *retry_after = hit->used ? window_left(hit, mono) : hit->window_s;
            return KS_QUOTA;
        }
    }
    return KS_OK;
}

ks_verdict ks_recheck(const ks_key *k, const char *peer, time_t now)
{
    if (!k)
        return KS_OK;
    if (k->removed || k->revoked)
        return KS_REVOKED;
    if (k->has_expiry && now >= k->expires)
        return KS_EXPIRED;
    if (!allowed(k, peer))
        return KS_ADDRESS;
    return KS_OK;
}

int ks_quota_take(ks_key *k, double mono, unsigned *retry_after)
{
    if (!k || k->quota < 0)
        return 0;
    roll_window(k, mono);
    if (k->used >= k->quota) {
        *retry_after = k->used ? window_left(k, mono) : k->window_s;
        return -1;
    }
    if (k->used == 0)
        k->window_start = mono; /* the window opens with its first frame */
    k->used++;
    return 0;
}

const char *ks_key_name(const ks_key *k)
{
    return k ? k->name : "dev";
}

const char *ks_verdict_name(ks_verdict v)
{
    switch (v) {
    case KS_OK:
        return "ok";
    case KS_INVALID:
        return "invalid";
    case KS_EXPIRED:
        return "expired";
    case KS_REVOKED:
        return "revoked";
    case KS_ADDRESS:
        return "address not allowed";
    case KS_QUOTA:
        return "quota exhausted";
    default:
        return "?";
    }
}
