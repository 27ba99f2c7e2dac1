#include <fcntl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "conversion.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::convert {

std::string source_folder_name(const std::string& source) {
    std::string name = source;
    std::replace(name.begin(), name.end(), '/', '_');
    return name;
}

namespace {

// An outcome list is kOutcomeMagic, the format version (u32), the content's length (u64),
// the content, and the XXH3-64 of everything before it. Lists of earlier builds have no
// magic: they are told apart, never misread.
constexpr std::array<char, 16> kOutcomeMagic{'s', 'y', 'n', 's', 'h', 'a', 'r', 'd',
                                             '-', 'o', 'u', 't', 'c', 'o', 'm', 'e'};
constexpr std::uint32_t kOutcomeVersion = 1;
constexpr std::size_t kOutcomeHeaderBytes =
    kOutcomeMagic.size() + sizeof(std::uint32_t) + sizeof(std::uint64_t);

void write_outcome_content(ByteWriter& writer, const PieceOutcome& outcome) {
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
}

PieceOutcome read_outcome_content(std::span<const std::uint8_t> bytes) {
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

// The content of a whole, intact list of this build; Error saying what is wrong otherwise.
std::span<const std::uint8_t> outcome_content(std::span<const std::uint8_t> bytes) {
    const std::string_view expected(kOutcomeMagic.data(), kOutcomeMagic.size());
    const auto magic = std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                        std::min(bytes.size(), expected.size()));
    if (magic != expected) {
        throw Error(expected.starts_with(magic)
                        ? "truncated (" + std::to_string(bytes.size()) + " bytes)"
                        : "not an outcome list of this build (an earlier build wrote it, or "
                          "it is damaged)");
    }
    if (bytes.size() < kOutcomeHeaderBytes)
        throw Error("truncated (" + std::to_string(bytes.size()) + " bytes)");
    ByteReader header(bytes.subspan(kOutcomeMagic.size()));
    const auto version = header.get<std::uint32_t>();
    if (version != kOutcomeVersion) {
        throw Error("format version " + std::to_string(version) + ", this build reads version " +
                    std::to_string(kOutcomeVersion));
    }
    const auto length = header.get<std::uint64_t>();
    const std::size_t left = bytes.size() - kOutcomeHeaderBytes;
    if (length > left || left - length != sizeof(std::uint64_t)) {
        throw Error(length < left
                        ? "longer than its header says"
                        : "truncated (" + std::to_string(bytes.size()) + " of " +
                              std::to_string(kOutcomeHeaderBytes + length + sizeof(std::uint64_t)) +
                              " bytes)");
    }
    const auto checked = bytes.first(kOutcomeHeaderBytes + length);
    std::uint64_t checksum = 0;
    std::memcpy(&checksum, bytes.data() + checked.size(), sizeof checksum);
    if (checksum != content_hash64(checked)) throw Error("fails its checksum (it is corrupt)");
    return checked.subspan(kOutcomeHeaderBytes);
}

// Outcome lists are scratch, as the spools are, and are not fsynced (an fsync of the list
// and one of its folder per piece of ~100 images cost ~0.1 ms of wall time per image): a
// list a crash leaves short or zeroed fails its magic, length or checksum, is discarded,
// and its piece is processed again. The rename alone keeps a list from being read while
// it is written.
void publish_outcome_bytes(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
    const std::filesystem::path temporary = temporary_path_for(path);
    try {
        UniqueFd fd = open_checked(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        write_all(fd.get(), bytes.data(), bytes.size(), temporary);
        fd.close_checked(temporary);
        if (::rename(temporary.c_str(), path.c_str()) != 0)
            throw_system_error("renaming " + temporary.string() + " to " + path.string(), errno);
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
    }
}

}  // namespace

void write_outcome(const std::filesystem::path& path, const PieceOutcome& outcome) {
    ByteWriter writer;
    // Room for the images' fixed fields and short strings, at once.
    writer.reserve(kOutcomeHeaderBytes + 192 * (outcome.images.size() + outcome.rejected.size()));
    writer.put(kOutcomeMagic);
    writer.put(kOutcomeVersion);
    writer.put<std::uint64_t>(0);  // the content's length, once written
    write_outcome_content(writer, outcome);
    auto& bytes = writer.buffer();
    const std::uint64_t length = bytes.size() - kOutcomeHeaderBytes;
    std::memcpy(bytes.data() + kOutcomeHeaderBytes - sizeof length, &length, sizeof length);
    writer.put(content_hash64(bytes));
    publish_outcome_bytes(path, bytes);
}

PieceOutcome read_outcome(const std::filesystem::path& path) {
    const auto bytes = read_file(path);
    try {
        return read_outcome_content(outcome_content(bytes));
    } catch (const Error& error) {
        throw Error("outcome list " + path.string() + ": " + error.what());
    }
}

void discard_outcome_lists_using(const std::filesystem::path& spool) noexcept {
    std::error_code error;
    for (std::filesystem::directory_iterator it(spool.parent_path(), error), end;
         !error && it != end; it.increment(error)) {
        if (it->path().extension() != ".done") continue;
        try {
            const auto outcome = read_outcome(it->path());
            const bool uses = std::any_of(
                outcome.images.begin(), outcome.images.end(),
                [&](const auto& image) { return image.spool_file == spool.filename(); });
            std::error_code ignored;  // gone already: nothing to discard
            if (uses) std::filesystem::remove(it->path(), ignored);
        } catch (...) {
            // Damaged itself: the next run discards it when it reads it.
        }
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
