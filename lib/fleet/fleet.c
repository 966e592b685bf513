/*
 * The fleet model: drones by id (a small open-addressing table over the
 * drones in order of arrival), each with its latest values and one seq
 * window per stream. Payloads are parsed with the library's strict JSON
 * parse, so what the model accepts is JSON the recorder and the live
 * listener can take as it is.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <scentience/error.h>
#include <scentience/fleet.h>

#include "envelope.h"
#include "seqwindow.h"

/* Runs of one drone whose seqs are remembered: the current one, and the
 * ones before it whose spooled messages may still come. */
#define RUNS_KEPT 3

typedef struct run_seqs {
    char run[SCN_FLEET_RUN_MAX + 1];
    uint64_t used; /* the model's message count when last used (LRU) */
    int in_use;
    scn_seqwindow seqs[SCN_FLEET_STREAM_COUNT];
} run_seqs;

typedef struct drone {
    scn_fleet_drone pub;
    run_seqs runs[RUNS_KEPT];
} drone;

struct scn_fleet {
    scn_fleet_options opts;
    drone **drones;
    size_t count;
    uint32_t *slots; /* index + 1; 0: empty */
    size_t slot_mask;
    scn_fleet_stats stats;
    uint64_t uses; /* a clock for the runs' LRU */
};

static const char *const stream_names[SCN_FLEET_STREAM_COUNT] = {
    [SCN_FLEET_OLFACTION] = "olfaction", [SCN_FLEET_STATE] = "state",
    [SCN_FLEET_INFERENCE] = "inference", [SCN_FLEET_EVENTS] = "events",
    [SCN_FLEET_COMMAND] = "command",     [SCN_FLEET_STATUS] = "status",
};

const char *scn_fleet_stream_name(scn_fleet_stream stream)
{
    return (unsigned)stream < SCN_FLEET_STREAM_COUNT ? stream_names[stream]
                                                     : NULL;
}

/* The first version of scn_fleet_options ends here (options.h). */
#define FLEET_OPTIONS_V0 SCN_OPTIONS_END(scn_fleet_options, max_drones)

static void fleet_defaults(scn_fleet_options *o)
{
    memset(o, 0, sizeof(*o));
    o->struct_size = sizeof(*o);
    o->max_drones = 1024;
}

void scn_fleet_options_init_sized(scn_fleet_options *opts, size_t size)
{
    scn_fleet_options d;

    fleet_defaults(&d);
    scn_options_give(opts, size, &d, sizeof(d));
}

int scn_fleet_new(const scn_fleet_options *opts, scn_fleet **out)
{
    scn_fleet_options o;
    scn_fleet *f;
    size_t slots = 16;
    int rc;

    if (!out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    fleet_defaults(&o);
    if (opts && (rc = scn_options_take(&o, sizeof(o), FLEET_OPTIONS_V0, opts)))
        return rc;
    if (o.max_drones == 0 || o.max_drones > UINT32_MAX / 4)
        return SCN_ERR_INVALID_ARG;
    /* At most half full, so that a probe ends soon. */
    while (slots < o.max_drones * 2)
        slots *= 2;
    f = calloc(1, sizeof(*f));
    if (!f)
        return SCN_ERR_NOMEM;
    f->opts = o;
    f->slots = calloc(slots, sizeof(*f->slots));
    f->drones = calloc(o.max_drones, sizeof(*f->drones));
    if (!f->slots || !f->drones) {
        scn_fleet_free(f);
        return SCN_ERR_NOMEM;
    }
    f->slot_mask = slots - 1;
    *out = f;
    return 0;
}

void scn_fleet_free(scn_fleet *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++)
        free(f->drones[i]);
    free(f->drones);
    free(f->slots);
    free(f);
}

static uint64_t hash_id(const char *id, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
    return h;
}

/* The slot of id: its drone's, or the empty one where it would go. */
static size_t find_slot(const scn_fleet *f, const char *id, size_t len)
{
    size_t i = (size_t)hash_id(id, len) & f->slot_mask;

    for (;; i = (i + 1) & f->slot_mask) {
        uint32_t s = f->slots[i];

        if (s == 0)
            return i;
        if (strncmp(f->drones[s - 1]->pub.id, id, len) == 0 &&
            f->drones[s - 1]->pub.id[len] == '\0')
            return i;
    }
}

