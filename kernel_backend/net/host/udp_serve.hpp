// Runs a UdpApp behind a real UDP socket on the host, so that real clients (Debian's coap-client, a
// memcached client in a test) can talk to the very code a tenant FWP runs. Tests only: it binds to
// a loopback address and serves a bounded number of datagrams or a bounded time.
#pragma once
#include "edgeos/net/udp_app.hpp"

namespace edgeos::net {

// The command line of a serving program: `PROGRAM [--bind ADDR] [--port N] [--max-requests N]
// [--seconds S]`. Binds (default 127.0.0.1, port 0 = any free port), prints `port N` on stdout
// (flushed) once bound, then serves until the count or the time is reached, or SIGTERM/SIGINT.
// Returns the process's exit code: 0 after a clean stop, 2 on a bad flag or a failed bind.
int udp_serve_main(int argc, char** argv, UdpApp& app);

}  // namespace edgeos::net
