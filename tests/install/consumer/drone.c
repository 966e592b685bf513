/*
 * A drone program outside the project, built against an installed
 * libscentience-uav: it validates a command the way an application would
 * before sending anything, then flies the documented session
 * (docs/PROTOCOL.md 8, the published sample) on the drone at argv[1] and
 * prints one line per answer. The key comes from $SCENTIENCE_API_KEY.
 * run-install-test compares its output with the expected text.
 *
 * It runs the loop with scn_loop_run(), which returns when the last
 * answer stops it, or by itself when the link fails for good.
 */
#include <stdio.h>
#include <string.h>

#include <scentience/scentience.h>
#include <scentience/uav_channel.h>

/* The documented session, after hello_scentience (sent by the channel). */
static const char *const session_lines[] = {
    "takeoff", "battery?", "speed 50",  "go 100 0 50 30", "oioon",
    "oio nh3", "streamon", "streamoff", "oiooff",         "land"};
#define SESSION_LEN (sizeof(session_lines) / sizeof(session_lines[0]))

typedef struct flight {
    scn_loop *loop;
    size_t answered;
    int failures;
} flight;

static void on_reply(scn_uav_channel *ch, const scn_uav_reply *r, void *user)
{
    flight *f = user;

    (void)ch;
    if (r->err)
        printf("%s: %s\n", r->line, scn_strerror(r->err));
    else if (r->answer->kind == SCN_UAV_ANSWER_NUMBER)
        /* The battery drains: print what is stable, the answer's kind. */
        printf("%s: a number\n", r->line);
    else
        printf("%s: ok\n", r->line);
    if (r->err)
        f->failures++;
    if (++f->answered == SESSION_LEN)
        scn_loop_stop(f->loop);
}

static void on_state(scn_uav_channel *ch, const scn_state_event *ev, void *user)
{
    (void)ch;
    (void)user;
    if (ev->state == SCN_STATE_FAILED)
        printf("link failed: %s\n", scn_strerror(ev->reason));
}

int main(int argc, char **argv)
{
    scn_uav_channel_options o;
    scn_session_options link_so;
    scn_uav_channel *ch = NULL;
    scn_uav_cmd cmd;
    flight f = {0};
    char why[128];
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: scn_drone ws://HOST:PORT\n");
        return 64;
    }
    /* Refused before anything could be sent. */
    rc = scn_uav_cmd_parse("up 600", 6, &cmd, why, sizeof(why));
    printf("up 600: %s: %s\n", scn_err_name(rc), why);

    if ((rc = scn_loop_new(NULL, &f.loop)) != 0) {
        printf("scn_loop_new: %s\n", scn_strerror(rc));
        return 1;
    }
    scn_uav_channel_options_init(&o);
    scn_session_options_init(&link_so);
    o.session = &link_so;
    link_so.url = argv[1];
    link_so.backoff.max_attempts = 3;
    o.on_state = on_state;
    if ((rc = scn_uav_channel_new(f.loop, &o, &ch)) != 0) {
        printf("scn_uav_channel_new: %s\n", scn_strerror(rc));
        scn_loop_free(f.loop);
        return 1;
    }
    for (size_t i = 0; i < SESSION_LEN; i++) {
        rc = scn_uav_channel_send_text(ch, session_lines[i], on_reply, &f, why,
                                       sizeof(why));
        if (rc) {
            printf("%s: refused: %s\n", session_lines[i], why);
            f.failures++;
        }
    }
    scn_loop_run(f.loop);
    if (f.answered != SESSION_LEN)
        printf("%zu of %zu commands answered\n", f.answered,
               (size_t)SESSION_LEN);
    scn_uav_channel_free(ch);
    scn_loop_free(f.loop);
    return f.failures || f.answered != SESSION_LEN ? 1 : 0;
}
