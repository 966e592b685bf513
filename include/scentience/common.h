/** @file
 * Symbol visibility shared by every public header. */
#ifndef SCENTIENCE_COMMON_H
#define SCENTIENCE_COMMON_H

#if defined(SCN_BUILDING_LIBRARY)
#define SCN_API __attribute__((visibility("default")))
#else
#define SCN_API
#endif

#endif
