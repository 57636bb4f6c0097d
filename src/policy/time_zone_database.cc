#include "policy/time_zone_database.h"

#include <cstdlib>
#include <fstream>

namespace gatehouse::policy {

namespace {

// IANA names are ASCII letters, digits and "/_+-."; anything else (and any
// ".." component) could escape the database directory.
bool isSafeZoneName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/') return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok) return false;
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

bool isUtcName(std::string_view name) {
  return name == "UTC" || name == "Etc/UTC" || name == "Etc/Universal" || name == "Universal" ||
         name == "Zulu" || name == "Etc/Zulu" || name == "GMT" || name == "Etc/GMT";
}

}  // namespace

Result<std::shared_ptr<const TimeZone>> TzifDirectory::find(std::string_view name) const {
  std::string quoted = "\"" + std::string(name) + "\"";
  if (!isSafeZoneName(name)) return Error::invalid("invalid time zone name " + quoted);
  std::string path = directory_ + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (isUtcName(name)) return TimeZone::utc();
    return Error::invalid("unknown time zone " + quoted + " (not found in " + directory_ + ")");
  }
  // Real zone files are a few kilobytes; the cap keeps a stray large file
  // from being read whole.
  constexpr size_t kMaxSize = 1 << 20;
  std::string data;
  char chunk[4096];
  while (in.read(chunk, sizeof(chunk)) || in.gcount() > 0) {
    data.append(chunk, static_cast<size_t>(in.gcount()));
    if (data.size() > kMaxSize) return Error::invalid("time zone " + quoted + ": file too large");
  }
  return TimeZone::fromTzif(std::string(name), data);
}

const TimeZoneDatabase& TimeZoneDatabase::system() {
  static const TzifDirectory database([] {
    const char* dir = std::getenv("TZDIR");  // NOLINT(concurrency-mt-unsafe): read once
    return std::string(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo");
  }());
  return database;
}

}  // namespace gatehouse::policy
