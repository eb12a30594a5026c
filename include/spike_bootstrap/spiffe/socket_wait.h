// Waiting for the Workload API socket.
//
// In Kubernetes the SPIFFE CSI driver can mount the agent's socket after the
// container starts, and a socket file can exist while nothing listens on it
// yet. So the wait is over only once a connection to the socket succeeds.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap::spiffe {

// Returns the socket path of a Workload API endpoint given as "unix:///path",
// "unix:/path" or a bare absolute "/path". Returns InvalidArgument for other
// schemes, a host part, a relative path or an empty value.
Result<std::string> socketPathFromEndpoint(std::string_view endpoint);

// Polls on the caller's io_context until a Unix stream socket at path accepts
// a connection, which is closed again at once. Logs once when the wait starts
// and every reportInterval after that with the time waited. Returns
// DeadlineExceeded naming the path and the last connect error when deadline
// passes first, and Cancelled when the caller's coroutine is cancelled.
boost::asio::awaitable<Status> waitForSocket(
    std::string path, std::chrono::steady_clock::time_point deadline,
    std::chrono::steady_clock::duration reportInterval = std::chrono::seconds(10));

}  // namespace spike_bootstrap::spiffe
