#include "synshard/util/reason.hpp"

#include <array>
#include <utility>

namespace synshard {
namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 16> kNames{{
    {Reason::empty, "empty"},
    {Reason::unreadable, "unreadable"},
    {Reason::unsupported_format, "unsupported-format"},
    {Reason::truncated, "truncated"},
    {Reason::corrupt, "corrupt"},
    {Reason::too_large, "too-large"},
    {Reason::too_small, "too-small"},
    {Reason::not_a_file, "not-a-file"},
    {Reason::unsafe_path, "unsafe-path"},
    {Reason::archive_error, "archive-error"},
    {Reason::unlabeled, "unlabeled"},
    {Reason::unknown_class, "unknown-class"},
    {Reason::class_too_small, "class-too-small"},
    {Reason::over_class_cap, "over-class-cap"},
    {Reason::hidden, "hidden"},
    {Reason::duplicate, "duplicate"},
}};

// to_string() indexes kNames by the enum's value.
static_assert([] {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (static_cast<std::size_t>(kNames[i].first) != i) return false;
    }
    return true;
}());

constexpr std::array<Reason, kNames.size()> make_all() {
    std::array<Reason, kNames.size()> all{};
    for (std::size_t i = 0; i < kNames.size(); ++i) all[i] = kNames[i].first;
    return all;
}
constexpr auto kAll = make_all();

}  // namespace

std::span<const Reason> all_reasons() {
    return kAll;
}

std::string_view to_string(Reason reason) {
    return kNames[static_cast<std::size_t>(reason)].second;
}

std::optional<Reason> parse_reason(std::string_view text) {
    for (const auto& [reason, name] : kNames) {
        if (name == text) return reason;
    }
    return std::nullopt;
}

bool is_chosen_cleanup(Reason reason) {
    return reason == Reason::hidden || reason == Reason::duplicate ||
           reason == Reason::class_too_small || reason == Reason::over_class_cap;
}

void write_rejections(ByteWriter& writer, const std::vector<Rejection>& rejections) {
    writer.put<std::uint64_t>(rejections.size());
    for (const auto& rejection : rejections) {
        writer.put_string(rejection.key);
        writer.put<std::uint8_t>(static_cast<std::uint8_t>(rejection.reason));
        writer.put_string(rejection.detail);
    }
}

std::vector<Rejection> read_rejections(ByteReader& reader) {
    // Each rejection holds at least its two length prefixes and its reason.
    std::vector<Rejection> rejections(reader.get_count(2 * sizeof(std::uint64_t) + 1));
    for (auto& rejection : rejections) {
        rejection.key = reader.get_string();
        rejection.reason = static_cast<Reason>(reader.get<std::uint8_t>());
        rejection.detail = reader.get_string();
    }
    return rejections;
}

}  // namespace synshard
