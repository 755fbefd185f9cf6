// The test binaries' main: doctest's, plus two rules. A run whose filter selects no test case fails,
// because that is what ctest does to a name it cannot pass through: discovery splits a name at ';'
// (a CMake list separator), and the halves, matching nothing, used to "pass" without running. And
// a --test-case value that is a test's whole name is that one test, commas and all (below).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

int selected_test_cases = -1;  // -1: the run never reached its end (a query such as --list-test-cases)

struct selection_counter : doctest::IReporter {
  explicit selection_counter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    selected_test_cases = static_cast<int>(stats.numTestCasesPassingFilters);
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("selection_counter", 1, selection_counter);

// doctest's discovery script finds each test's suite (its ctest label) by running
// `--test-case=<name> --list-test-suites` with the name as it is, where a comma separates two
// filters: a name with a comma then matched nothing and lost its label. A --test-case value that
// is exactly the name of a registered test case is taken as that one name (its commas escaped).
static std::vector<std::string> with_whole_names(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (std::string& arg : args) {
    for (const std::string_view flag : {"--test-case=", "-tc="}) {
      if (!std::string_view(arg).starts_with(flag)) continue;
      const std::string value = arg.substr(flag.size());
      if (value.find(',') == std::string::npos || value.find('\\') != std::string::npos) continue;
      const auto& tests = doctest::detail::getRegisteredTests();
      if (std::none_of(tests.begin(), tests.end(), [&](const doctest::detail::TestCase& tc) { return value == tc.m_name; }))
        continue;
      std::string escaped(flag);
      for (const char c : value) {
        if (c == ',') escaped += '\\';
        escaped += c;
      }
      arg = escaped;
    }
  }
  return args;
}

int main(int argc, char** argv) {
  std::vector<std::string> args = with_whole_names(argc, argv);
  std::vector<char*> arg_pointers;
  for (std::string& arg : args) arg_pointers.push_back(arg.data());
  doctest::Context context(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  const int rc = context.run();
  if (context.shouldExit() || rc != 0) return rc;
  if (selected_test_cases == 0) {
    std::fprintf(stderr, "no test case matches the filter; a test name must not contain ';'\n");
    return 1;
  }
  return rc;
}
