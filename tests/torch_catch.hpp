// Include this instead of catch.hpp in tests that use torch. Debian's c10
// logs through glog, whose CHECK macro would silently replace Catch's
// (a failing check would then abort instead of being reported).
#pragma once

#include <torch/torch.h>

#undef CHECK
#include <catch2/catch.hpp>
