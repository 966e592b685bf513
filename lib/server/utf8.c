/* Incremental UTF-8 validation. */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

void scn__utf8_init(scn_utf8 *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xBF;
}

bool scn__utf8_feed(scn_utf8 *u, const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];

        if (u->need) {
            if (c < u->lo || c > u->hi)
                return false;
            u->need--;
            u->lo = 0x80;
            u->hi = 0xBF;
            i++;
            continue;
        }
        /* Text from our peers is mostly ASCII: eight bytes at a time. */
        if (c < 0x80) {
            uint64_t w;

            while (i + 8 <= n) {
                memcpy(&w, p + i, 8);
                if (w & UINT64_C(0x8080808080808080))
                    break;
                i += 8;
            }
            while (i < n && p[i] < 0x80)
                i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            u->need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            u->need = 2;
            if (c == 0xE0) /* overlong */
                u->lo = 0xA0;
            else if (c == 0xED) /* surrogates */
                u->hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            u->need = 3;
            if (c == 0xF0) /* overlong */
                u->lo = 0x90;
            else if (c == 0xF4) /* above U+10FFFF */
                u->hi = 0x8F;
        } else {
            return false; /* continuation first, C0, C1, F5..FF */
        }
        i++;
    }
    return true;
}

bool scn__utf8_complete(const scn_utf8 *u)
{
    return u->need == 0;
}

bool scn__utf8_check(const void *p, size_t n)
{
    scn_utf8 u;

    scn__utf8_init(&u);
    return scn__utf8_feed(&u, p, n) && scn__utf8_complete(&u);
}
