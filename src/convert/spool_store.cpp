#include <algorithm>
#include <cstdio>

#include "conversion.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::convert {

std::filesystem::path spool_root(const ConvertOptions& options) {
    const auto output = canonical_path(options.output).string();
    char name[32];
    std::snprintf(name, sizeof name, "synshard-%016llx",
                  static_cast<unsigned long long>(keyed_hash(0, output)));
    return options.scratch / name;
}

std::string source_folder_name(const std::string& source) {
    std::string name = source;
    std::replace(name.begin(), name.end(), '/', '_');
    return name;
}

void write_outcome(const std::filesystem::path& path, const PieceOutcome& outcome) {
    ByteWriter writer;
    writer.put<std::uint64_t>(outcome.images.size());
    for (const auto& [spool_file, key, image, sums] : outcome.images) {
        writer.put_string(spool_file);
        writer.put(image.entry);
        writer.put_string(key);
        writer.put(image.label);
        writer.put(image.split);
        writer.put(image.hash);
        writer.put(image.source_sha256);
        writer.put(sums);
    }
    write_rejections(writer, outcome.rejected);
    write_file_atomically(path, writer.buffer());
}

namespace {

PieceOutcome read_outcome_bytes(std::span<const std::uint8_t> bytes) {
    ByteReader reader(bytes);
    PieceOutcome outcome;
    // Each image holds at least its two strings' length prefixes and its fixed fields.
    outcome.images.resize(reader.get_count(2 * sizeof(std::uint64_t) + sizeof(SpoolEntry)));
    for (auto& [spool_file, key, image, sums] : outcome.images) {
        spool_file = reader.get_string();
        image.entry = reader.get<SpoolEntry>();
        key = reader.get_string();
        image.label = reader.get<std::int32_t>();
        image.split = reader.get<Split>();
        image.hash = reader.get<std::uint64_t>();
        image.source_sha256 = reader.get<Sha256Digest>();
        sums = reader.get<image::PixelStats>();
    }
    outcome.rejected = read_rejections(reader);
    if (!reader.at_end()) throw Error("bytes past the end of the outcome list");
    return outcome;
}

}  // namespace

PieceOutcome read_outcome(const std::filesystem::path& path) {
    const auto bytes = read_file(path);
    try {
        return read_outcome_bytes(bytes);
    } catch (const Error& error) {
        throw Error("reading " + path.string() + ": " + error.what() +
                    " (a torn outcome list: rerun with --restart)");
    }
}

std::uint32_t Conversion::open_spool(const std::filesystem::path& path, Spool::Mode mode) {
    const auto found = spool_index_.find(path);
    if (found != spool_index_.end()) {
        if (mode == Spool::Mode::create)
            throw Error("spool " + path.string() + " is already in use");
        return found->second;
    }
    const auto index = static_cast<std::uint32_t>(spools_.size());
    spools_.push_back(std::make_unique<Spool>(path, mode));
    spool_index_.emplace(path, index);
    return index;
}

}  // namespace synshard::convert
