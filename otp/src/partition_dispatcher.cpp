#include <eam/otp/gen_stage/partition_dispatcher.hpp>

#include <stdexcept>
#include <string>

namespace eam::otp::detail {

void throw_bad_partition(std::size_t index, std::size_t partitions) {
  throw std::out_of_range("the partition hash returned " + std::to_string(index) + " for " +
                          std::to_string(partitions) + " partitions");
}

}  // namespace eam::otp::detail
