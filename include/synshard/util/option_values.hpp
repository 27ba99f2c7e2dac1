#pragma once

#include <boost/program_options.hpp>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace synshard {

// Whether a range's maximum is itself allowed ("0..1") or only what lies below it
// ("0..1, 1 excluded").
enum class Maximum { included, excluded };

// Throws the po::error of a value outside its option's range; Boost adds the option's
// name, and the commands turn it into a usage error (exit 2) before anything runs.
[[noreturn]] void throw_outside_range(const std::string& token, const std::string& range);

// A numeric option's value, checked while the command line or a job file is parsed: a
// number of the option's type within its range. Boost alone reads "-1" into an unsigned
// option as its type's maximum, so there a '-' is refused before the number is read. The
// default value is not parsed: tests/cli/numeric_options_test.cpp checks that each lies in
// its range and that each option's help states the range.
template <typename Number>
class BoundedValue final : public boost::program_options::typed_value<Number> {
    static_assert(std::is_arithmetic_v<Number> && !std::is_same_v<Number, bool>);

  public:
    BoundedValue(Number min, Number max, Maximum maximum)
        : boost::program_options::typed_value<Number>(nullptr),
          min_(min),
          max_(max),
          maximum_(maximum) {}

    // False for NaN, which no range holds.
    bool contains(Number value) const {
        return value >= min_ && (maximum_ == Maximum::included ? value <= max_ : value < max_);
    }

    // As the option's help states it: "1..100", "0..1, 1 excluded", or "0 or more" when
    // only the type bounds the maximum.
    std::string range_text() const {
        if (max_ == std::numeric_limits<Number>::max()) return text(min_) + " or more";
        std::string range = text(min_) + ".." + text(max_);
        if (maximum_ == Maximum::excluded) range += ", " + text(max_) + " excluded";
        return range;
    }

    void xparse(boost::any& value, const std::vector<std::string>& tokens) const override {
        namespace po = boost::program_options;
        const std::string& token = po::validators::get_single_string(tokens);
        if (std::is_signed_v<Number> || token.find('-') == std::string::npos) {
            try {
                po::typed_value<Number>::xparse(value, tokens);
                if (contains(boost::any_cast<Number>(value))) return;
            } catch (const po::invalid_option_value&) {
                // Not a number of this type (too large for it, or words): as out of range,
                // the message says what is expected.
            }
        }
        throw_outside_range(token, range_text());
    }

  private:
    static std::string text(Number number) {
        if constexpr (std::is_integral_v<Number>) {
            return std::to_string(number);
        } else {
            std::ostringstream stream;
            stream << number;
            return stream.str();
        }
    }

    Number min_;
    Number max_;
    Maximum maximum_;
};

// The value of a numeric option that takes min..max (max: the type's largest by default),
// declared like po::value<Number>(): bounded_value<std::uint64_t>(1, 99999)->default_value(1).
template <typename Number>
BoundedValue<Number>* bounded_value(Number min, Number max = std::numeric_limits<Number>::max(),
                                    Maximum maximum = Maximum::included) {
    return new BoundedValue<Number>(min, max, maximum);
}

// A boolean option: a switch on the command line (`--full`; `--no-resume` turns off one on
// by default), `name = true` or `false` in a job file. Taking no value, it cannot take
// the operand after it for one.
inline boost::program_options::typed_value<bool>* switch_value(bool on_by_default = false) {
    return boost::program_options::value<bool>()->default_value(on_by_default)->zero_tokens();
}

}  // namespace synshard
