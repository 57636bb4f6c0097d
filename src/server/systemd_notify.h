#pragma once

#include <string_view>

namespace gatehouse::server {

// The service manager's readiness protocol (sd_notify(3)) without
// libsystemd: one datagram of "KEY=value" lines to the Unix socket named by
// $NOTIFY_SOCKET ("@name" for an abstract socket). Nothing happens when the
// variable is unset, as when not started by systemd with Type=notify.
// Failures are logged at debug level and otherwise ignored: the protocol is
// advisory.
void systemdNotify(std::string_view state);

// "RELOADING=1" with the MONOTONIC_USEC that systemd asks of a reload
// notification.
void systemdNotifyReloading();

}  // namespace gatehouse::server
