/*
 * Fleet commands (docs/PROTOCOL.md 12.5): each request on command/request
 * passes the gate (fleet_gate.c), goes to the drone once through the
 * channel (never retried: no read passes the gate) or sets the follow
 * rule, and is answered on command/reply; every one is an event too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

/* A fleet command on its way to the drone: its reply needs the id. */
typedef struct fleet_pending {
    comp_fleet *f;
    char id[FLEET_ID_MAX + 1];
    char command[SCN_UAV_LINE_MAX + 1];
} fleet_pending;

/* The reply to one request: result "refused" (reason, detail),
 * "answered" (answer, ok; cut: the drone's answer was longer than kept)
 * or "failed" (error). */
static void reply(comp_fleet *f, const char *id, const char *command,
                  const char *result, const char *reason, const char *detail,
                  const char *answer, int cut, int ok, int err,
                  uint32_t elapsed_ms)
{
    char num[64];
    json_obj j;
    char ev[512];

    json_obj_init(&j, FLEET_JSON_MAX);
    json_obj_text(&j, "{\"id\":");
    json_obj_string(&j, id);
    json_obj_text(&j, ",\"command\":");
    json_obj_string(&j, command);
    json_obj_text(&j, ",\"result\":");
    json_obj_string(&j, result);
    if (reason) {
        json_obj_text(&j, ",\"reason\":");
        json_obj_string(&j, reason);
        json_obj_text(&j, ",\"detail\":");
        json_obj_string(&j, detail);
    } else {
        json_obj_text(&j, ",\"answer\":");
        json_obj_string(&j, answer);
        if (cut)
            json_obj_text(&j, ",\"answer_truncated\":true");
        json_obj_text(&j, ok ? ",\"ok\":true" : ",\"ok\":false");
        json_obj_text(&j, ",\"error\":");
        json_obj_string(&j, err ? scn_strerror(err) : NULL);
        snprintf(num, sizeof(num), ",\"elapsed_ms\":%u", elapsed_ms);
        json_obj_text(&j, num);
    }
    json_obj_text(&j, "}");
    fleet_publish_json(f, FLEET_REPLY, &j);
    snprintf(ev, sizeof(ev), "%s %s: %s%s%s", id, command, result,
             reason ? " " : "", reason ? reason : "");
    comp_event(f->c, "fleet_command", "mqtt", ev);
}

static void on_fleet_reply(scn_uav_channel *ch, const scn_uav_reply *r,
                           void *user)
{
    fleet_pending *p = user;
    comp_fleet *f = p->f;
    const char *answer =
        r->answer && r->answer->raw_len ? r->answer->raw : NULL;

    (void)ch;
    comp_command_reply(f->c, r);
    reply(f, p->id, p->command, answer ? "answered" : "failed", NULL, NULL,
          answer, answer && r->answer->raw_truncated, answer && r->err == 0,
          r->err, r->elapsed_ms);
    free(p);
}

static void set_follow(comp_fleet *f, const fleet_request *req)
{
    comp *c = f->c;

    snprintf(f->follow, sizeof(f->follow), "%s", req->follow);
    /* A new rule acts once more; "off" acts never. */
    c->follow.compound = f->follow[0] ? f->follow : NULL;
    c->follow.sent = 0;
    c->follow.chosen[0] = '\0';
    reply(f, req->id, req->command, "answered", NULL, NULL,
          f->follow[0] ? f->follow : "off", 0, 1, 0, 0);
}

void fleet_on_request(comp_fleet *f, const scn_mqtt_message *msg)
{
    comp *c = f->c;
    fleet_request req;
    fleet_pending *p;
    char detail[256], line[SCN_UAV_LINE_MAX + 1];
    fleet_verdict v;
    int rc;

    f->requests++;
    v = fleet_gate_check(&f->gate, msg->payload, msg->len, msg->retain, &req,
                         detail, sizeof(detail));
    if (v != FLEET_PASS) {
        f->refused++;
        reply(f, req.id, req.command, "refused", fleet_verdict_word(v), detail,
              NULL, 0, 0, 0, 0);
        return;
    }
    if (req.which == FLEET_CMD_FOLLOW) {
        set_follow(f, &req);
        return;
    }
    if (!c->ch) {
        f->refused++;
        reply(f, req.id, req.command, "refused", "no_drone",
              "this companion has no drone link (--drone-url)", NULL, 0, 0, 0,
              0);
        return;
    }
    if (scn_uav_cmd_format(&req.cmd, line, sizeof(line), NULL, detail,
                           sizeof(detail)) != 0 ||
        !(p = calloc(1, sizeof(*p)))) {
        f->refused++;
        reply(f, req.id, req.command, "refused", "busy", "out of memory", NULL,
              0, 0, 0, 0);
        return;
    }
    p->f = f;
    snprintf(p->id, sizeof(p->id), "%s", req.id);
    snprintf(p->command, sizeof(p->command), "%s", req.command);
    /* Once: the channel never retries it (no reads pass the gate), nor do
     * we; emergency goes ahead of everything. */
    rc = comp_send_command(c, line, on_fleet_reply, p, detail, sizeof(detail));
    if (rc) {
        f->refused++;
        reply(f, req.id, req.command, "refused", "busy",
              detail[0] ? detail : scn_strerror(rc), NULL, 0, 0, 0, 0);
        free(p);
    }
}
