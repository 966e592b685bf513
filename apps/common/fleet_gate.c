/* The fleet command gate (fleet_gate.h). */
#include "fleet_gate.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static const char *const cmd_names[FLEET_CMD_COUNT] = {
    "land", "emergency", "stop", "streamon", "streamoff", "oiooff", "follow"};

static const scn_uav_cmd_id cmd_ids[FLEET_CMD_COUNT - 1] = {
    SCN_UAV_LAND,     SCN_UAV_EMERGENCY, SCN_UAV_STOP,
    SCN_UAV_STREAMON, SCN_UAV_STREAMOFF, SCN_UAV_OIOOFF};

const char *fleet_cmd_name(fleet_cmd c)
{
    return (unsigned)c < FLEET_CMD_COUNT ? cmd_names[c] : "?";
}

const char *fleet_verdict_word(fleet_verdict v)
{
    static const char *const words[] = {"passed",   "malformed", "retained",
                                        "invalid",  "never",     "not_enabled",
                                        "duplicate"};

    return (unsigned)v < sizeof(words) / sizeof(words[0]) ? words[v] : "?";
}

void fleet_gate_init(fleet_gate *g)
{
    memset(g, 0, sizeof(*g));
}

/* Why a drone command is never taken from the fleet (NULL: it may be). */
static const char *never_why(scn_uav_cmd_id id)
{
    for (int i = 0; i < FLEET_CMD_COUNT - 1; i++)
        if (cmd_ids[i] == id)
            return NULL;
    if (id == SCN_UAV_TAKEOFF || scn_uav_cmd_moves(id) ||
        scn_uav_cmd_kind(id) == SCN_UAV_KIND_MOTION)
        return "it flies the drone, and motion is never taken from the "
               "fleet";
    if (id == SCN_UAV_SSID || id == SCN_UAV_AP)
        return "it changes the drone's Wi-Fi";
    if (scn_uav_cmd_kind(id) == SCN_UAV_KIND_READ)
        return "reads may be retried by the channel, and fleet commands "
               "never are (the state topic has the readings)";
    return "it changes how the drone flies or links";
}

static int name_index(const char *name, size_t n)
{
    for (int i = 0; i < FLEET_CMD_COUNT; i++)
        if (strlen(cmd_names[i]) == n && memcmp(cmd_names[i], name, n) == 0)
            return i;
    return -1;
}

