#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "synshard/corpus/listing.hpp"
#include "synshard/image/box.hpp"

namespace synshard::corpus {

// A box with its class, in the source image's pixels (image::Box convention).
struct LabeledBox {
    image::Box box;
    // The box's class as a wnid (a class name in the annotation is resolved when it can
    // be); empty when it could not be resolved.
    std::string wnid;
    // The class's label, or -1 when the box's class is not a selected class.
    std::int32_t label = -1;

    friend bool operator==(const LabeledBox&, const LabeledBox&) = default;
};

// One planned image: everything the converter needs to read and place it.
struct Item {
    // "nXXXXXXXX/<file name>" (train, both layouts) or "val/<file name>".
    std::string key;
    std::string wnid;
    std::int32_t label = -1;
    Split split = Split::train;
    // Size in bytes (the file's, or the member's declared size).
    std::uint64_t size = 0;
    // The file to read, or the tar (or archive) holding the member.
    std::string path;
    // The member's path inside the tar; empty for a plain file.
    std::string member;
    // keyed_hash(seed, key) (util/hash.hpp).
    std::uint64_t hash = 0;
    // In the source image's pixels, already clamped to the annotation's <size>.
    std::vector<LabeledBox> boxes;
    // Set for a member read in place (a tar inside an archive given as the input): where
    // its `size` bytes start in the file at `path`.
    std::optional<std::uint64_t> offset;

    friend bool operator==(const Item&, const Item&) = default;
};

}  // namespace synshard::corpus
