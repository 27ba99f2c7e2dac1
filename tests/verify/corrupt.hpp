#pragma once

// Damages finished shards the way a disk or a careless user would, for verify's tests.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "synshard/reader/shard_reader.hpp"

namespace synshard::testing {

// Flips every bit of one byte in the middle of row `row`'s stored image bytes, found by
// their content in the file. Returns the file offset changed. Throws when the image's
// bytes are not in the file contiguously (they always are: chunks are written in order
// and a chunk holds 64 KiB of consecutive image bytes, so pick a small image).
inline std::uint64_t flip_image_byte(const std::filesystem::path& shard, std::uint64_t row = 0) {
    std::vector<std::uint8_t> image;
    {
        const reader::ShardReader reader(shard);
        image = reader.read_image(row);
    }
    std::vector<char> file;
    {
        std::ifstream in(shard, std::ios::binary);
        file.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const auto found =
        std::search(file.begin(), file.end(), image.begin(), image.end(),
                    [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
    if (image.empty() || found == file.end()) {
        throw std::runtime_error("image bytes not found in " + shard.string());
    }
    const auto offset = static_cast<std::uint64_t>(found - file.begin()) + image.size() / 2;
    std::fstream out(shard, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(static_cast<std::streamoff>(offset));
    out.put(static_cast<char>(~file[offset]));
    if (!out.flush()) throw std::runtime_error("cannot write " + shard.string());
    return offset;
}

}  // namespace synshard::testing
