#pragma once
// A folder of its own under the system's temporary one for a test's files, removed with
// everything in it when the test ends, failed or not.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace eam::test {

struct scratch_folder {
  std::filesystem::path path;
  scratch_folder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "eam-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  scratch_folder(const scratch_folder&) = delete;
  scratch_folder& operator=(const scratch_folder&) = delete;
  ~scratch_folder() { std::filesystem::remove_all(path); }
  /// Writes `text` to the file `name` in the folder; returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

}  // namespace eam::test
