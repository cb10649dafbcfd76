// The sensor tenant's resources (see sensors.hpp).
#include "edgeos/apps/coap/sensors.hpp"

namespace edgeos::apps::coap {

namespace {

constexpr int32_t kNoReading = -2147483647 - 1;

bool read_centi(const int32_t* value, uint8_t* out, size_t capacity, size_t* length) {
  if (*value == kNoReading) return false;
  *length = format_centi(*value, out, capacity);
  return *length > 0;
}

bool read_temp(void* context, uint8_t* out, size_t capacity, size_t* length) {
  return read_centi(&static_cast<const SensorBoard*>(context)->temp_centi_c, out, capacity, length);
}

bool read_humidity(void* context, uint8_t* out, size_t capacity, size_t* length) {
  return read_centi(&static_cast<const SensorBoard*>(context)->humidity_centi_pct, out, capacity, length);
}

}  // namespace

size_t format_centi(int32_t value, uint8_t* out, size_t capacity) {
  char digits[12];
  size_t n = 0;
  // In unsigned arithmetic, so that INT32_MIN's magnitude does not overflow.
  uint32_t magnitude = value < 0 ? 0u - static_cast<uint32_t>(value) : static_cast<uint32_t>(value);
  do {
    digits[n++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0 || n < 3);  // at least "0.0d"
  const size_t total = (value < 0 ? 1 : 0) + n + 1;
  if (total > capacity) return 0;
  size_t o = 0;
  if (value < 0) out[o++] = '-';
  while (n > 2) out[o++] = static_cast<uint8_t>(digits[--n]);
  out[o++] = '.';
  while (n > 0) out[o++] = static_cast<uint8_t>(digits[--n]);
  return o;
}

Status add_sensor_resources(Server& server, SensorBoard& board, uint32_t config_capacity) {
  // Link parameters (RFC 6690 section 3): resource types and interface descriptions are free-form
  // tokens; ct=0 is text/plain.
  if (const Status s = server.add_reading("/temp", ";rt=\"temperature-c\";if=\"sensor\";ct=0", read_temp, &board);
      s != Status::kOk) {
    return s;
  }
  if (const Status s = server.add_reading("/humidity", ";rt=\"humidity-rh\";if=\"sensor\";ct=0", read_humidity, &board);
      s != Status::kOk) {
    return s;
  }
  return server.add_store("/config", ";rt=\"config\";ct=0", config_capacity);
}

}  // namespace edgeos::apps::coap
