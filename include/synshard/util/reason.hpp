#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synshard/util/bytes.hpp"

namespace synshard {

// The closed table of reasons an input does not reach a shard. Every stage uses it and
// docs/FORMAT.md lists it; the manifest records the spelling returned by to_string().
enum class Reason {
    // image pipeline
    empty,
    unreadable,
    unsupported_format,
    truncated,
    corrupt,
    too_large,
    too_small,
    // corpus
    not_a_file,
    unsafe_path,
    archive_error,
    unlabeled,
    unknown_class,
    class_too_small,
    over_class_cap,
    hidden,
    // converter
    duplicate,
};

// Every reason, in declaration order.
std::span<const Reason> all_reasons();

// "unsupported-format", "class-too-small", ...
std::string_view to_string(Reason reason);
std::optional<Reason> parse_reason(std::string_view text);

// Chosen cleanups (hidden, duplicate, class-too-small, over-class-cap) keep exit code 0;
// every other reason makes a completed run exit with 3.
bool is_chosen_cleanup(Reason reason);

// One input that did not reach a shard.
struct Rejection {
    std::string key;
    Reason reason;
    std::string detail;

    friend bool operator==(const Rejection&, const Rejection&) = default;
};

// The wire form of a list of rejections (between ranks, and in a spool's .done file).
void write_rejections(ByteWriter& writer, const std::vector<Rejection>& rejections);
// Throws Error when the bytes are torn.
std::vector<Rejection> read_rejections(ByteReader& reader);

}  // namespace synshard
