#pragma once

#include <string>
#include <string_view>

#include "http/message.h"

namespace gatehouse::proxy {

struct ErrorPage {
  std::string content_type;
  std::string body;
};

// The body of a response Gatehouse itself produces: JSON
// ({"status","error","request_id"[,"details"]}) when the client asks for
// application/json, else an HTML page. Details only when the route has
// show_error_details.
ErrorPage renderErrorPage(const http::RequestHead& request, int status, std::string_view request_id,
                          std::string_view details);

// True when `Accept` prefers JSON over HTML.
bool wantsJson(const http::RequestHead& request);

}  // namespace gatehouse::proxy
