#pragma once
// Identity of the machine and the run: host name, a hardware snapshot for the runs table,
// and a random run uuid.
#include <string>

#include <nlohmann/json.hpp>

namespace accel::bench {

std::string HostName();
// CPU (vendor, brand, ISA extensions, threads), memory, OS kernel.
nlohmann::json HardwareSnapshot();
std::string NewRunUuid();

}  // namespace accel::bench
