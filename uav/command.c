/*
 * UAV commands: the command table (word, kind, timeout and answer class),
 * typed constructors and formatting. Validation lives in validate.c; every
 * constructor ends there, so nothing unchecked is ever formatted.
 */
#include <string.h>

#include <scentience/error.h>

#include "uav_internal.h"

#define CONTROL SCN_UAV_KIND_CONTROL
#define SET     SCN_UAV_KIND_SET
#define READ    SCN_UAV_KIND_READ
#define MOTION  SCN_UAV_KIND_MOTION
#define EMERG   SCN_UAV_KIND_EMERGENCY
#define SHORT   SCN_UAV_TIMEOUT_SHORT
#define LONG    SCN_UAV_TIMEOUT_LONG
#define ACK     SCN_UAV_ANSWER_CLASS_ACK
#define INT     SCN_UAV_ANSWER_CLASS_INT
#define NUM     SCN_UAV_ANSWER_CLASS_NUMBER
#define POS     SCN_UAV_ANSWER_CLASS_POS
#define TEXT    SCN_UAV_ANSWER_CLASS_TEXT

/* stop and emergency are answered at once, so they wait only briefly;
 * takeoff and land finish before the drone answers, like motions. */
static const scn_uav_cmd_info infos[SCN_UAV_CMD_COUNT] = {
    [SCN_UAV_HELLO] = {"hello_scentience", CONTROL, SHORT, ACK, 0,
                       "hello_scentience"},
    [SCN_UAV_TAKEOFF] = {"takeoff", CONTROL, LONG, ACK, 0, "takeoff"},
    [SCN_UAV_LAND] = {"land", CONTROL, LONG, ACK, 0, "land"},
    [SCN_UAV_STOP] = {"stop", CONTROL, SHORT, ACK, 0, "stop"},
    [SCN_UAV_EMERGENCY] = {"emergency", EMERG, SHORT, ACK, 0, "emergency"},
    [SCN_UAV_STREAMON] = {"streamon", CONTROL, SHORT, ACK, 0, "streamon"},
    [SCN_UAV_STREAMOFF] = {"streamoff", CONTROL, SHORT, ACK, 0, "streamoff"},
    [SCN_UAV_UP] = {"up", MOTION, LONG, ACK, 1, "up x"},
    [SCN_UAV_DOWN] = {"down", MOTION, LONG, ACK, 1, "down x"},
    [SCN_UAV_LEFT] = {"left", MOTION, LONG, ACK, 1, "left x"},
    [SCN_UAV_RIGHT] = {"right", MOTION, LONG, ACK, 1, "right x"},
    [SCN_UAV_FORWARD] = {"forward", MOTION, LONG, ACK, 1, "forward x"},
    [SCN_UAV_BACK] = {"back", MOTION, LONG, ACK, 1, "back x"},
    [SCN_UAV_CW] = {"cw", MOTION, LONG, ACK, 1, "cw x"},
    [SCN_UAV_CCW] = {"ccw", MOTION, LONG, ACK, 1, "ccw x"},
    [SCN_UAV_FLIP] = {"flip", MOTION, LONG, ACK, 1, "flip l|r|f|b"},
    [SCN_UAV_GO] = {"go", MOTION, LONG, ACK, 4, "go x y z speed"},
    [SCN_UAV_CURVE] = {"curve", MOTION, LONG, ACK, 7,
                       "curve x1 y1 z1 x2 y2 z2 speed"},
    [SCN_UAV_OIOON] = {"oioon", CONTROL, SHORT, ACK, 0, "oioon"},
    [SCN_UAV_OIOOFF] = {"oiooff", CONTROL, SHORT, ACK, 0, "oiooff"},
    [SCN_UAV_OIO] = {"oio", CONTROL, SHORT, ACK, 1, "oio compound"},
    [SCN_UAV_SPEED] = {"speed", SET, SHORT, ACK, 1, "speed x"},
    [SCN_UAV_RC] = {"rc", SET, SHORT, ACK, 4, "rc a b c d"},
    [SCN_UAV_SSID] = {"ssid", SET, SHORT, ACK, 3, "ssid NAME pass PASSWORD"},
    [SCN_UAV_MDIRECTION] = {"mdirection", SET, SHORT, ACK, 1, "mdirection x"},
    [SCN_UAV_AP] = {"ap", SET, SHORT, ACK, 2, "ap SSID PASSWORD"},
    [SCN_UAV_READ_SPEED] = {"speed?", READ, SHORT, NUM, 0, "speed?"},
    [SCN_UAV_READ_BATTERY] = {"battery?", READ, SHORT, INT, 0, "battery?"},
    [SCN_UAV_READ_TIME] = {"time?", READ, SHORT, INT, 0, "time?"},
    [SCN_UAV_READ_WIFI] = {"wifi?", READ, SHORT, INT, 0, "wifi?"},
    [SCN_UAV_READ_GPS] = {"gps?", READ, SHORT, INT, 0, "gps?"},
    [SCN_UAV_READ_BLE] = {"ble?", READ, SHORT, INT, 0, "ble?"},
    [SCN_UAV_READ_POS] = {"pos?", READ, SHORT, POS, 0, "pos?"},
    [SCN_UAV_READ_SDK] = {"sdk?", READ, SHORT, TEXT, 0, "sdk?"},
    [SCN_UAV_READ_SN] = {"sn?", READ, SHORT, TEXT, 0, "sn?"},
    [SCN_UAV_READ_OLFA] = {"olfa?", READ, SHORT, NUM, 0, "olfa?"},
    [SCN_UAV_READ_OLFB] = {"olfb?", READ, SHORT, NUM, 0, "olfb?"},
};

