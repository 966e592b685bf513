/*
 * UAV command validation, for typed commands and for raw command lines.
 * A raw line is first parsed into the typed form and then checked by the
 * same scn_uav_cmd_validate(), so the escape hatch cannot skip a rule.
 */
#include <string.h>

#include <scentience/error.h>

#include "uav_internal.h"

/* Tokens kept from a raw line: curve has the most, 1 + 7. */
#define TOKENS_MAX 8

/* Below this on every axis a go is too small for the drone to fly
 * (Tello-style SDK rule). */
#define GO_MIN_AXIS 20

/* Arc radius bounds of curve, cm. */
#define RADIUS_MIN 50
#define RADIUS_MAX 1000

/* One integer argument: its name in messages, range and unit. */
typedef struct int_rule {
    const char *name;
    int lo, hi;
    const char *unit; /* appended to the range: " cm" */
} int_rule;

static const int_rule move_rule[] = {{"distance", 20, 500, " cm"}};
static const int_rule rotate_rule[] = {{"angle", 1, 360, " degrees"}};
static const int_rule speed_rule[] = {{"speed", 10, 100, " cm/s"}};
static const int_rule mdirection_rule[] = {
    {"direction", 0, 2, " (0 down, 1 front, 2 both)"}};
static const int_rule rc_rules[] = {
    {"a (left/right)", -100, 100, ""},
    {"b (forward/back)", -100, 100, ""},
    {"c (up/down)", -100, 100, ""},
    {"d (yaw)", -100, 100, ""},
};
static const int_rule go_rules[] = {
    {"x", -500, 500, " cm"},
    {"y", -500, 500, " cm"},
    {"z", -500, 500, " cm"},
    {"speed", 10, 100, " cm/s"},
};
static const int_rule curve_rules[] = {
    {"x1", -500, 500, " cm"},   {"y1", -500, 500, " cm"},
    {"z1", -500, 500, " cm"},   {"x2", -500, 500, " cm"},
    {"y2", -500, 500, " cm"},   {"z2", -500, 500, " cm"},
    {"speed", 10, 60, " cm/s"},
};

/* The integer rules of a command; none for commands without integers. */
static const int_rule *rules_of(scn_uav_cmd_id id, unsigned *n)
{
    switch (id) {
    case SCN_UAV_UP:
    case SCN_UAV_DOWN:
    case SCN_UAV_LEFT:
    case SCN_UAV_RIGHT:
    case SCN_UAV_FORWARD:
    case SCN_UAV_BACK:
        *n = 1;
        return move_rule;
    case SCN_UAV_CW:
    case SCN_UAV_CCW:
        *n = 1;
        return rotate_rule;
    case SCN_UAV_SPEED:
        *n = 1;
        return speed_rule;
    case SCN_UAV_MDIRECTION:
        *n = 1;
        return mdirection_rule;
    case SCN_UAV_RC:
        *n = 4;
        return rc_rules;
    case SCN_UAV_GO:
        *n = 4;
        return go_rules;
    case SCN_UAV_CURVE:
        *n = 7;
        return curve_rules;
    default:
        *n = 0;
        return NULL;
    }
}

/* "20-500" or, for signed ranges, "-100 to 100" (readable with the sign). */
static const char *range_text(const int_rule *r, char *buf, size_t cap)
{
    scn__uav_msg(buf, cap, r->lo < 0 ? "%d to %d%s" : "%d-%d%s", r->lo, r->hi,
                 r->unit);
    return buf;
}

static int check_int(const char *cmd, const int_rule *r, int v, char *msg,
                     size_t msg_cap)
{
    char range[64];

    if (v >= r->lo && v <= r->hi)
        return 0;
    scn__uav_msg(msg, msg_cap, "%s: %s %d out of range %s", cmd, r->name, v,
                 range_text(r, range, sizeof range));
    return SCN_ERR_OUT_OF_RANGE;
}

static int iabs(int v)
{
    return v < 0 ? -v : v;
}

