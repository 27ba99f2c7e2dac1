#include "synshard/util/quantity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace synshard {

std::string count_of(std::uint64_t count, std::string_view singular, std::string_view plural) {
    std::string text = std::to_string(count) + " ";
    if (count == 1) return text.append(singular);
    if (!plural.empty()) return text.append(plural);
    text.append(singular);
    const bool sibilant = singular.ends_with("s") || singular.ends_with("x") ||
                          singular.ends_with("ch") || singular.ends_with("sh");
    return text.append(sibilant ? "es" : "s");
}

std::string percent_of(std::uint64_t part, std::uint64_t whole) {
    if (whole == 0 || part == 0) return "0%";
    if (part >= whole) return part == whole ? "100%" : std::to_string(100 * part / whole) + "%";
    double tenths = std::round(1000.0 * static_cast<double>(part) / static_cast<double>(whole));
    tenths = std::clamp(tenths, 1.0, 999.0);
    char text[16];
    std::snprintf(text, sizeof text, "%.1f%%", tenths / 10.0);
    return text;
}

std::string pixel_count(std::uint64_t pixels) {
    const auto value = static_cast<double>(pixels);
    if (pixels < 1000) return std::to_string(pixels) + " pixel";
    const bool mega = value >= 999.5e3;
    const double scaled = value / (mega ? 1e6 : 1e3);
    // Three significant digits: 2.29, 22.9, 229.
    const int decimals = scaled < 9.995 ? 2 : scaled < 99.95 ? 1 : 0;
    char text[32];
    std::snprintf(text, sizeof text, "%.*f %s", decimals, scaled, mega ? "Mpixel" : "kpixel");
    return text;
}

}  // namespace synshard