const scn_uav_cmd_info *scn__uav_cmd_info_of(scn_uav_cmd_id id)
{
    if ((unsigned)id >= SCN_UAV_CMD_COUNT)
        return NULL;
    return &infos[id];
}

bool scn__uav_cmd_lookup(const char *word, size_t len, scn_uav_cmd_id *out)
{
    for (int i = 0; i < SCN_UAV_CMD_COUNT; i++) {
        if (strlen(infos[i].name) == len &&
            memcmp(infos[i].name, word, len) == 0) {
            *out = (scn_uav_cmd_id)i;
            return true;
        }
    }
    return false;
}

const char *scn_uav_cmd_name(scn_uav_cmd_id id)
{
    const scn_uav_cmd_info *info = scn__uav_cmd_info_of(id);
    return info != NULL ? info->name : NULL;
}

scn_uav_kind scn_uav_cmd_kind(scn_uav_cmd_id id)
{
    const scn_uav_cmd_info *info = scn__uav_cmd_info_of(id);
    return info != NULL ? (scn_uav_kind)info->kind : SCN_UAV_KIND_CONTROL;
}

int scn_uav_cmd_moves(scn_uav_cmd_id id)
{
    /* oio and oioon steer the drone toward a plume from then on. */
    return scn_uav_cmd_kind(id) == SCN_UAV_KIND_MOTION || id == SCN_UAV_RC ||
           id == SCN_UAV_OIO || id == SCN_UAV_OIOON;
}

scn_uav_timeout scn_uav_cmd_timeout(scn_uav_cmd_id id)
{
    const scn_uav_cmd_info *info = scn__uav_cmd_info_of(id);
    return info != NULL ? (scn_uav_timeout)info->timeout
                        : SCN_UAV_TIMEOUT_SHORT;
}

scn_uav_answer_class scn_uav_cmd_answer_class(scn_uav_cmd_id id)
{
    const scn_uav_cmd_info *info = scn__uav_cmd_info_of(id);
    return info != NULL ? (scn_uav_answer_class)info->answer
                        : SCN_UAV_ANSWER_CLASS_ACK;
}

/* Starts a command: clears it and sets id. */
static void begin(scn_uav_cmd *cmd, scn_uav_cmd_id id)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->id = id;
}

