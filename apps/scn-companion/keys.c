/*
 * The companion's key: resolved once at start ($SCENTIENCE_API_KEY, else
 * the key file) and again on SIGHUP only. Every link gets it as its
 * session's api_key, so a session never reads the file by itself: a key
 * file that is being edited, or broken, when a link happens to reconnect
 * cannot fail that link in flight. The key stays in the sessions' own
 * dump-excluded pages for the life of the links (the price of not
 * re-reading the file at every attempt).
 *
 * SIGHUP: the key is resolved again and checked.
 * - Unusable (missing, open to others, malformed): reported (stderr,
 *   /events "key_reload_failed", counter); the links keep the key they
 *   have, reconnections included.
 * - Unchanged: reported, nothing else.
 * - Changed: the device and cloud links are replaced at once by links on
 *   the new key (the old ones closed with 1000). Both reconnect cheaply: a
 *   few frames of the device stream are missed, and the cloud's records
 *   wait in the spool, unacked ones resent, so no seq is lost. The drone's
 *   command link is replaced make-before-break: a second link on the new
 *   key is opened and activated while the old one keeps serving, and
 *   commands move to it only when no command is in flight or queued, so a
 *   move under way is never cut off and `emergency` always has a link.
 *   Rotated keys are usually about to be revoked, and a revoked key ends
 *   its sessions at once: waiting for the next natural reconnect would
 *   leave the links on a key that stops working. "key_in_use" events tell
 *   when each link runs on the new key, and "key_rotation_done" (also on
 *   stderr) when all do: only then is revoking the old key harmless.
 * The key itself is never shown: only scn_api_key_redacted().
 */
#include <stdio.h>
#include <string.h>

#include "companion.h"

static const char *const link_names[LINK_COUNT] = {"device", "drone", "cloud"};

int comp_new_device(comp *c)
{
    scn_session_options o;
    scn_session *s = NULL;
    int rc;

    scn_session_options_init(&o);
    o.url = c->cf->device_url;
    o.device_uid = c->cf->device;
    o.api_key = scn_api_key_text(c->key);
    o.stream_rate_hz = c->cf->rate;
    wire_device(c, &o);
    if ((rc = scn_session_new(c->loop, &o, &s)) == 0)
        c->dev = s;
    return rc;
}

int comp_new_channel(comp *c, scn_uav_channel **out)
{
    scn_uav_channel_options o;
    scn_session_options link_so;

    scn_uav_channel_options_init(&o);
    scn_session_options_init(&link_so);
    o.session = &link_so;
    link_so.url = c->cf->drone_url;
    link_so.api_key = scn_api_key_text(c->key);
    /* The companion acts on its own (a script, the follow rule): nothing
     * that moves or points the drone goes out before it is airborne. */
    o.require_airborne = 1;
    wire_channel(c, &o);
    return scn_uav_channel_new(c->loop, &o, out);
}

int comp_new_cloud(comp *c)
{
    scn_cloud_options o;
    scn_session_options link_so;
    scn_cloud *cl = NULL;
    int rc;

    scn_cloud_options_init(&o);
    scn_session_options_init(&link_so);
    o.session = &link_so;
    link_so.url = c->cf->cloud_url;
    if (c->cf->spool_cap)
        o.spool_cap_bytes = c->cf->spool_cap;
    link_so.api_key = scn_api_key_text(c->key);
    o.spool_dir = c->cf->spool;
    wire_cloud(c, &o);
    if ((rc = scn_cloud_new(c->loop, &o, &cl)) == 0)
        c->cloud = cl;
    return rc;
}

/* Closes a replaced link (1000) and keeps it until CLOSED, then frees it. */
static void retire(comp *c, scn_session *dev, scn_uav_channel *ch)
{
    scn_session *s = dev ? dev : scn_uav_channel_session(ch);
    size_t i;

    for (i = 0; i < RETIRED_MAX; i++)
        if (!c->old[i].dev && !c->old[i].ch)
            break;
    if (i == RETIRED_MAX || scn_session_close(s) != 0) {
        /* No slot (SIGHUPs faster than links close) or already closed:
         * drop it now. */
        scn_session_free(dev);
        scn_uav_channel_free(ch);
        return;
    }
    c->old[i].dev = dev;
    c->old[i].ch = ch;
    c->old[i].deadline_ms = scn_loop_now_ms(c->loop) + 2000;
}

static void rotation_check_done(comp *c)
{
    for (int i = 0; i < LINK_COUNT; i++)
        if (c->rot_pending[i])
            return;
    fprintf(stderr, "scn-companion: key %s in use on every link\n",
            scn_api_key_redacted(c->key));
    comp_event(c, "key_rotation_done", "companion",
               scn_api_key_redacted(c->key));
}

void comp_key_link_open(comp *c, int link)
{
    /* The drone's part ends when commands move over (comp_key_poll). */
    if (link == LINK_DRONE || !c->rot_pending[link])
        return;
    c->rot_pending[link] = 0;
    comp_event(c, "key_in_use", link_names[link], scn_api_key_redacted(c->key));
    rotation_check_done(c);
}