static uint64_t isqrt(uint64_t v)
{
    uint64_t lo = 0, hi = UINT64_C(1) << 32;

    /* Largest r with r * r <= v. */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (mid * mid <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/*
 * The circle through the origin, a and b has radius
 * R = |a| |b| |a - b| / (2 |a x b|). Comparing R^2 with the bounds in
 * integers keeps the edges exact: with coordinates within +-500 every
 * product below stays under 2.3e18.
 */
static int check_curve(const scn_uav_cmd *cmd, char *msg, size_t msg_cap)
{
    const int *g = cmd->arg;
    int64_t ax = g[0], ay = g[1], az = g[2], bx = g[3], by = g[4], bz = g[5];
    int64_t cx = ay * bz - az * by, cy = az * bx - ax * bz,
            cz = ax * by - ay * bx;
    uint64_t c2 = (uint64_t)(cx * cx + cy * cy + cz * cz);

    if (c2 == 0) {
        scn__uav_msg(msg, msg_cap,
                     "curve: the points (%d %d %d) and (%d %d %d) are in line "
                     "with the origin (or on it): no arc passes through them",
                     g[0], g[1], g[2], g[3], g[4], g[5]);
        return SCN_ERR_OUT_OF_RANGE;
    }
    uint64_t a2 = (uint64_t)(ax * ax + ay * ay + az * az);
    uint64_t b2 = (uint64_t)(bx * bx + by * by + bz * bz);
    int64_t dx = ax - bx, dy = ay - by, dz = az - bz;
    uint64_t d2 = (uint64_t)(dx * dx + dy * dy + dz * dz);
    uint64_t num = a2 * b2 * d2; /* R^2 = num / (4 c2) */
    uint64_t den = 4 * c2;
    uint64_t lo = (uint64_t)RADIUS_MIN * RADIUS_MIN;
    uint64_t hi = (uint64_t)RADIUS_MAX * RADIUS_MAX;

    if (num >= lo * den && num <= hi * den)
        return 0;
    uint64_t r = isqrt(num / den);
    /* Shown rounded away from the range, so it never reads as a bound. */
    if (num > hi * den && r * r * den < num)
        r++;
    scn__uav_msg(msg, msg_cap,
                 "curve: arc radius %llu cm out of range %d-%d cm",
                 (unsigned long long)r, RADIUS_MIN, RADIUS_MAX);
    return SCN_ERR_OUT_OF_RANGE;
}

int scn_uav_cmd_validate(const scn_uav_cmd *cmd, char *msg, size_t msg_cap)
{
    const scn_uav_cmd_info *info;
    const int_rule *rules;
    unsigned n;
    int rc;

    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL) {
        scn__uav_msg(msg, msg_cap, "no command");
        return SCN_ERR_INVALID_ARG;
    }
    info = scn__uav_cmd_info_of(cmd->id);
    if (info == NULL) {
        scn__uav_msg(msg, msg_cap, "unknown command id %d", (int)cmd->id);
        return SCN_ERR_UNKNOWN_TYPE;
    }
    rules = rules_of(cmd->id, &n);
    for (unsigned i = 0; i < n; i++) {
        rc = check_int(info->name, &rules[i], cmd->arg[i], msg, msg_cap);
        if (rc != 0)
            return rc;
    }
    switch (cmd->id) {
    case SCN_UAV_FLIP:
        if (cmd->flip != '\0' && strchr("lrfb", cmd->flip) != NULL)
            return 0;
        if (cmd->flip > ' ' && cmd->flip < 0x7f)
            scn__uav_msg(msg, msg_cap,
                         "flip: direction \"%c\" is not one of l r f b",
                         cmd->flip);
        else
            scn__uav_msg(msg, msg_cap,
                         "flip: direction 0x%02x is not one of l r f b",
                         (unsigned char)cmd->flip);
        return SCN_ERR_INVALID_ARG;
    case SCN_UAV_GO:
        if (iabs(cmd->arg[0]) <= GO_MIN_AXIS &&
            iabs(cmd->arg[1]) <= GO_MIN_AXIS &&
            iabs(cmd->arg[2]) <= GO_MIN_AXIS) {
            scn__uav_msg(msg, msg_cap,
                         "go: x, y and z (%d %d %d) are all within -%d to %d "
                         "cm; the drone cannot fly a move that small",
                         cmd->arg[0], cmd->arg[1], cmd->arg[2], GO_MIN_AXIS,
                         GO_MIN_AXIS);
            return SCN_ERR_OUT_OF_RANGE;
        }
        return 0;
    case SCN_UAV_CURVE:
        return check_curve(cmd, msg, msg_cap);
    case SCN_UAV_OIO:
        if (scn_compound_name(cmd->compound) != NULL)
            return 0;
        scn__uav_msg(msg, msg_cap, "oio: unknown compound id %d",
                     (int)cmd->compound);
        return SCN_ERR_INVALID_ARG;
    case SCN_UAV_SSID:
    case SCN_UAV_AP:
        rc = scn__uav_check_text(
            info->name, cmd->id == SCN_UAV_SSID ? "name" : "ssid", cmd->ssid,
            SCN_UAV_SSID_MAX, false, msg, msg_cap);
        if (rc != 0)
            return rc;
        return scn__uav_check_text(info->name, "password", cmd->password,
                                   SCN_UAV_PASSWORD_MAX, true, msg, msg_cap);
    default:
        return 0;
    }
}

typedef struct token {
    const char *p;
    size_t n;
} token;

/* Copies a token into a NUL-terminated buffer of SCN_UAV_LINE_MAX + 1. */
static void token_str(const token *t, char *buf)
{
    memcpy(buf, t->p, t->n);
    buf[t->n] = '\0';
}

/* The integer arguments of a raw line, into cmd->arg. */
static int parse_ints(const token *args, const scn_uav_cmd_info *info,
                      scn_uav_cmd *cmd, char *msg, size_t msg_cap)
{
    const int_rule *rules = rules_of(cmd->id, &(unsigned){0});
    char range[64];

    for (unsigned i = 0; i < info->nargs; i++) {
        const token *t = &args[i];
        int64_t v;
        bool overflow;

        range_text(&rules[i], range, sizeof range);
        if (!scn__uav_read_int(t->p, t->n, true, &v, &overflow)) {
            scn__uav_msg(
                msg, msg_cap, "%s: %s \"%.*s%s\" is not a plain integer (%s)",
                info->name, rules[i].name, (int)(t->n > 16 ? 16 : t->n), t->p,
                t->n > 16 ? "..." : "", range);
            return SCN_ERR_INVALID_ARG;
        }
        if (overflow || v < rules[i].lo || v > rules[i].hi) {
            /* Quoted as written: it may not fit an int. */
            scn__uav_msg(msg, msg_cap, "%s: %s %.*s%s out of range %s",
                         info->name, rules[i].name,
                         (int)(t->n > 24 ? 24 : t->n), t->p,
                         t->n > 24 ? "..." : "", range);
            return SCN_ERR_OUT_OF_RANGE;
        }
        cmd->arg[i] = (int)v;
    }
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

static int parse_args(const token *args, const scn_uav_cmd_info *info,
                      scn_uav_cmd *cmd, char *msg, size_t msg_cap)
{
    char a[SCN_UAV_LINE_MAX + 1], b[SCN_UAV_LINE_MAX + 1];
    scn_compound c;

    switch (cmd->id) {
    case SCN_UAV_FLIP:
        if (args[0].n != 1) {
            scn__uav_msg(msg, msg_cap,
                         "flip: direction \"%.*s%s\" is not one of l r f b",
                         (int)(args[0].n > 16 ? 16 : args[0].n), args[0].p,
                         args[0].n > 16 ? "..." : "");
            return SCN_ERR_INVALID_ARG;
        }
        return scn_uav_cmd_flip(cmd, args[0].p[0], msg, msg_cap);
    case SCN_UAV_OIO:
        token_str(&args[0], a);
        if (scn_compound_from_name(a, &c) != 0) {
            scn__uav_msg(msg, msg_cap,
                         "oio: unknown compound \"%.16s%s\" (one of co2 nh3 no "
                         "no2 co c2h5oh h2 ch4 c3h8 c4h10 h2s hcho so2 voc)",
                         a, args[0].n > 16 ? "..." : "");
            return SCN_ERR_INVALID_ARG;
        }
        return scn_uav_cmd_oio(cmd, c, msg, msg_cap);
    case SCN_UAV_SSID:
        if (args[1].n != 4 || memcmp(args[1].p, "pass", 4) != 0) {
            scn__uav_msg(msg, msg_cap,
                         "ssid: expected \"pass\" after the name (usage: ssid "
                         "NAME pass PASSWORD)");
            return SCN_ERR_INVALID_ARG;
        }
        token_str(&args[0], a);
        token_str(&args[2], b);
        return scn_uav_cmd_ssid(cmd, a, b, msg, msg_cap);
    case SCN_UAV_AP:
        token_str(&args[0], a);
        token_str(&args[1], b);
        return scn_uav_cmd_ap(cmd, a, b, msg, msg_cap);
    default:
        return parse_ints(args, info, cmd, msg, msg_cap);
    }
}

static int parse_line(const char *text, size_t len, scn_uav_cmd *cmd, char *msg,
                      size_t msg_cap)
{
    token tok[TOKENS_MAX];
    size_t ntok = 0;
    bool empty_token = false;
    const scn_uav_cmd_info *info;
    scn_uav_cmd_id id;

    if (len == 0) {
        scn__uav_msg(msg, msg_cap, "empty command");
        return SCN_ERR_INVALID_ARG;
    }
    if (len > SCN_UAV_LINE_MAX) {
        scn__uav_msg(msg, msg_cap, "command line is %zu bytes, longer than %d",
                     len, SCN_UAV_LINE_MAX);
        return SCN_ERR_MESSAGE_TOO_BIG;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch < ' ' || ch > 0x7e) {
            /* Not shown as text: it may be part of a password. */
            scn__uav_msg(msg, msg_cap,
                         "command has a control or non-ASCII character (0x%02x "
                         "at byte %zu)",
                         ch, i + 1);
            return SCN_ERR_INVALID_ARG;
        }
    }
    if (text[0] == ' ') {
        scn__uav_msg(msg, msg_cap, "command starts with a space");
        return SCN_ERR_INVALID_ARG;
    }
    /* Split at every space, keeping empty tokens to report them. */
    for (size_t start = 0, i = 0; i <= len; i++) {
        if (i < len && text[i] != ' ')
            continue;
        if (i == start)
            empty_token = true;
        if (ntok < TOKENS_MAX)
            tok[ntok] = (token){text + start, i - start};
        ntok++;
        start = i + 1;
    }
    if (!scn__uav_cmd_lookup(tok[0].p, tok[0].n, &id)) {
        scn__uav_msg(msg, msg_cap, "unknown command \"%.*s%s\"",
                     (int)(tok[0].n > 24 ? 24 : tok[0].n), tok[0].p,
                     tok[0].n > 24 ? "..." : "");
        return SCN_ERR_UNKNOWN_TYPE;
    }
    info = scn__uav_cmd_info_of(id);
    if (text[len - 1] == ' ') {
        scn__uav_msg(msg, msg_cap, "%s: trailing space", info->name);
        return SCN_ERR_INVALID_ARG;
    }
    if (empty_token) {
        scn__uav_msg(msg, msg_cap,
                     "%s: arguments must be separated by single spaces",
                     info->name);
        return SCN_ERR_INVALID_ARG;
    }
    if (ntok - 1 != info->nargs) {
        if (info->nargs == 0)
            scn__uav_msg(msg, msg_cap, "%s: takes no arguments, got %zu",
                         info->name, ntok - 1);
        else
            scn__uav_msg(msg, msg_cap,
                         "%s: expected %u argument%s, got %zu (usage: %s)",
                         info->name, info->nargs, info->nargs == 1 ? "" : "s",
                         ntok - 1, info->usage);
        return SCN_ERR_INVALID_ARG;
    }
    cmd->id = id;
    if (info->nargs == 0)
        return scn_uav_cmd_validate(cmd, msg, msg_cap);
    return parse_args(tok + 1, info, cmd, msg, msg_cap);
}

int scn_uav_cmd_parse(const char *text, size_t len, scn_uav_cmd *cmd, char *msg,
                      size_t msg_cap)
{
    int rc;

    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL || (text == NULL && len > 0))
        return SCN_ERR_INVALID_ARG;
    memset(cmd, 0, sizeof(*cmd));
    rc = parse_line(text, len, cmd, msg, msg_cap);
    if (rc != 0)
        memset(cmd, 0, sizeof(*cmd));
    return rc;
}
