/*
 * The reference the frame tokenizer (lib/codec/frame_scan.c) is checked
 * against: the cJSON path it replaced (strict pre-scan, cJSON tree, the frame
 * rules applied to the tree). Shared by tests/unit/test_frame_scan.c and the
 * fuzz target tests/fuzz/fuzz_frame.c.
 */
#ifndef SCN_TEST_FRAME_REF_H
#define SCN_TEST_FRAME_REF_H

#include <stdbool.h>
#include <stddef.h>

#include <scentience/frame.h>

/*
 * Parses json[0..len) into f with scn_frame_parse() (route false) or
 * scn__frame_parse_inbound() (route true), and the same text with the
 * reference, and compares everything the frame shows: the verdict, the
 * route and type, every key (name, raw value, kind, lookup), UID,
 * TIMESTAMP, SEQ, fields and compounds (bit for bit). Returns 0 when they
 * agree, else 1 with the first difference described in why.
 */
int frame_ref_compare(scn_frame *f, const char *json, size_t len, bool route,
                      char *why, size_t why_cap);

#endif
