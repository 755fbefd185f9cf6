#pragma once
/// Everything a libeam program needs: `#include <eam/eam.hpp>` and link `eam::eam`.

#include <eam/engine/actor.hpp>
#include <eam/engine/actor_ref.hpp>
#include <eam/engine/behavior.hpp>
#include <eam/engine/context.hpp>
#include <eam/engine/error.hpp>
#include <eam/engine/info.hpp>
#include <eam/engine/result.hpp>
#include <eam/engine/system.hpp>
#include <eam/engine/task.hpp>
