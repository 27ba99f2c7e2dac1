#include "synshard/h5/format.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <vector>

#include "synshard/util/error.hpp"

namespace synshard::h5 {

bool is_readable_format_version(std::int64_t version) {
    return std::find(kReadableFormatVersions.begin(), kReadableFormatVersions.end(), version) !=
           kReadableFormatVersions.end();
}

std::string shard_file_name(std::string_view split, std::int64_t shard_index,
                            std::int64_t shard_count) {
    // Index and count share one width, so that the names sort in shard order.
    const int width = std::max<int>(5, static_cast<int>(std::to_string(shard_count).size()));
    char numbers[64];
    std::snprintf(numbers, sizeof numbers, "-%0*lld-of-%0*lld.h5", width,
                  static_cast<long long>(shard_index), width, static_cast<long long>(shard_count));
    return std::string(split) + numbers;
}

bool is_shard_file_name(std::string_view split, std::string_view name) {
    const auto digits = [&name](std::size_t at) {
        std::size_t count = 0;
        while (at + count < name.size() && name[at + count] >= '0' && name[at + count] <= '9')
            ++count;
        return count;
    };
    if (!name.starts_with(split) || name.substr(split.size(), 1) != "-") return false;
    std::size_t at = split.size() + 1;
    const std::size_t index_digits = digits(at);
    if (index_digits < 5 || name.substr(at + index_digits, 4) != "-of-") return false;
    at += index_digits + 4;
    const std::size_t count_digits = digits(at);
    return count_digits >= 5 && name.substr(at + count_digits) == ".h5";
}

std::string shard_relative_path(std::string_view split, std::int64_t shard_index,
                                std::int64_t shard_count) {
    return std::string(split) + "/" + shard_file_name(split, shard_index, shard_count);
}

SampleView SampleRow::view() const {
    return SampleView{key,    synset, label,         image, source_height, source_width,
                      height, width,  source_sha256, boxes, box_labels};
}

void SampleColumns::append(const SampleView& sample) {
    labels.push_back(sample.label);
    synsets.emplace_back(sample.synset);
    keys.emplace_back(sample.key);
    source_sha256.insert(source_sha256.end(), sample.source_sha256.begin(),
                         sample.source_sha256.end());
    source_sizes.insert(source_sizes.end(), {sample.source_height, sample.source_width});
    sizes.insert(sizes.end(), {sample.height, sample.width});
    for (const image::Box& box : sample.boxes) {
        bboxes.insert(bboxes.end(), {box.xmin, box.ymin, box.xmax, box.ymax});
    }
    bbox_labels.insert(bbox_labels.end(), sample.box_labels.begin(), sample.box_labels.end());
    bbox_offsets.push_back(bbox_labels.size());
}

SampleRow SampleColumns::row(std::uint64_t row) const {
    SampleRow sample;
    sample.key = keys[row];
    sample.synset = synsets[row];
    sample.label = labels[row];
    sample.source_height = source_sizes[2 * row];
    sample.source_width = source_sizes[2 * row + 1];
    sample.height = sizes[2 * row];
    sample.width = sizes[2 * row + 1];
    const std::size_t digest = sample.source_sha256.size();
    std::copy_n(source_sha256.begin() + static_cast<std::ptrdiff_t>(digest * row), digest,
                sample.source_sha256.begin());
    for (std::uint64_t box = bbox_offsets[row]; box < bbox_offsets[row + 1]; ++box) {
        sample.boxes.push_back(image::Box{bboxes[4 * box], bboxes[4 * box + 1], bboxes[4 * box + 2],
                                          bboxes[4 * box + 3]});
        sample.box_labels.push_back(bbox_labels[box]);
    }
    return sample;
}

Sha256Digest sha256_of_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw_system_error("opening " + path.string(), errno);
    Sha256 hasher;
    std::vector<char> block(1 << 20);
    while (in) {
        in.read(block.data(), static_cast<std::streamsize>(block.size()));
        const auto got = static_cast<std::size_t>(in.gcount());
        hasher.update(std::string_view(block.data(), got));
    }
    if (in.bad()) throw_system_error("reading " + path.string(), errno);
    return hasher.finish();
}

}  // namespace synshard::h5
