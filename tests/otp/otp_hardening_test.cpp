// Regression tests for the OTP hardening issue: each failed before its fix.
#include <eam/eam.hpp>

#include <doctest/doctest.h>