/* Refuses an id the constructor does not build. */
static int wrong_id(const char *ctor, scn_uav_cmd_id id, char *msg,
                    size_t msg_cap)
{
    const char *name = scn_uav_cmd_name(id);

    if (name != NULL)
        scn__uav_msg(msg, msg_cap, "%s: \"%s\" is not built by this call", ctor,
                     name);
    else
        scn__uav_msg(msg, msg_cap, "%s: unknown command id %d", ctor, (int)id);
    return SCN_ERR_INVALID_ARG;
}

int scn_uav_cmd_simple(scn_uav_cmd *cmd, scn_uav_cmd_id id, char *msg,
                       size_t msg_cap)
{
    const scn_uav_cmd_info *info = scn__uav_cmd_info_of(id);

    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    if (info == NULL || info->nargs != 0)
        return wrong_id("scn_uav_cmd_simple", id, msg, msg_cap);
    begin(cmd, id);
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

int scn_uav_cmd_move(scn_uav_cmd *cmd, scn_uav_cmd_id id, int cm, char *msg,
                     size_t msg_cap)
{
    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    if (id < SCN_UAV_UP || id > SCN_UAV_BACK)
        return wrong_id("scn_uav_cmd_move", id, msg, msg_cap);
    begin(cmd, id);
    cmd->arg[0] = cm;
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

int scn_uav_cmd_rotate(scn_uav_cmd *cmd, scn_uav_cmd_id id, int degrees,
                       char *msg, size_t msg_cap)
{
    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    if (id != SCN_UAV_CW && id != SCN_UAV_CCW)
        return wrong_id("scn_uav_cmd_rotate", id, msg, msg_cap);
    begin(cmd, id);
    cmd->arg[0] = degrees;
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

int scn_uav_cmd_flip(scn_uav_cmd *cmd, char dir, char *msg, size_t msg_cap)
{
    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    begin(cmd, SCN_UAV_FLIP);
    cmd->flip = dir;
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

int scn_uav_cmd_go(scn_uav_cmd *cmd, int x, int y, int z, int speed, char *msg,
                   size_t msg_cap)
{
    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    begin(cmd, SCN_UAV_GO);
    cmd->arg[0] = x;
    cmd->arg[1] = y;
    cmd->arg[2] = z;
    cmd->arg[3] = speed;
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

int scn_uav_cmd_curve(scn_uav_cmd *cmd, int x1, int y1, int z1, int x2, int y2,
                      int z2, int speed, char *msg, size_t msg_cap)
{
    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    begin(cmd, SCN_UAV_CURVE);
    cmd->arg[0] = x1;
    cmd->arg[1] = y1;
    cmd->arg[2] = z1;
    cmd->arg[3] = x2;
    cmd->arg[4] = y2;
    cmd->arg[5] = z2;
    cmd->arg[6] = speed;
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

int scn_uav_cmd_oio(scn_uav_cmd *cmd, scn_compound compound, char *msg,
                    size_t msg_cap)
{
    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    begin(cmd, SCN_UAV_OIO);
    cmd->compound = compound;
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

/* The set commands with one integer argument. */
static int set_one(scn_uav_cmd *cmd, scn_uav_cmd_id id, int v, char *msg,
                   size_t msg_cap)
{
    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    begin(cmd, id);
    cmd->arg[0] = v;
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

int scn_uav_cmd_speed(scn_uav_cmd *cmd, int cm_per_s, char *msg, size_t msg_cap)
{
    return set_one(cmd, SCN_UAV_SPEED, cm_per_s, msg, msg_cap);
}

int scn_uav_cmd_mdirection(scn_uav_cmd *cmd, int direction, char *msg,
                           size_t msg_cap)
{
    return set_one(cmd, SCN_UAV_MDIRECTION, direction, msg, msg_cap);
}

int scn_uav_cmd_rc(scn_uav_cmd *cmd, int a, int b, int c, int d, char *msg,
                   size_t msg_cap)
{
    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    begin(cmd, SCN_UAV_RC);
    cmd->arg[0] = a;
    cmd->arg[1] = b;
    cmd->arg[2] = c;
    cmd->arg[3] = d;
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

/* ssid and ap: the strings are checked before they are copied, so one that
 * would not fit the struct is reported as too long, not cut. */
static int wifi(scn_uav_cmd *cmd, scn_uav_cmd_id id, const char *first,
                const char *first_what, const char *password, char *msg,
                size_t msg_cap)
{
    const char *name = scn_uav_cmd_name(id);
    int rc;

    scn__uav_msg(msg, msg_cap, "%s", "");
    if (cmd == NULL)
        return SCN_ERR_INVALID_ARG;
    begin(cmd, id);
    rc = scn__uav_check_text(name, first_what, first, SCN_UAV_SSID_MAX, false,
                             msg, msg_cap);
    if (rc != 0)
        return rc;
    rc = scn__uav_check_text(name, "password", password, SCN_UAV_PASSWORD_MAX,
                             true, msg, msg_cap);
    if (rc != 0)
        return rc;
    memcpy(cmd->ssid, first, strlen(first) + 1);
    memcpy(cmd->password, password, strlen(password) + 1);
    return scn_uav_cmd_validate(cmd, msg, msg_cap);
}

int scn_uav_cmd_ssid(scn_uav_cmd *cmd, const char *name, const char *password,
                     char *msg, size_t msg_cap)
{
    return wifi(cmd, SCN_UAV_SSID, name, "name", password, msg, msg_cap);
}

int scn_uav_cmd_ap(scn_uav_cmd *cmd, const char *ssid, const char *password,
                   char *msg, size_t msg_cap)
{
    return wifi(cmd, SCN_UAV_AP, ssid, "ssid", password, msg, msg_cap);
}

static int format(const scn_uav_cmd *cmd, bool redact, char *buf, size_t cap,
                  size_t *written, char *msg, size_t msg_cap)
{
    scn_uav_out o;
    int rc;

    if (buf == NULL && cap > 0)
        return SCN_ERR_INVALID_ARG;
    scn__uav_out_init(&o, buf, cap);
    rc = scn_uav_cmd_validate(cmd, msg, msg_cap);
    if (rc != 0) {
        if (written != NULL)
            *written = 0;
        return rc;
    }
    const scn_uav_cmd_info *info = scn__uav_cmd_info_of(cmd->id);
    scn__uav_out_str(&o, info->name);
    switch (cmd->id) {
    case SCN_UAV_FLIP:
        scn__uav_out_put(&o, " ", 1);
        scn__uav_out_put(&o, &cmd->flip, 1);
        break;
    case SCN_UAV_OIO: {
        /* The drone's examples use lowercase ("oio nh3"). */
        const char *n = scn_compound_name(cmd->compound);
        scn__uav_out_put(&o, " ", 1);
        for (; *n != '\0'; n++) {
            char c = *n >= 'A' && *n <= 'Z' ? (char)(*n - 'A' + 'a') : *n;
            scn__uav_out_put(&o, &c, 1);
        }
        break;
    }
    case SCN_UAV_SSID:
    case SCN_UAV_AP:
        scn__uav_out_put(&o, " ", 1);
        scn__uav_out_str(&o, cmd->ssid);
        scn__uav_out_str(&o, cmd->id == SCN_UAV_SSID ? " pass " : " ");
        scn__uav_out_str(&o, redact ? "****" : cmd->password);
        break;
    default:
        for (unsigned i = 0; i < info->nargs; i++) {
            scn__uav_out_put(&o, " ", 1);
            scn__uav_out_int(&o, cmd->arg[i]);
        }
        break;
    }
    return scn__uav_out_end(&o, written);
}

int scn_uav_cmd_format(const scn_uav_cmd *cmd, char *buf, size_t cap,
                       size_t *written, char *msg, size_t msg_cap)
{
    return format(cmd, false, buf, cap, written, msg, msg_cap);
}

int scn_uav_cmd_format_redacted(const scn_uav_cmd *cmd, char *buf, size_t cap,
                                size_t *written, char *msg, size_t msg_cap)
{
    return format(cmd, true, buf, cap, written, msg, msg_cap);
}
