#pragma once
// One policy step (DESIGN §3). A fresh instance per request, built from an immutable
// per-filter config, so members may hold per-request state without locks.
#include <boost/asio/awaitable.hpp>

#include "warden/api/stream_event.hpp"
#include "warden/policy/request_context.hpp"

namespace warden::policy {

namespace asio = boost::asio;

enum class FilterStatus { Continue, Reply };

class Filter {
 public:
  virtual ~Filter() = default;
  // Before routing. Return Reply after setting ctx.reply to answer locally (nothing goes upstream).
  virtual asio::awaitable<FilterStatus> on_request(RequestContext& ctx) = 0;
  // Each response event, in order, before it is encoded for the caller; filters see it in
  // REVERSE chain order (the one nearest the upstream first). May rewrite or hold back text
  // (released later via ev.released_before, or a Finish's text); setting ev.type = Error
  // stops the answer. Synchronous: runs per chunk.
  virtual void on_event(RequestContext& ctx, api::StreamEvent& ev) {}
  // Once, after the answer ended (success or not); usage and status are known.
  virtual void on_complete(RequestContext& ctx) {}
};

}  // namespace warden::policy
