// Regression tests for GenStage's hardening: each failed before its fix.
#include <eam/eam.hpp>

#include <doctest/doctest.h>
