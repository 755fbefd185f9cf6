#pragma once
/// The OTP layer: `#include <eam/otp.hpp>` (eam::eam links it).

#include <eam/otp/agent.hpp>
#include <eam/otp/dynamic_supervisor.hpp>
#include <eam/otp/gen_stage.hpp>
#include <eam/otp/named_ref.hpp>
#include <eam/otp/otp_errc.hpp>
#include <eam/otp/process_groups.hpp>
#include <eam/otp/stop.hpp>
#include <eam/otp/supervisor.hpp>
