/*
 * printf's "%.Nf" and "%llu" for the lines a program prints per frame,
 * without printf: its formatting was most of the cost of scn-companion's
 * per-inference line.
 */
#ifndef SCN_APP_FIXED_H
#define SCN_APP_FIXED_H

#include <stddef.h>
#include <stdint.h>

/* x with digits fraction digits, byte for byte what
 * snprintf(buf, cap, "%.*f", digits, x) writes (the exact value rounded
 * half to even, "-" for a negative x even when it rounds to zero);
 * digits above 3, magnitudes from 1e9 and values that are not finite are
 * left to snprintf. Returns the length, as snprintf does. */
size_t fixed_text(char *buf, size_t cap, double x, unsigned digits);

/* u in decimal ("%llu") at buf, 20 bytes at most, not NUL-terminated;
 * returns its length. */
size_t uint_text(char *buf, uint64_t u);

#endif