int scn_fleet_find(const scn_fleet *f, const char *id, size_t *index)
{
    size_t slot;

    if (!f || !id)
        return SCN_ERR_INVALID_ARG;
    slot = find_slot(f, id, strlen(id));
    if (!f->slots[slot])
        return SCN_ERR_NOT_FOUND;
    if (index)
        *index = f->slots[slot] - 1;
    return 0;
}

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Splits scentience/v1/<id>/<stream>. Returns 0, SCN_ERR_NOT_FOUND or
 * SCN_ERR_UNKNOWN_TYPE. */
static int parse_topic(const char *topic, const char **id, size_t *id_len,
                       scn_fleet_stream *stream)
{
    const size_t plen = sizeof(SCN_FLEET_TOPIC_PREFIX) - 1;
    const char *p, *rest;

    if (strncmp(topic, SCN_FLEET_TOPIC_PREFIX, plen) != 0)
        return SCN_ERR_NOT_FOUND;
    p = topic + plen;
    for (rest = p; *rest && *rest != '/'; rest++)
        if (!id_char(*rest))
            return SCN_ERR_NOT_FOUND;
    if (rest == p || rest - p > SCN_FLEET_ID_MAX || *rest != '/')
        return SCN_ERR_NOT_FOUND;
    *id = p;
    *id_len = (size_t)(rest - p);
    rest++;
    for (int s = 0; s < SCN_FLEET_STREAM_COUNT; s++)
        if (strcmp(rest, stream_names[s]) == 0) {
            *stream = (scn_fleet_stream)s;
            return 0;
        }
    /* command/request, command/reply and whatever later versions add. */
    return SCN_ERR_UNKNOWN_TYPE;
}

static int number(const cJSON *doc, const char *key, double *out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(doc, key);

    if (!cJSON_IsNumber(n))
        return 0;
    *out = n->valuedouble;
    return 1;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void take_state(scn_fleet_drone *d, const cJSON *doc)
{
    double bat, h, x = 0, y = 0;

    if (number(doc, "bat", &bat)) {
        d->has_battery = 1;
        d->battery_pct = bat;
    }
    if (number(doc, "h", &h)) {
        number(doc, "x", &x);
        number(doc, "y", &y);
        d->has_position = 1;
        d->x_m = x / 100.0;
        d->y_m = y / 100.0;
        d->h_m = h / 100.0;
    }
}

/* The best-scored label of an inference result (docs/PROTOCOL.md 9.2). */
static void take_inference(scn_fleet_drone *d, const cJSON *doc,
                           uint64_t now_ms)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(doc, "labels");
    const cJSON *item, *best = NULL;
    double best_score = 0;

    cJSON_ArrayForEach(item, labels)
    {
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(item, "label");
        double score;

        if (!cJSON_IsString(label) || !number(item, "score", &score))
            continue;
        if (!best || score > best_score) {
            best = label;
            best_score = score;
        }
    }
    d->inference_ms = now_ms;
    d->inference_score = best ? best_score : 0;
    copy_text(d->inference, sizeof(d->inference),
              best ? best->valuestring : "");
}

static void take_status(scn_fleet_drone *d, const cJSON *doc, uint64_t now_ms)
{
    const cJSON *online = cJSON_GetObjectItemCaseSensitive(doc, "online");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "version");
    int now_online;

    if (cJSON_IsBool(online)) {
        now_online = cJSON_IsTrue(online);
        if (now_online != d->online)
            d->online_changed_ms = now_ms;
        d->online = now_online;
    }
    if (cJSON_IsString(version))
        copy_text(d->version, sizeof(d->version), version->valuestring);
}

static drone *add_drone(scn_fleet *f, const char *id, size_t len, size_t slot,
                        uint64_t now_ms)
{
    drone *d;

    if (f->count >= f->opts.max_drones)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    memcpy(d->pub.id, id, len);
    d->pub.id[len] = '\0';
    d->pub.online = -1;
    d->pub.first_ms = now_ms;
    for (int s = 0; s < SCN_FLEET_STREAM_COUNT; s++)
        d->pub.streams[s].last_seq = -1;
    f->drones[f->count] = d;
    f->slots[slot] = (uint32_t)++f->count;
    f->stats.drones = f->count;
    return d;
}

/* The seqs of run: its slot, or the least recently used one made its. */
static scn_seqwindow *run_windows(scn_fleet *f, drone *d, const char *run)
{
    run_seqs *slot = NULL;

    for (int i = 0; i < RUNS_KEPT; i++) {
        run_seqs *r = &d->runs[i];

        if (r->in_use && strcmp(r->run, run) == 0) {
            slot = r;
            break;
        }
        if (!slot || !r->in_use || (slot->in_use && r->used < slot->used))
            slot = r;
    }
    if (!slot->in_use || strcmp(slot->run, run) != 0) {
        memset(slot, 0, sizeof(*slot));
        slot->in_use = 1;
        strcpy(slot->run, run);
        d->pub.runs++;
        strcpy(d->pub.run, run);
    }
    slot->used = ++f->uses;
    return slot->seqs;
}

