#include "synshard/image/geometry.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

constexpr int kMaxSize = 65535;

[[noreturn]] void bad_resize(std::string_view text) {
    throw UsageError("--resize " + std::string(text) +
                     ": expected shorter:N, crop:N, fixed:WxH, fit:WxH, longer:N or none "
                     "(sizes 1.." +
                     std::to_string(kMaxSize) + ")");
}

int parse_size(std::string_view digits, std::string_view text) {
    int value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size() || value < 1 ||
        value > kMaxSize) {
        bad_resize(text);
    }
    return value;
}

// round(length * target / reference), at least 1.
int scale_length(int length, int target, int reference) {
    const std::int64_t numerator = std::int64_t{2} * length * target + reference;
    return std::max<int>(1, static_cast<int>(numerator / (std::int64_t{2} * reference)));
}

// Both sides scaled so that the shorter (or longer) one becomes n.
Size scale_side_to(Size source, int n, bool shorter_side) {
    const bool width_is_reference = shorter_side == (source.width <= source.height);
    if (width_is_reference) return {n, scale_length(source.height, n, source.width)};
    return {scale_length(source.width, n, source.height), n};
}

}  // namespace

ResizeSpec parse_resize(std::string_view text) {
    if (text == "none") return {ResizeMode::none, 0, 0};
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) bad_resize(text);
    const auto name = text.substr(0, colon);
    const auto value = text.substr(colon + 1);
    if (name == "shorter" || name == "crop" || name == "longer") {
        const int n = parse_size(value, text);
        const auto mode = name == "shorter" ? ResizeMode::shorter
                          : name == "crop"  ? ResizeMode::crop
                                            : ResizeMode::longer;
        return {mode, n, n};
    }
    if (name == "fixed" || name == "fit") {
        const auto x = value.find('x');
        if (x == std::string_view::npos) bad_resize(text);
        return {name == "fixed" ? ResizeMode::fixed : ResizeMode::fit,
                parse_size(value.substr(0, x), text), parse_size(value.substr(x + 1), text)};
    }
    bad_resize(text);
}

std::string to_string(const ResizeSpec& spec) {
    const auto n = std::to_string(spec.width);
    const auto wxh = n + "x" + std::to_string(spec.height);
    switch (spec.mode) {
        case ResizeMode::shorter:
            return "shorter:" + n;
        case ResizeMode::crop:
            return "crop:" + n;
        case ResizeMode::fixed:
            return "fixed:" + wxh;
        case ResizeMode::fit:
            return "fit:" + wxh;
        case ResizeMode::longer:
            return "longer:" + n;
        case ResizeMode::none:
            return "none";
    }
    throw Error("unknown resize mode");
}

bool has_fixed_output(const ResizeSpec& spec, bool upscale) {
    switch (spec.mode) {
        case ResizeMode::crop:
        case ResizeMode::fixed:
            return upscale;
        case ResizeMode::fit:
            return true;
        case ResizeMode::shorter:
        case ResizeMode::longer:
        case ResizeMode::none:
            return false;
    }
    return false;
}

Layout plan_layout(Size source, const ResizeSpec& spec, bool upscale) {
    const int shorter = std::min(source.width, source.height);
    const int longer = std::max(source.width, source.height);
    Size scaled = source;
    switch (spec.mode) {
        case ResizeMode::none:
            break;
        case ResizeMode::shorter:
        case ResizeMode::crop:
            if (shorter != spec.width && (upscale || shorter > spec.width)) {
                scaled = scale_side_to(source, spec.width, true);
            }
            break;
        case ResizeMode::longer:
            if (longer > spec.width) scaled = scale_side_to(source, spec.width, false);
            break;
        case ResizeMode::fixed:
            scaled = upscale ? Size{spec.width, spec.height}
                             : Size{std::min(source.width, spec.width),
                                    std::min(source.height, spec.height)};
            break;
        case ResizeMode::fit: {
            // Width-limited when width/height >= spec.width/spec.height.
            const bool width_limited = std::int64_t{spec.width} * source.height <=
                                       std::int64_t{spec.height} * source.width;
            scaled =
                width_limited
                    ? Size{spec.width, scale_length(source.height, spec.width, source.width)}
                    : Size{scale_length(source.width, spec.height, source.height), spec.height};
            if (!upscale && scaled.width >= source.width) scaled = source;
            scaled.width = std::min(scaled.width, spec.width);
            scaled.height = std::min(scaled.height, spec.height);
            break;
        }
    }
    Layout layout{
        scaled, {0, 0, scaled.width, scaled.height}, scaled, {0, 0, scaled.width, scaled.height}};
    if (spec.mode == ResizeMode::crop) {
        const int width = std::min(spec.width, scaled.width);
        const int height = std::min(spec.height, scaled.height);
        layout.crop = {(scaled.width - width) / 2, (scaled.height - height) / 2, width, height};
        layout.output = {width, height};
        layout.content = {0, 0, width, height};
    } else if (spec.mode == ResizeMode::fit) {
        layout.output = {spec.width, spec.height};
        layout.content = {(spec.width - scaled.width) / 2, (spec.height - scaled.height) / 2,
                          scaled.width, scaled.height};
    }
    return layout;
}

Size oriented_size(Size stored, int orientation) {
    if (orientation >= 5 && orientation <= 8) return {stored.height, stored.width};
    return stored;
}

std::optional<Box> transform_box(const Box& box, Size stored, int orientation,
                                 const Layout& layout) {
    if (!(box.xmax > box.xmin && box.ymax > box.ymin)) return std::nullopt;
    const double width = stored.width;
    const double height = stored.height;
    double x0 = std::clamp<double>(box.xmin, 0, width);
    double y0 = std::clamp<double>(box.ymin, 0, height);
    double x1 = std::clamp<double>(box.xmax, 0, width);
    double y1 = std::clamp<double>(box.ymax, 0, height);
    // Each orientation maps the stored corner (x, y) to an upright point; a box's
    // corners stay opposite corners, so min/max afterwards rebuilds the box.
    auto upright = [&](double x, double y) -> std::pair<double, double> {
        switch (orientation) {
            case 2:
                return {width - x, y};
            case 3:
                return {width - x, height - y};
            case 4:
                return {x, height - y};
            case 5:
                return {y, x};
            case 6:
                return {height - y, x};
            case 7:
                return {height - y, width - x};
            case 8:
                return {y, width - x};
            default:
                return {x, y};
        }
    };
    const auto [ax, ay] = upright(x0, y0);
    const auto [bx, by] = upright(x1, y1);
    const Size source = oriented_size(stored, orientation);
    const double scale_x = static_cast<double>(layout.scaled.width) / source.width;
    const double scale_y = static_cast<double>(layout.scaled.height) / source.height;
    auto place = [](double value, double scale, int crop_start, int crop_length,
                    int content_start) {
        return std::clamp(value * scale - crop_start, 0.0, static_cast<double>(crop_length)) +
               content_start;
    };
    x0 = place(std::min(ax, bx), scale_x, layout.crop.x, layout.crop.width, layout.content.x);
    x1 = place(std::max(ax, bx), scale_x, layout.crop.x, layout.crop.width, layout.content.x);
    y0 = place(std::min(ay, by), scale_y, layout.crop.y, layout.crop.height, layout.content.y);
    y1 = place(std::max(ay, by), scale_y, layout.crop.y, layout.crop.height, layout.content.y);
    if (!(x1 > x0 && y1 > y0)) return std::nullopt;
    return Box{static_cast<float>(x0), static_cast<float>(y0), static_cast<float>(x1),
               static_cast<float>(y1)};
}

}  // namespace synshard::image
