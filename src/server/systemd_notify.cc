#include "server/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/log.h"

namespace gatehouse::server {

void systemdNotify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return;
  size_t length = std::strlen(path);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if ((path[0] != '/' && path[0] != '@') || length >= sizeof(address.sun_path)) {
    log::debug("NOTIFY_SOCKET is not a Unix socket path").str("path", path);
    return;
  }
  std::memcpy(address.sun_path, path, length);
  if (path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
  socklen_t address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log::debug("sd_notify: socket failed").str("error", std::strerror(errno));
    return;
  }
  ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&address), address_length);
  if (sent < 0) log::debug("sd_notify: send failed").str("error", std::strerror(errno));
  ::close(fd);
}

void systemdNotifyReloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t usec =
      static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
  systemdNotify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

}  // namespace gatehouse::server
