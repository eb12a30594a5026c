// Cancellable sleep for retry loops.
#pragma once

#include <chrono>

#include <boost/asio/awaitable.hpp>

#include "spike_bootstrap/common/result.h"

namespace spike_bootstrap {

// Waits for delay on the calling coroutine's executor. Returns Cancelled when
// the coroutine is cancelled first, OK otherwise.
boost::asio::awaitable<Status> sleepFor(std::chrono::nanoseconds delay);

}  // namespace spike_bootstrap
