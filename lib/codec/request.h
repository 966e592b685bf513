/* Client-to-device requests (docs/PROTOCOL.md section 4). Pure. */
#ifndef SCN_REQUEST_H
#define SCN_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define SCN_RATE_MIN_HZ 0.1
#define SCN_RATE_MAX_HZ 1000.0
#define SCN_REQUEST_MAX 128

/* Each writes a compact JSON request into buf and its length into *len.
 * id 0 omits the "id" member. Returns 0, SCN_ERR_OUT_OF_RANGE (rate not 0
 * and outside SCN_RATE_MIN_HZ..SCN_RATE_MAX_HZ, or not finite),
 * SCN_ERR_NOMEM (buf too small). */
int scn__request_sample(char *buf, size_t cap, uint32_t id, size_t *len);
int scn__request_stream(char *buf, size_t cap, int on, double rate_hz,
                        uint32_t id, size_t *len);

#endif