/* Counts seq against the stream's window of its run. Returns
 * SCN_FLEET_NEW or SCN_FLEET_DUPLICATE. */
static int count_seq(scn_fleet *f, drone *d, scn_fleet_stream st,
                     const scn_envelope *env)
{
    scn_fleet_stream_stats *ss = &d->pub.streams[st];
    scn_seqwindow *w;
    uint64_t gap;

    /* A will (status, seq 0) is fixed at connect time: the same one may
     * come after each connection of a run. */
    if (env->seq < 0 || (st == SCN_FLEET_STATUS && env->seq == 0))
        return SCN_FLEET_NEW;
    w = &run_windows(f, d, env->run)[st];
    switch (scn__seqwindow_add(w, (uint64_t)env->seq, &gap)) {
    case SCN_SEQ_DUPLICATE:
        ss->duplicates++;
        d->pub.duplicates++;
        return SCN_FLEET_DUPLICATE;
    case SCN_SEQ_LATE:
        ss->late++;
        if (ss->gaps > 0) {
            ss->gaps--;
            d->pub.gaps--;
        }
        break;
    case SCN_SEQ_RESTART:
        ss->restarts++;
        ss->last_seq = env->seq;
        break;
    case SCN_SEQ_NEW:
        ss->gaps += gap;
        d->pub.gaps += gap;
        ss->last_seq = env->seq;
        break;
    }
    return SCN_FLEET_NEW;
}

int scn_fleet_ingest(scn_fleet *f, const char *topic, const void *payload,
                     size_t len, uint64_t now_ms, scn_fleet_message *out)
{
    const char *id;
    size_t id_len, slot;
    scn_fleet_stream st;
    scn_envelope env;
    int rc, fresh = 0;
    drone *d;

    if (!f || !topic || (!payload && len))
        return SCN_ERR_INVALID_ARG;
    rc = parse_topic(topic, &id, &id_len, &st);
    if (rc) {
        f->stats.bad_topic++;
        return rc;
    }
    rc = scn__envelope_parse(payload, len, &env);
    if (rc) {
        if (rc != SCN_ERR_NOMEM)
            f->stats.bad_payload++;
        return rc;
    }
    slot = find_slot(f, id, id_len);
    if (f->slots[slot]) {
        d = f->drones[f->slots[slot] - 1];
    } else {
        d = add_drone(f, id, id_len, slot, now_ms);
        if (!d) {
            scn__envelope_free(&env);
            if (f->count < f->opts.max_drones)
                return SCN_ERR_NOMEM;
            f->stats.refused_full++;
            return SCN_ERR_OUT_OF_RANGE;
        }
        fresh = 1;
    }
    rc = count_seq(f, d, st, &env);
    d->pub.last_ms = now_ms;
    if (rc == SCN_FLEET_DUPLICATE) {
        f->stats.duplicates++;
    } else {
        f->stats.accepted++;
        d->pub.messages++;
        d->pub.streams[st].received++;
        if (st == SCN_FLEET_STATE)
            take_state(&d->pub, env.data);
        else if (st == SCN_FLEET_INFERENCE)
            take_inference(&d->pub, env.data, now_ms);
        else if (st == SCN_FLEET_STATUS)
            take_status(&d->pub, env.data, now_ms);
    }
    if (out) {
        out->drone_id = d->pub.id;
        out->drone_index = (size_t)(f->slots[slot] - 1);
        out->stream = st;
        out->seq = env.seq;
        out->ts_ns = env.ts_ns;
        memcpy(out->run, env.run, sizeof(out->run));
        out->data = env.data_text;
        out->data_len = env.data_len;
        out->new_drone = fresh;
    }
    scn__envelope_free(&env);
    return rc;
}

size_t scn_fleet_count(const scn_fleet *f)
{
    return f ? f->count : 0;
}

int scn_fleet_drone_get(const scn_fleet *f, size_t index, scn_fleet_drone *out)
{
    if (!f || !out)
        return SCN_ERR_INVALID_ARG;
    if (index >= f->count)
        return SCN_ERR_NOT_FOUND;
    *out = f->drones[index]->pub;
    return 0;
}

void scn_fleet_get_stats(const scn_fleet *f, scn_fleet_stats *out)
{
    if (!out)
        return;
    if (!f) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = f->stats;
}
