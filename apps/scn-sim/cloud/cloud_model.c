/*
 * The simulated cloud's toy model: deterministic, so that a test can work
 * out every answer from its own input. The dominant compound is the one
 * with the highest value in the frame; its score is its share of the sum
 * of all compound values; the target bearing points from the drone's x/y
 * toward that compound's plume source (plume.c, fixed by --seed).
 */
#include "cloud_sim.h"

#include <math.h>
#include <string.h>

static double round3(double v)
{
    return floor(v * 1000.0 + 0.5) / 1000.0;
}

/* The checks of PROTOCOL.md 3.1 a cloud can make on one frame. */
static const char *frame_problem(const cJSON *frame)
{
    const cJSON *m;

    if (!cJSON_IsObject(frame))
        return "frame: not an object";
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(frame, "type")))
        return "frame: a typed message, not a frame";
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(frame, "UID")))
        return "frame: UID missing";
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(frame, "TIMESTAMP")))
        return "frame: TIMESTAMP missing";
    cJSON_ArrayForEach(m, frame)
    {
        if (m->string && plume_compound_index(m->string) >= 0 &&
            (!cJSON_IsNumber(m) || !isfinite(m->valuedouble)))
            return "frame: a compound that is not a number";
    }
    return NULL;
}

/* Compass bearing (clockwise from +y) from (x, y) to the source, made
 * relative to the drone's yaw when the state has one. */
static double bearing(const plume_source *src, const cJSON *state)
{
    double x = cJSON_GetObjectItemCaseSensitive(state, "x")->valuedouble;
    double y = cJSON_GetObjectItemCaseSensitive(state, "y")->valuedouble;
    const cJSON *yaw = cJSON_GetObjectItemCaseSensitive(state, "yaw");
    double b = atan2(src->sx - x, src->sy - y) * 180.0 / M_PI;

    if (cJSON_IsNumber(yaw))
        b -= yaw->valuedouble;
    b = fmod(b, 360.0);
    if (b < 0)
        b += 360.0;
    b = round3(b);
    return b >= 360.0 ? 0.0 : b;
}

cJSON *cloud_model_infer(const plume *pl, const cJSON *frame,
                         const cJSON *state, const char **why)
{
    const cJSON *m, *best = NULL;
    cJSON *inf, *labels;
    double sum = 0;
    int c;

    *why = frame_problem(frame);
    if (*why)
        return NULL;
    cJSON_ArrayForEach(m, frame)
    {
        if (!m->string || plume_compound_index(m->string) < 0 ||
            m->valuedouble <= 0)
            continue;
        sum += m->valuedouble;
        if (!best || m->valuedouble > best->valuedouble)
            best = m;
    }
    inf = cJSON_CreateObject();
    cJSON_AddStringToObject(inf, "type", "inference");
    cJSON_AddStringToObject(inf, "model", CLOUD_MODEL);
    labels = cJSON_AddArrayToObject(inf, "labels");
    if (!best) /* clean air: nothing to name */
        return inf;
    c = plume_compound_index(best->string);
    {
        cJSON *l = cJSON_CreateObject();

        cJSON_AddStringToObject(l, "label", plume_compound_name(c));
        cJSON_AddNumberToObject(l, "score", round3(best->valuedouble / sum));
        cJSON_AddItemToArray(labels, l);
    }
    {
        cJSON *t = cJSON_AddObjectToObject(inf, "target");

        cJSON_AddStringToObject(t, "compound", plume_compound_name(c));
        if (cJSON_IsObject(state) &&
            cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(state, "x")) &&
            cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(state, "y")))
            cJSON_AddNumberToObject(t, "bearing_deg",
                                    bearing(&pl->src[c], state));
    }
    return inf;
}

void cloud_model_control_labels(cJSON *inf)
{
    cJSON *labels = cJSON_CreateArray();
    char text[64];
    int i, j;

    for (i = 0; i < 16; i++) {
        cJSON *l = cJSON_CreateObject();

        for (j = 0; j < 63; j++)
            text[j] = (char)(1 + (i + j) % 31);
        text[63] = '\0';
        cJSON_AddStringToObject(l, "label", text);
        cJSON_AddNumberToObject(l, "score", 0.9 - 0.05 * i);
        cJSON_AddItemToArray(labels, l);
    }
    cJSON_ReplaceItemInObjectCaseSensitive(inf, "labels", labels);
}
