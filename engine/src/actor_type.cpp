// Labels of actor types for logs and introspection: the compilers' full names of lambda and
// function factories are long (a functional behavior's whole template type) or carry paths.
#include <eam/engine/detail/actor_type.hpp>

namespace eam::detail {

std::string short_type_label(std::string_view full) {
  // A function used as a factory: its type is a function pointer that names no function (its
  // return type may name lambdas, so this comes first).
  if (full.ends_with("(*)(eam::actor_context&)") || full.find(" (*)(") != std::string_view::npos) return "function";
  // GCC: "app::main()::<lambda(eam::actor_context&)>" -> "lambda in app::main()".
  if (const auto at = full.find("::<lambda"); at != std::string_view::npos)
    return "lambda in " + std::string(full.substr(0, at));
  // clang: "(lambda at dir/file.cpp:12:5)" -> "lambda at file.cpp:12:5".
  if (const auto at = full.find("(lambda at "); at != std::string_view::npos) {
    std::string_view where = full.substr(at + 11);
    where = where.substr(0, where.find(')'));
    if (const auto slash = where.rfind('/'); slash != std::string_view::npos) where.remove_prefix(slash + 1);
    return "lambda at " + std::string(where);
  }
  return std::string(full);
}

}  // namespace eam::detail
