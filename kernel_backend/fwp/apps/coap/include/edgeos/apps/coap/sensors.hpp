// The resources of the IoT sensor tenant (issue 16): two read-only readings and a configuration
// value, registered on a Server. The tenant FWP and the host program (edgeos-coap-udp) both use
// this, so that what the tests see is what the tenant serves.
//
//   GET /temp       -> "22.50"   (degrees Celsius, text/plain)
//   GET /humidity   -> "41.00"   (% relative humidity, text/plain)
//   GET|PUT /config -> up to config_capacity bytes, text/plain
//   GET /.well-known/core -> the three, in RFC 6690 link format
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "edgeos/apps/coap/server.hpp"

namespace edgeos::apps::coap {

// The latest readings, in hundredths of their unit; the tenant updates them as samples arrive.
// INT32_MIN means "no reading yet" (GET answers 5.03 Service Unavailable).
struct SensorBoard {
  int32_t temp_centi_c = 2250;
  int32_t humidity_centi_pct = 4100;
};

inline constexpr uint32_t kDefaultConfigCapacity = 64;

// Registers /temp, /humidity and /config on an initialised server. `board` must outlive it.
Status add_sensor_resources(Server& server, SensorBoard& board, uint32_t config_capacity = kDefaultConfigCapacity);

// "-12.05": a value in hundredths as decimal text, without floating point. Returns the length, or 0
// if it does not fit `capacity`.
size_t format_centi(int32_t value, uint8_t* out, size_t capacity);

}  // namespace edgeos::apps::coap