int fleet_gate_allow_list(fleet_gate *g, const char *list, char *why,
                          size_t why_cap)
{
    const char *p = list;

    if (!*list) {
        snprintf(why, why_cap, "name at least one command");
        return -1;
    }
    for (;;) {
        size_t n = strcspn(p, ",");
        int i = name_index(p, n);

        if (n == 0) {
            snprintf(why, why_cap, "an empty name in the list");
            return -1;
        }
        if (i < 0) {
            char word[SCN_UAV_LINE_MAX + 1];

            snprintf(word, sizeof(word), "%.*s", (int)n, p);
            /* A drone command word: say why it is never allowed. */
            for (int id = 0; id < SCN_UAV_CMD_COUNT; id++)
                if (strcmp(word, scn_uav_cmd_name((scn_uav_cmd_id)id)) == 0) {
                    snprintf(why, why_cap,
                             "'%s' is never taken from the "
                             "fleet: %s",
                             word, never_why((scn_uav_cmd_id)id));
                    return -1;
                }
            snprintf(why, why_cap,
                     "'%.32s' is not a command the fleet may send (land, "
                     "emergency, stop, streamon, streamoff, oiooff, follow)",
                     word);
            return -1;
        }
        g->allowed |= 1u << i;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

void fleet_gate_list(const fleet_gate *g, char *buf, size_t cap)
{
    size_t at = 0;

    if (cap)
        buf[0] = '\0';
    for (int i = 0; i < FLEET_CMD_COUNT; i++) {
        if (!(g->allowed & (1u << i)))
            continue;
        int n =
            snprintf(buf + at, cap - at, "%s%s", at ? "," : "", cmd_names[i]);
        if (n < 0 || (size_t)n >= cap - at)
            return;
        at += (size_t)n;
    }
}

static int seen(const fleet_gate *g, const char *id)
{
    for (size_t i = 0; i < g->ids_count; i++)
        if (strcmp(g->ids[i], id) == 0)
            return 1;
    return 0;
}

static void remember(fleet_gate *g, const char *id)
{
    snprintf(g->ids[g->ids_next], sizeof(g->ids[0]), "%s", id);
    g->ids_next = (g->ids_next + 1) % FLEET_IDS_KEPT;
    if (g->ids_count < FLEET_IDS_KEPT)
        g->ids_count++;
}

/* 1-max bytes of printable ASCII. */
static int printable(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

/* Reads {"id": ..., "command": ...} into req. */
static fleet_verdict read_request(const char *payload, size_t len,
                                  fleet_request *req, char *detail, size_t cap)
{
    cJSON *root;
    const cJSON *id, *command;
    fleet_verdict v = FLEET_PASS;

    if (len > FLEET_REQUEST_MAX) {
        snprintf(detail, cap, "a request is at most %d bytes",
                 FLEET_REQUEST_MAX);
        return FLEET_MALFORMED;
    }
    root = cJSON_ParseWithLength(payload, len);
    if (!cJSON_IsObject(root)) {
        snprintf(detail, cap, "a request is a JSON object");
        cJSON_Delete(root);
        return FLEET_MALFORMED;
    }
    id = cJSON_GetObjectItemCaseSensitive(root, "id");
    command = cJSON_GetObjectItemCaseSensitive(root, "command");
    if (cJSON_IsString(id) && printable(id->valuestring, FLEET_ID_MAX))
        snprintf(req->id, sizeof(req->id), "%s", id->valuestring);
    if (cJSON_IsString(command) &&
        printable(command->valuestring, SCN_UAV_LINE_MAX))
        snprintf(req->command, sizeof(req->command), "%s",
                 command->valuestring);
    if (!req->id[0]) {
        snprintf(detail, cap, "\"id\" is 1 to %d printable characters",
                 FLEET_ID_MAX);
        v = FLEET_MALFORMED;
    } else if (!req->command[0]) {
        snprintf(detail, cap, "\"command\" is 1 to %d printable characters",
                 SCN_UAV_LINE_MAX);
        v = FLEET_MALFORMED;
    }
    cJSON_Delete(root);
    return v;
}

/* "follow COMPOUND|any|off", validated as the oio line it may become. */
static fleet_verdict read_follow(fleet_request *req, char *detail, size_t cap)
{
    const char *arg = req->command + strlen("follow");
    char line[SCN_UAV_LINE_MAX + 1], msg[128];
    scn_uav_cmd oio;

    if (*arg != ' ' || !arg[1]) {
        snprintf(detail, cap,
                 "follow takes one argument: a compound, "
                 "'any' or 'off'");
        return FLEET_INVALID;
    }
    arg++;
    if (strcmp(arg, "off") == 0) {
        req->follow[0] = '\0';
    } else if (strcmp(arg, "any") == 0) {
        snprintf(req->follow, sizeof(req->follow), "any");
    } else {
        snprintf(line, sizeof(line), "oio %s", arg);
        if (scn_uav_cmd_parse(line, strlen(line), &oio, msg, sizeof(msg))) {
            snprintf(detail, cap, "follow: %s", msg);
            return FLEET_INVALID;
        }
        snprintf(req->follow, sizeof(req->follow), "%s", arg);
    }
    req->which = FLEET_CMD_FOLLOW;
    return FLEET_PASS;
}

fleet_verdict fleet_gate_check(fleet_gate *g, const char *payload, size_t len,
                               int retained, fleet_request *req, char *detail,
                               size_t detail_cap)
{
    fleet_verdict v;
    const char *why;

    memset(req, 0, sizeof(*req));
    if (detail_cap)
        detail[0] = '\0';
    if ((v = read_request(payload, len, req, detail, detail_cap)) != 0)
        return v;
    if (retained) {
        snprintf(detail, detail_cap, "a retained request is not acted on");
        return FLEET_RETAINED;
    }
    /* The validator first: nothing else is decided about a line it
     * refuses. */
    if (strncmp(req->command, "follow", 6) == 0 &&
        (req->command[6] == ' ' || !req->command[6])) {
        if ((v = read_follow(req, detail, detail_cap)) != 0)
            return v;
    } else {
        if (scn_uav_cmd_parse(req->command, strlen(req->command), &req->cmd,
                              detail, detail_cap))
            return FLEET_INVALID;
        /* Only a command of the may-list has a fleet_cmd: anything else
         * is refused here, whatever the list says. */
        req->which = FLEET_CMD_COUNT;
        for (int i = 0; i < FLEET_CMD_COUNT - 1; i++)
            if (cmd_ids[i] == req->cmd.id)
                req->which = (fleet_cmd)i;
        if (req->which == FLEET_CMD_COUNT) {
            why = never_why(req->cmd.id);
            snprintf(detail, detail_cap,
                     "'%s' is never taken from the "
                     "fleet: %s",
                     scn_uav_cmd_name(req->cmd.id), why ? why : "");
            return FLEET_NEVER;
        }
    }
    if (!(g->allowed & (1u << req->which))) {
        snprintf(detail, detail_cap,
                 "'%s' is not enabled for the fleet (--mqtt-commands)",
                 cmd_names[req->which]);
        return FLEET_NOT_ENABLED;
    }
    if (seen(g, req->id)) {
        snprintf(detail, detail_cap, "request '%s' was acted on already",
                 req->id);
        return FLEET_DUPLICATE;
    }
    remember(g, req->id);
    return FLEET_PASS;
}
