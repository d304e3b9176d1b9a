#pragma once
// How the file probe judges what stat() found. Pure: `now` is passed in.

#include "healthd/config/config.hpp"
#include "healthd/core/clock.hpp"
#include "healthd/core/probe_result.hpp"

#include <cstdint>

namespace healthd::probes {

struct file_facts {
  int error = 0;  // errno of stat(), 0 when it succeeded
  std::int64_t size = 0;
  wall_time modified{};
  bool regular = false;
};

// Missing, not a regular file, smaller than min_size_bytes, or older than max_age_s as of `now`: critical.
[[nodiscard]] probe_result judge_file(const config::file_probe& options, const file_facts& facts, wall_time now);

}  // namespace healthd::probes
