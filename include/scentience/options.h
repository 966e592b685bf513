/** @file
 * How options structs grow without breaking programs built against an
 * older header (docs/ARCHITECTURE.md, "SOVERSION and ABI").
 *
 * Every options struct starts with `size_t struct_size`. Its
 * `_options_init()` is an inline function of the header, so it passes the
 * size the caller was compiled with to the library's `_options_init_sized()`,
 * which writes defaults into that many bytes and records the size. `_new()`
 * then reads only those bytes: fields added after the caller's version take
 * their defaults. A size smaller than the struct's first version or larger
 * than the library knows (a newer header, or a struct never initialised)
 * is refused with SCN_ERR_OPTIONS_SIZE. New fields are only ever appended;
 * a struct that is part of another (callbacks, backoff policy) never grows,
 * and one options struct refers to another by pointer, never by value.
 */
#ifndef SCENTIENCE_OPTIONS_H
#define SCENTIENCE_OPTIONS_H

#include <stddef.h>

#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The end of @p field in @p type: the smallest struct_size a library
 * accepts is the end of the last field of the struct's first version.
 */
#define SCN_OPTIONS_END(type, field)                                           \
    (offsetof(type, field) + sizeof(((type *)0)->field))

/**
 * For libraries built on libscentience that follow the same convention
 * (libscentience-uav): the `_options_init_sized()` half. Writes the first
 * @p size bytes of @p defaults (a whole struct of @p defaults_size bytes)
 * to @p opts, zeroes the rest of its @p size bytes and stores @p size in
 * its leading size_t. Does nothing when @p size cannot even hold that.
 */
SCN_API void scn_options_give(void *opts, size_t size, const void *defaults,
                              size_t defaults_size);

/**
 * The `_new()` half: overwrites the first struct_size bytes of @p dst (a
 * whole struct of @p dst_size bytes, already holding the defaults) with
 * @p src's. Returns 0, SCN_ERR_INVALID_ARG when @p src is NULL, or
 * SCN_ERR_OPTIONS_SIZE when src's struct_size is below @p min_size or above
 * @p dst_size (then @p dst is unchanged).
 */
SCN_API int scn_options_take(void *dst, size_t dst_size, size_t min_size,
                             const void *src);

#ifdef __cplusplus
}
#endif

#endif
