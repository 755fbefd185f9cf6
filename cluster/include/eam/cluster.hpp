#pragma once
/// The cluster layer: nodes that exchange messages through ordinary refs. Link `eam::eam`.

#include <eam/cluster/config_file.hpp>
#include <eam/cluster/control.hpp>
#include <eam/cluster/errc.hpp>
#include <eam/cluster/node.hpp>
#include <eam/cluster/wire.hpp>
