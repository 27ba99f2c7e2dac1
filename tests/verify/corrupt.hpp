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

// Flips every bit of one byte inside row `row`'s stored image bytes, found by their
// content in the file. Returns the file offset changed. An image may straddle two 64 KiB
// chunks, which need not be adjacent in the file, so a short window of the image's bytes
// is searched for, at a few places, and the byte in the middle of the first one found is
// flipped. Throws when no window is found.
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
    constexpr std::size_t kWindow = 64;
    for (const std::size_t start : {image.size() / 2, image.size() / 4, std::size_t{0}}) {
        if (image.size() < start + kWindow) continue;
        const auto found = std::search(
            file.begin(), file.end(), image.begin() + static_cast<std::ptrdiff_t>(start),
            image.begin() + static_cast<std::ptrdiff_t>(start + kWindow),
            [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
        if (found == file.end()) continue;
        const auto offset = static_cast<std::uint64_t>(found - file.begin()) + kWindow / 2;
        std::fstream out(shard, std::ios::binary | std::ios::in | std::ios::out);
        out.seekp(static_cast<std::streamoff>(offset));
        out.put(static_cast<char>(~file[offset]));
        if (!out.flush()) throw std::runtime_error("cannot write " + shard.string());
        return offset;
    }
    throw std::runtime_error("image bytes not found in " + shard.string());
}

}  // namespace synshard::testing
