/* Device frames: a few slow sinusoids stand in for the environment. */
#include "devframe.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#define TWO_PI 6.28318530717958647692

void devframe_position(int idx, double *x, double *y, double *z)
{
    *x = 700.0 * idx;
    *y = -350.0 * idx;
    *z = 0;
}

/* Appends printf output at *at; sets *at past cap on overflow. */
static void add(char *out, size_t cap, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(char *out, size_t cap, size_t *at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*at >= cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(out + *at, cap - *at, fmt, ap);
    va_end(ap);
    *at = n < 0 ? cap : *at + (size_t)n;
}

size_t devframe_build(char *out, size_t cap, const plume *pl, const char *uid,
                      int idx, uint64_t seq, double t, const char *ts)
{
    /* Each device gets its own phases, derived from seed and index. */
    double ph =
        (double)((pl->seed + (uint64_t)idx * 7919u) % 1000) / 1000.0 * TWO_PI;
    double temp = 21.5 + 1.5 * sin(TWO_PI * t / 1800 + ph) +
                  0.2 * sin(TWO_PI * t / 97 + 2 * ph);
    double hum = 40.0 + 6.0 * sin(TWO_PI * t / 2400 + 3 * ph);
    double pres = 1010.0 + 1.5 * sin(TWO_PI * t / 3600 + ph / 2);
    double charge = 83.0 - t / 600.0; /* 1 % per 10 minutes */
    double x, y, z;
    size_t at = 0;
    int c;

    if (charge < 5)
        charge = 5;
    add(out, cap, &at,
        "{\"UID\":\"%s\",\"TIMESTAMP\":\"%s\",\"SEQ\":%llu,"
        "\"ENV_temperatureC\":%.2f,\"ENV_humidity\":%.1f,"
        "\"ENV_pressureHpa\":%.2f,\"STATUS_opuA\":0,"
        "\"BATT_health\":%d,\"BATT_v\":%.3f,\"BATT_charge\":%d,"
        "\"BATT_time\":%.1f",
        uid, ts, (unsigned long long)seq, temp, hum, pres, 98 - idx % 3,
        3.3 + 0.9 * charge / 100.0, (int)floor(charge), charge / 10.0);
    devframe_position(idx, &x, &y, &z);
    for (c = 0; c < PLUME_NCOMPOUNDS; c++) {
        double v = plume_concentration(pl, c, x, y, z, t);

        /* Published rule: absent means zero; also skip what prints as 0. */
        if (v >= 0.005)
            add(out, cap, &at, ",\"%s\":%.2f", plume_compound_name(c), v);
    }
    add(out, cap, &at, ",\"_sim_units\":\"ppb\"}");
    return at < cap ? at : 0;
}
