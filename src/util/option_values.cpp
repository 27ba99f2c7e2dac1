#include "synshard/util/option_values.hpp"

namespace synshard {

void throw_outside_range(const std::string& token, const std::string& range) {
    boost::program_options::error_with_option_name error(
        "the argument ('%value%') for option '%canonical_option%' is invalid: expected " + range);
    error.set_substitute("value", token);
    throw error;
}

}  // namespace synshard
