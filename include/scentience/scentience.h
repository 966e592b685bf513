/** @file
 * Umbrella header of libscentience. */
#ifndef SCENTIENCE_H
#define SCENTIENCE_H

#include <scentience/common.h>
#include <scentience/version.h>
#include <scentience/error.h>
#include <scentience/log.h>
#include <scentience/json_writer.h>
#include <scentience/frame.h>
#include <scentience/loop.h>
#include <scentience/session.h>
#include <scentience/api_key.h>
#include <scentience/server.h>
#include <scentience/fanout.h>
#include <scentience/live.h>
#include <scentience/timer.h>
#include <scentience/recorder.h>
#include <scentience/recording.h>
#include <scentience/fleet.h>
#include <scentience/mqtt.h>

/** The WebSocket subprotocol a session offers to devices (docs/PROTOCOL.md). */
#define SCN_SUBPROTOCOL "scentience.v1"

#endif
