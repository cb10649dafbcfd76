// A UDP application: what a tenant FWP runs behind the port the scenario binds to it.
//
// The same object serves in three places: inside a tenant FWP of the booted kernel (datagrams come
// from its RX ring and replies go to its TX ring), on the host behind a real UDP socket
// (host/udp_serve.hpp, which the tests point real clients at), and in fuzz harnesses. So it is
// freestanding: no heap (its state lives in the memory it is given at init), no exceptions, no
// library calls beyond mem*.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace edgeos::net {

// Where an application sends its replies. One request may give several datagrams (memcached over
// UDP splits a long reply into frames) or none (a CoAP NON request the server ignores).
class ReplySink {
 public:
  // Queues one datagram back to the request's source. False if it could not be queued (the TX ring
  // is full): the application drops the rest of that reply and counts it.
  virtual bool send(const uint8_t* data, size_t len) = 0;

 protected:
  ~ReplySink() = default;
};

// The source of a request, for applications that keep per-peer state (CoAP message-id dedup).
struct Peer {
  uint32_t ipv4 = 0;  // host byte order
  uint16_t port = 0;
};

class UdpApp {
 public:
  // Handles one request datagram; never fails on any input (malformed requests are answered with
  // the protocol's error or dropped, and counted).
  virtual void handle(const Peer& from, const uint8_t* data, size_t len, ReplySink& out) = 0;

 protected:
  ~UdpApp() = default;
};

}  // namespace edgeos::net
