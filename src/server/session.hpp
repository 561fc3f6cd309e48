#pragma once
// Starts one HTTP/1.1 connection (plain or TLS) on its worker. Internal to src/server.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "server_state.hpp"

namespace warden::server {

// Runs the connection until it closes; `listener.connections` (and `listener.overflow` for
// an overflow connection not yet admitted) is decremented at the end. `overflow`: accepted
// past max_connections (see Listener::overflow).
void start_plain_session(boost::asio::ip::tcp::socket socket, ServerState& state, Listener& listener, Worker& worker,
                         bool overflow);
void start_tls_session(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls, ServerState& state,
                       Listener& listener, Worker& worker, bool overflow);

}  // namespace warden::server
