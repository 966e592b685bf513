/* Failure classification (docs/PROTOCOL.md, "Errors"). Only conditions that
 * a later attempt can cure are retried; key and address problems end the
 * session, because retrying them only hammers the server. */
#include "classify.h"

#include <scentience/error.h>

#include <stddef.h>
#include <string.h>

#define MAX_DELAY_S 86400u /* Retry-After and retry_after= cap: 24 h */

static scn_verdict verdict(int err, bool retry, uint32_t min_delay_ms)
{
    scn_verdict v;

    v.err = err;
    v.retry = retry;
    v.min_delay_ms = min_delay_ms;
    return v;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           c == '_';
}

/* RFC 9110 token characters. */
static bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool name_is(const char *s, size_t n, const char *name)
{
    size_t i;

    if (strlen(name) != n)
        return false;
    for (i = 0; i < n; i++)
        if (lower(s[i]) != name[i])
            return false;
    return true;
}

/* Parses up to 10 digits of seconds at *p into ms, capped at 24 h. */
static bool parse_seconds(const char **p, uint32_t *ms)
{
    const char *s = *p;
    uint64_t v = 0;

    if (!is_digit(*s))
        return false;
    while (is_digit(*s)) {
        if (v <= MAX_DELAY_S)
            v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (v > MAX_DELAY_S)
        v = MAX_DELAY_S;
    *ms = (uint32_t)(v * 1000u);
    *p = s;
    return true;
}

/* "retry_after=<seconds>" anywhere in a close reason, as a whole word. */
static bool detail_retry_after(const char *detail, uint32_t *ms)
{
    static const char key[] = "retry_after=";
    const char *p = detail;

    if (!detail)
        return false;
    while ((p = strstr(p, key)) != NULL) {
        const char *v = p + sizeof(key) - 1;

        if (p == detail || !is_word(p[-1])) {
            uint32_t out;

            if (parse_seconds(&v, &out) && !is_word(*v) && *v != '.') {
                *ms = out;
                return true;
            }
        }
        p++;
    }
    return false;
}

/* The error_description auth-param of a WWW-Authenticate header, lower-cased
 * into out (cut at cap - 1). Scheme names and token68 values are skipped;
 * quoted strings are unescaped so that a quoted comma cannot fool us. */
static bool auth_description(const char *h, char *out, size_t cap)
{
    const char *p = h;

    if (!h)
        return false;
    while (*p) {
        const char *name;
        size_t name_len, n = 0;

        while (is_space(*p) || *p == ',')
            p++;
        name = p;
        while (is_tchar(*p))
            p++;
        name_len = (size_t)(p - name);
        if (name_len == 0) {
            if (*p)
                p++; /* a stray character: step over it */
            continue;
        }
        while (is_space(*p))
            p++;
        if (*p != '=' || p[1] == '=')
            continue; /* a scheme name, or token68 padding follows */
        p++;
        while (is_space(*p))
            p++;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                if (n + 1 < cap)
                    out[n++] = lower(*p);
                p++;
            }
            if (*p == '"')
                p++;
        } else {
            while (is_tchar(*p)) {
                if (n + 1 < cap)
                    out[n++] = lower(*p);
                p++;
            }
        }
        if (name_is(name, name_len, "error_description")) {
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

/*
 * The one table of what a peer's refusal means (docs/PROTOCOL.md sections
 * 2, 5, 9.2 and 9.6): an HTTP status, refined by a word (the
 * WWW-Authenticate error_description of a handshake, the error object's
 * code of a request's answer); the close code that says the same on an
 * open session; the cloud's error code for it. The rows of one status
 * are together, its default last.
 */
#define AT_HANDSHAKE 1u /* the status answers a WebSocket upgrade */
#define AT_REQUEST   2u /* the status answers a request (POST /v1/predict) */

static const struct refusal {
    int status;       /* HTTP status; 0: none */
    unsigned at;      /* AT_*: where the status means this */
    const char *word; /* refining word and cloud error code; NULL: none */
    int close_code;   /* 0: none */
    int err;
    bool retry;       /* a session tries again after it */
    uint32_t wait_ms; /* ... no sooner, when the peer names no time */
} refusals[] = {
    {401, AT_HANDSHAKE | AT_REQUEST, "expired", 4002, SCN_ERR_KEY_EXPIRED,
     false, 0},
    {401, AT_HANDSHAKE | AT_REQUEST, "revoked", 4001, SCN_ERR_KEY_REVOKED,
     false, 0},
    {401, AT_HANDSHAKE | AT_REQUEST, NULL, 0, SCN_ERR_KEY_INVALID, false, 0},
    {403, AT_HANDSHAKE | AT_REQUEST, NULL, 4003, SCN_ERR_ADDRESS_NOT_ALLOWED,
     false, 0},
    {404, AT_HANDSHAKE, NULL, 4004, SCN_ERR_DEVICE_UNKNOWN, false, 0},
    {429, AT_HANDSHAKE | AT_REQUEST, "quota", 4029, SCN_ERR_QUOTA, true,
     SCN_QUOTA_DEFAULT_RETRY_MS},
    {400, AT_REQUEST, "malformed", 0, SCN_ERR_MALFORMED, false, 0},
    {413, AT_REQUEST, "too_big", 0, SCN_ERR_MESSAGE_TOO_BIG, false, 0},
    {0, 0, "gone", 0, SCN_ERR_NOT_FOUND, false, 0},
    /* No more data (a replay at its end): nothing to reconnect for. */
    {0, 0, NULL, 4010, SCN_ERR_END_OF_STREAM, false, 0},
};

#define REFUSALS (sizeof(refusals) / sizeof(refusals[0]))

/* The row of status at, the one whose word is word if any; NULL: none. */
static const struct refusal *by_status(int status, unsigned at,
                                       const char *word)
{
    const struct refusal *fallback = NULL;

    for (size_t i = 0; i < REFUSALS; i++) {
        const struct refusal *r = &refusals[i];
        if (r->status != status || !(r->at & at))
            continue;
        if (word && r->word && strcmp(word, r->word) == 0)
            return r;
        fallback = r;
    }
    return fallback;
}

static const struct refusal *by_close(int code)
{
    for (size_t i = 0; i < REFUSALS; i++)
        if (refusals[i].close_code == code)
            return &refusals[i];
    return NULL;
}

int scn__status_error(int http_status, const char *code)
{
    const struct refusal *r = by_status(http_status, AT_REQUEST, code);

    return r ? r->err : SCN_ERR_SERVER;
}

int scn__cloud_code_error(const char *code, bool *ends_session)
{
    for (size_t i = 0; code && i < REFUSALS; i++) {
        if (refusals[i].word && strcmp(code, refusals[i].word) == 0) {
            /* The cloud closes with that code right after (9.2). */
            *ends_session = refusals[i].close_code != 0;
            return refusals[i].err;
        }
    }
    *ends_session = false;
    return SCN_ERR_SERVER;
}

static scn_verdict classify_http(const scn_failure *f)
{
    int st = f->http_status;
    char desc[16];
    const struct refusal *r = by_status(
        st, AT_HANDSHAKE,
        auth_description(f->detail, desc, sizeof(desc)) ? desc : NULL);

    if (r)
        return verdict(r->err, r->retry,
                       !r->retry           ? 0
                       : f->retry_after_ms ? f->retry_after_ms
                                           : r->wait_ms);
    if (st >= 500 && st <= 599)
        return verdict(SCN_ERR_SERVER, true, f->retry_after_ms);
    if (st >= 400 && st <= 499)
        return verdict(SCN_ERR_HANDSHAKE, false, 0);
    /* 200, 3xx, garbage: a broken proxy or a restart; worth another try. */
    return verdict(SCN_ERR_HANDSHAKE, true, 0);
}

/* Close-frame delay: the parsed header if any, else the reason text. */
static uint32_t close_delay(const scn_failure *f, uint32_t fallback)
{
    uint32_t ms;

    if (f->retry_after_ms)
        return f->retry_after_ms;
    if (detail_retry_after(f->detail, &ms))
        return ms;
    return fallback;
}

/* WebSocket's own codes here; the protocol's (4000-4999) in refusals[]. */
static scn_verdict classify_close(const scn_failure *f)
{
    const struct refusal *r;

    switch (f->close_code) {
    case 1000:
        return verdict(SCN_ERR_PEER_CLOSED, true, 0);
    case 1001:
    case 1012:
        return verdict(SCN_ERR_GOING_AWAY, true, 0);
    case 1006:
        return verdict(SCN_ERR_NETWORK, true, 0);
    case 1008:
        return verdict(SCN_ERR_POLICY, false, 0);
    case 1009:
        return verdict(SCN_ERR_MESSAGE_TOO_BIG, true, 0);
    case 1011:
        return verdict(SCN_ERR_SERVER, true, 0);
    case 1013:
        return verdict(SCN_ERR_TRY_AGAIN, true, close_delay(f, 0));
    default:
        break;
    }
    r = by_close(f->close_code);
    if (r && f->close_code != 0)
        return verdict(r->err, r->retry,
                       r->retry ? close_delay(f, r->wait_ms) : 0);
    return verdict(SCN_ERR_PEER_CLOSED, true, 0);
}

scn_verdict scn__classify(const scn_failure *failure)
{
    if (!failure)
        return verdict(SCN_ERR_INVALID_ARG, false, 0);
    switch (failure->kind) {
    case SCN_FAIL_CONNECT:
    case SCN_FAIL_LOST:
        return verdict(SCN_ERR_NETWORK, true, 0);
    case SCN_FAIL_RESOLVE:
        return verdict(SCN_ERR_RESOLVE, true, 0);
    case SCN_FAIL_TLS:
        return verdict(SCN_ERR_TLS, true, 0);
    case SCN_FAIL_HTTP_STATUS:
        return classify_http(failure);
    case SCN_FAIL_CLOSE:
        return classify_close(failure);
    case SCN_FAIL_DEAD_PEER:
        return verdict(SCN_ERR_DEAD_PEER, true, 0);
    case SCN_FAIL_CONNECT_TIMEOUT:
        return verdict(SCN_ERR_TIMEOUT, true, 0);
    case SCN_FAIL_TOO_BIG:
        return verdict(SCN_ERR_MESSAGE_TOO_BIG, true, 0);
    }
    return verdict(SCN_ERR_NETWORK, true, 0);
}

/* ---- Retry-After ------------------------------------------------------ */

static const char *const month_names[12] = {"jan", "feb", "mar", "apr",
                                            "may", "jun", "jul", "aug",
                                            "sep", "oct", "nov", "dec"};

static int parse_month(const char *s)
{
    int m;

    for (m = 0; m < 12; m++)
        if (lower(s[0]) == month_names[m][0] &&
            lower(s[1]) == month_names[m][1] &&
            lower(s[2]) == month_names[m][2])
            return m + 1;
    return 0;
}

/* Exactly n digits. */
static bool take_num(const char **p, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!is_digit((*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool take_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* "hh:mm:ss" */
static bool take_time(const char **p, int *h, int *mi, int *s)
{
    return take_num(p, 2, h) && take_char(p, ':') && take_num(p, 2, mi) &&
           take_char(p, ':') && take_num(p, 2, s) && *h <= 23 && *mi <= 59 &&
           *s <= 60;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), y >= 1970. */
static int64_t days_since_epoch(int y, int m, int d)
{
    static const int before_month[12] = {0,   31,  59,  90,  120, 151,
                                         181, 212, 243, 273, 304, 334};
    int64_t leaps;
    int64_t days;
    int64_t py = y - 1; /* leap days before year y, minus those before 1970 */

    leaps =
        (py / 4 - py / 100 + py / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
    days = (int64_t)(y - 1970) * 365 + leaps + before_month[m - 1] + d - 1;
    if (m > 2 && is_leap(y))
        days++;
    return days;
}

static bool valid_date(int y, int m, int d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};

    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    return !(m == 2 && d == 29 && !is_leap(y));
}

/* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday,
 * 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994": RFC 9110
 * says a recipient must accept all three. The weekday is not checked. */
static bool parse_http_date(const char *s, int64_t *unix_s)
{
    const char *p = s;
    int y = 0, m, d = 0, h, mi, sec;

    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        p++;
    if (p - s < 3)
        return false;
    if (*p == ',') {
        p++;
        if (!take_char(&p, ' ') || !take_num(&p, 2, &d))
            return false;
        if (*p == ' ') { /* IMF-fixdate */
            p++;
            if (!(m = parse_month(p)))
                return false;
            p += 3;
            if (!take_char(&p, ' ') || !take_num(&p, 4, &y))
                return false;
        } else { /* RFC 850, two-digit year */
            if (!take_char(&p, '-') || !(m = parse_month(p)))
                return false;
            p += 3;
            if (!take_char(&p, '-') || !take_num(&p, 2, &y))
                return false;
            y += y < 70 ? 2000 : 1900;
        }
        if (!take_char(&p, ' ') || !take_time(&p, &h, &mi, &sec) ||
            strcmp(p, " GMT") != 0)
            return false;
    } else { /* asctime */
        if (!take_char(&p, ' ') || !(m = parse_month(p)))
            return false;
        p += 3;
        if (!take_char(&p, ' '))
            return false;
        if (*p == ' ')
            p++;
        if (!is_digit(*p))
            return false;
        d = *p++ - '0';
        if (is_digit(*p))
            d = d * 10 + (*p++ - '0');
        if (!take_char(&p, ' ') || !take_time(&p, &h, &mi, &sec) ||
            !take_char(&p, ' ') || !take_num(&p, 4, &y) || *p != '\0')
            return false;
    }
    if (!valid_date(y, m, d))
        return false;
    *unix_s = days_since_epoch(y, m, d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

int scn__parse_retry_after(const char *value, int64_t now_unix_s,
                           uint32_t *delay_ms)
{
    const char *p = value;
    const char *end;
    char trimmed[64];
    size_t n;
    int64_t when;

    if (!value || !delay_ms)
        return SCN_ERR_MALFORMED;
    while (is_space(*p))
        p++;
    end = p + strlen(p);
    while (end > p && is_space(end[-1]))
        end--;
    n = (size_t)(end - p);
    if (n == 0 || n >= sizeof(trimmed))
        return SCN_ERR_MALFORMED;
    memcpy(trimmed, p, n);
    trimmed[n] = '\0';

    p = trimmed;
    if (is_digit(*p)) {
        uint32_t ms;

        if (parse_seconds(&p, &ms) && *p == '\0') {
            *delay_ms = ms;
            return 0;
        }
        return SCN_ERR_MALFORMED;
    }
    if (now_unix_s == 0 || !parse_http_date(trimmed, &when))
        return SCN_ERR_MALFORMED;
    if (when <= now_unix_s)
        *delay_ms = 0; /* already past: no extra wait */
    else if (when - now_unix_s >= (int64_t)MAX_DELAY_S)
        *delay_ms = MAX_DELAY_S * 1000u;
    else
        *delay_ms = (uint32_t)(when - now_unix_s) * 1000u;
    return 0;
}
