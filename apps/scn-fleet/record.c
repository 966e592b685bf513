/*
 * --record FILE.mcap: the whole fleet in one recording, a channel per
 * drone and stream, made when the first message of that pair arrives (a
 * recording lists only what it holds). A write that fails (a full disk)
 * is reported once and stops the recording; the links go on.
 */
#include <stdio.h>

#include "cli.h"
#include "station.h"

int gs_record_start(gs_app *a)
{
    int rc;

    if (!a->cf->record)
        return 0;
    rc = scn_recorder_new(a->cf->record, NULL, &a->rec);
    if (rc) {
        fprintf(stderr, P ": --record %s: %s\n", a->cf->record,
                scn_strerror(rc));
        return CLI_EX_CANTCREAT;
    }
    return 0;
}

static void record_failed(gs_app *a, int rc)
{
    if (a->rec_error)
        return;
    a->rec_error = rc;
    fprintf(stderr, P ": --record %s: %s; recording stopped\n", a->cf->record,
            scn_strerror(rc));
}

void gs_record(gs_app *a, const scn_fleet_message *m, uint64_t t_ns)
{
    uint16_t *chan;
    char topic[SCN_FLEET_ID_MAX + 32];
    int rc;

    if (!a->rec || a->rec_error)
        return;
    chan = &a->chans[m->drone_index].rec[m->stream];
    if (!*chan) {
        gs_topic(topic, sizeof(topic), m->drone_id, m->stream);
        rc = scn_recorder_add_channel(a->rec, topic, gs_schema_name(m->stream),
                                      gs_schema(m->stream), chan);
        if (rc) {
            record_failed(a, rc);
            return;
        }
    }
    rc = scn_recorder_write(a->rec, *chan, t_ns,
                            m->ts_ns >= 0 ? (uint64_t)m->ts_ns : t_ns, m->data,
                            m->data_len);
    if (rc)
        record_failed(a, rc);
}

int gs_record_stop(gs_app *a)
{
    int rc;

    if (!a->rec)
        return 0;
    rc = scn_recorder_finish(a->rec);
    scn_recorder_free(a->rec);
    a->rec = NULL;
    if (rc)
        record_failed(a, rc);
    return a->rec_error ? CLI_EX_IOERR : 0;
}
