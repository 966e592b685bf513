/*
 * The two halves of growable options structs (scentience/options.h): the
 * caller's size travels in the struct's leading size_t from the inline
 * _options_init() to _new(), so neither side touches bytes the other
 * does not have.
 */
#include <string.h>

#include <scentience/error.h>
#include <scentience/options.h>

void scn_options_give(void *opts, size_t size, const void *defaults,
                      size_t defaults_size)
{
    if (!opts || size < sizeof(size_t))
        return;
    memset(opts, 0, size);
    memcpy(opts, defaults, size < defaults_size ? size : defaults_size);
    memcpy(opts, &size, sizeof(size));
}

int scn_options_take(void *dst, size_t dst_size, size_t min_size,
                     const void *src)
{
    size_t size;

    if (!src)
        return SCN_ERR_INVALID_ARG;
    memcpy(&size, src, sizeof(size));
    if (size < min_size || size > dst_size)
        return SCN_ERR_OPTIONS_SIZE;
    memcpy(dst, src, size);
    return 0;
}
