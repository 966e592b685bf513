/*
 * The companion's live listener (scn_live): the Foxglove protocol, the
 * /live fan-out and the built-in dashboard on one port, with the same
 * topics and JSON Schemas as the recording. Off the board it needs the
 * dashboard token, read from a file (never from the command line: argv is
 * visible to every user of the machine), owner-only like a key file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "companion.h"
#include "live_close.h"
#include "live_listen.h"

/* The streams this companion has: the device's always, the drone's and
 * the cloud's when it has them. */
static int stream_present(const comp *c, scn_record_stream st)
{
    switch (st) {
    case SCN_RECORD_UAV_STATE:
    case SCN_RECORD_UAV_COMMAND:
        return c->cf->drone_url != NULL;
    case SCN_RECORD_INFERENCE:
    case SCN_RECORD_CLOUD_RECORD:
        return c->cf->cloud_url != NULL;
    default:
        return 1;
    }
}

int comp_live_start(comp *c)
{
    int rc;

    if ((rc = live_listen_start("scn-companion", c->loop, &c->cf->live,
                                &c->live)) != 0)
        return rc;
    for (int st = 0; st < SCN_RECORD_STREAM_COUNT; st++) {
        if (!stream_present(c, (scn_record_stream)st))
            continue;
        rc = scn_live_channel_add(
            c->live, scn_record_stream_topic((scn_record_stream)st),
            scn_record_stream_schema_name((scn_record_stream)st),
            scn_record_stream_schema((scn_record_stream)st), &c->live_chan[st]);
        if (rc) {
            fprintf(stderr, "scn-companion: live channel: %s\n",
                    scn_strerror(rc));
            return CLI_EX_SOFTWARE;
        }
    }
    return 0;
}

void comp_live_stop(comp *c)
{
    if (!c->live)
        return;
    /* Dashboards see the streams go, then a clean close (1001). */
    for (int s = 0; s < SCN_RECORD_STREAM_COUNT; s++)
        if (c->live_chan[s])
            scn_live_channel_remove(c->live, c->live_chan[s]);
    live_close_and_free(c->live, c->loop);
    c->live = NULL;
}
