// Running a RapidCheck property from a gtest case with a fixed, printed seed:
// RC_PARAMS (if set) wins over `default_params`; the configuration and the
// line to reproduce it go to stdout (and so into the ctest log).
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

namespace khospec::testutil {

template <typename Property>
void rc_run_property(const std::string& id, const std::string& default_params, Property&& property) {
  if (!std::getenv("RC_PARAMS")) setenv("RC_PARAMS", default_params.c_str(), 0);
  const auto params = rc::detail::configuration().testParams;
  std::cout << "RapidCheck " << id << ": seed=" << params.seed << " max_success=" << params.maxSuccess
            << " max_size=" << params.maxSize << " (reproduce: RC_PARAMS=\"seed=" << params.seed
            << " max_success=" << params.maxSuccess << " max_size=" << params.maxSize << "\")" << std::endl;
  rc::detail::TestMetadata md;
  md.id = id;
  const auto result = rc::detail::checkTestable(std::forward<Property>(property), md, params);
  std::ostringstream msg;
  rc::detail::printResultMessage(result, msg);
  std::cout << msg.str() << std::endl;
  EXPECT_TRUE(result.template is<rc::detail::SuccessResult>()) << msg.str();
}

}  // namespace khospec::testutil
