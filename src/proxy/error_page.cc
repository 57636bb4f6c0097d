#include "proxy/error_page.h"

#include "common/strings.h"
#include "http/headers.h"

namespace gatehouse::proxy {

bool wantsJson(const http::RequestHead& request) {
  auto accept = request.headers.get("accept");
  if (!accept) return false;
  size_t json = accept->find("application/json");
  if (json == std::string_view::npos) return false;
  size_t html = accept->find("text/html");
  return html == std::string_view::npos || json < html;
}

ErrorPage renderErrorPage(const http::RequestHead& request, int status, std::string_view request_id,
                          std::string_view details) {
  const char* reason = http::statusReason(status);
  if (wantsJson(request)) {
    std::string body = "{\"status\":" + std::to_string(status) + ",\"error\":" + jsonQuote(reason) +
                       ",\"request_id\":" + jsonQuote(request_id);
    if (!details.empty()) body += ",\"details\":" + jsonQuote(details);
    body += "}\n";
    return {"application/json", std::move(body)};
  }
  std::string code = std::to_string(status);
  std::string body;
  body.reserve(1024);
  body +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>";
  body += code + " " + htmlEscape(reason);
  body +=
      "</title><style>body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1d2330;"
      "display:flex;justify-content:center;padding-top:12vh;margin:0}"
      "main{background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002;padding:2rem 3rem;"
      "max-width:36rem}h1{margin:0 0 .5rem;font-size:1.6rem}p{color:#4a5263}"
      "code{background:#eef0f3;padding:.1rem .3rem;border-radius:4px}</style></head><body><main>";
  body += "<h1>" + code + " " + htmlEscape(reason) + "</h1>";
  if (!details.empty()) body += "<p>" + htmlEscape(details) + "</p>";
  body += "<p>Request ID: <code>" + htmlEscape(request_id) + "</code></p>";
  body += "</main></body></html>\n";
  return {"text/html; charset=utf-8", std::move(body)};
}

}  // namespace gatehouse::proxy