static void reload_failed(comp *c, int rc)
{
    c->key_reload_errors++;
    fprintf(stderr,
            "scn-companion: SIGHUP: %s; the links keep the current key %s\n",
            scn_strerror(rc), scn_api_key_redacted(c->key));
    comp_event(c, "key_reload_failed", "companion", scn_strerror(rc));
}

void comp_reload_key(comp *c)
{
    scn_api_key *k = NULL;
    char detail[128];
    int rc, pending = 0;

    c->key_reloads++;
    if ((rc = scn_api_key_load(c->cf->key_file, &k)) != 0) {
        reload_failed(c, rc);
        return;
    }
    if (scn_api_key_equal(k, c->key)) {
        scn_api_key_free(k);
        fprintf(stderr, "scn-companion: SIGHUP: key %s (%s) unchanged\n",
                scn_api_key_redacted(c->key), scn_api_key_source(c->key));
        comp_event(c, "key_unchanged", "companion",
                   scn_api_key_redacted(c->key));
        return;
    }
    snprintf(detail, sizeof(detail), "%s -> %s", scn_api_key_redacted(c->key),
             scn_api_key_redacted(k));
    /* The sessions copy the key: the old one is not needed any more. */
    scn_api_key_free(c->key);
    c->key = k;
    c->key_rotations++;
    fprintf(stderr, "scn-companion: SIGHUP: new key from the %s: %s\n",
            scn_api_key_source(k), detail);
    comp_event(c, "key_rotated", "companion", detail);

    if (c->cloud) {
        scn_cloud *old = c->cloud;

        /* The spool is one process's, one scn_cloud's: the old one goes
         * first; unacked records wait in it for the new link. */
        c->cloud = NULL;
        scn_cloud_free(old);
        if ((rc = comp_new_cloud(c)) != 0) {
            fprintf(stderr, "scn-companion: cloud on the new key: %s\n",
                    scn_strerror(rc));
            comp_event(c, "cloud_error", scn_strerror(rc), "key rotation");
        } else {
            c->rot_pending[LINK_CLOUD] = pending = 1;
        }
    }
    if (c->dev) {
        scn_session *old = c->dev;

        c->dev = NULL;
        retire(c, old, NULL);
        if ((rc = comp_new_device(c)) != 0) {
            fprintf(stderr, "scn-companion: device on the new key: %s\n",
                    scn_strerror(rc));
            comp_event(c, "device_error", scn_strerror(rc), "key rotation");
            if (!c->fatal)
                c->fatal = rc;
        } else {
            c->rot_pending[LINK_DEVICE] = pending = 1;
        }
    }
    if (c->ch) {
        /* A link from an earlier rotation that never took over is on a
         * key no longer wanted. */
        if (c->ch_next) {
            retire(c, NULL, c->ch_next);
            c->ch_next = NULL;
        }
        if ((rc = comp_new_channel(c, &c->ch_next)) != 0) {
            c->ch_next = NULL;
            fprintf(stderr, "scn-companion: drone on the new key: %s\n",
                    scn_strerror(rc));
            comp_event(c, "drone_error", scn_strerror(rc), "key rotation");
        } else {
            c->rot_pending[LINK_DRONE] = pending = 1;
        }
    }
    if (!pending)
        rotation_check_done(c);
}

void comp_key_poll(comp *c)
{
    uint64_t now = scn_loop_now_ms(c->loop);

    /* Between commands only: a command in flight would end as LINK_LOST
     * (a drone mid-move answers on the link that asked). */
    if (c->ch_next && scn_uav_channel_active(c->ch_next) &&
        c->cmd_outstanding == 0) {
        scn_uav_channel *old = c->ch;

        /* Same drone, same flight: the new link starts from what the old
         * one knew (it saw the takeoff). */
        scn_uav_channel_assume_airborne(c->ch_next,
                                        scn_uav_channel_airborne(old));
        c->ch = c->ch_next;
        c->ch_next = NULL;
        retire(c, NULL, old);
        c->active = 1;
        c->rot_pending[LINK_DRONE] = 0;
        comp_event(c, "key_in_use", "drone", scn_api_key_redacted(c->key));
        rotation_check_done(c);
        script_kick(c);
    }
    for (size_t i = 0; i < RETIRED_MAX; i++) {
        retired *r = &c->old[i];
        scn_session *s;

        if (!r->dev && !r->ch)
            continue;
        s = r->dev ? r->dev : scn_uav_channel_session(r->ch);
        if (scn_session_state(s) != SCN_STATE_CLOSED &&
            scn_session_state(s) != SCN_STATE_FAILED && now < r->deadline_ms)
            continue;
        scn_session_free(r->dev);
        scn_uav_channel_free(r->ch);
        memset(r, 0, sizeof(*r));
    }
}

void comp_key_free_retired(comp *c)
{
    for (size_t i = 0; i < RETIRED_MAX; i++) {
        scn_session_free(c->old[i].dev);
        scn_uav_channel_free(c->old[i].ch);
        memset(&c->old[i], 0, sizeof(c->old[i]));
    }
    scn_uav_channel_free(c->ch_next);
    c->ch_next = NULL;
}
