#include "synshard/corpus/reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "synshard/corpus/archive_input.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::corpus {
namespace {

constexpr std::uint64_t kTarBlockBytes = 512;

std::string over_cap(std::uint64_t size, std::uint64_t cap) {
    return std::to_string(size) + " bytes, over --max-member-bytes " + std::to_string(cap);
}

// An input as every read opens it: O_NONBLOCK, so that an input turned into a FIFO is
// judged by its type instead of blocking the open. Invalid (errno set) when it fails.
UniqueFd open_input(const std::string& path) {
    return UniqueFd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
}

// Kept for the read; whatever fails is left for the read to report.
UniqueFd open_and_advise(const std::string& path, std::uint64_t max_item_bytes) {
    UniqueFd file = open_input(path);
    struct stat status {};
    if (file.get() < 0 || ::fstat(file.get(), &status) != 0 || !S_ISREG(status.st_mode)) {
        return file;
    }
    if (static_cast<std::uint64_t>(status.st_size) <= max_item_bytes) {
        ::posix_fadvise(file.get(), 0, 0, POSIX_FADV_WILLNEED);
    }
    return file;
}

}  // namespace

ByteSource& GzipArchives::open(const std::filesystem::path& archive,
                               const std::filesystem::path& gzip_index) {
    auto& bytes = open_[archive];
    if (!bytes) bytes = open_tar_bytes(archive, gzip_index);
    return *bytes;
}

PieceReader::PieceReader(std::span<const Item> items, std::uint64_t max_item_bytes,
                         const std::filesystem::path& gzip_index, GzipArchives* gzip_archives)
    : items_(items), max_item_bytes_(max_item_bytes) {
    if (!items_.empty() && items_.front().offset) {
        for (const auto& item : items_) by_offset_.push_back(&item);
        std::sort(by_offset_.begin(), by_offset_.end(),
                  [](const Item* a, const Item* b) { return *a->offset < *b->offset; });
        try {
            if (gzip_index.empty()) {
                auto file = std::make_unique<FileByteSource>(items_.front().path);
                archive_hints_ = file->fd();
                archive_file_ = std::move(file);
            } else if (gzip_archives != nullptr) {
                archive_bytes_ = &gzip_archives->open(items_.front().path, gzip_index);
            } else {
                archive_file_ = open_tar_bytes(items_.front().path, gzip_index);
            }
            if (archive_file_) archive_bytes_ = archive_file_.get();
        } catch (const ArchiveError& error) {
            archive_failure_ = error.what();
        }
        return;
    }
    tar_ = !items_.empty() && !items_.front().member.empty();
    if (!tar_) return;
    std::uint64_t piece_bytes = 0;
    for (const auto& item : items_) {
        pending_.emplace(item.member, &item);
        piece_bytes += item.size + kTarBlockBytes;
    }
    read_ahead_bytes_ = kReadAheadItems * (piece_bytes / items_.size());
}

PieceReader::~PieceReader() = default;

std::optional<ReadItem> PieceReader::next() {
    if (tar_) return next_from_tar();
    if (!by_offset_.empty()) {
        if (next_index_ >= by_offset_.size()) return std::nullopt;
        read_ahead_in_place();
        return read_in_place(*by_offset_[next_index_++]);
    }
    if (next_index_ >= items_.size()) return std::nullopt;
    read_ahead_files();
    const std::size_t index = next_index_++;
    return read_file_item(items_[index], std::move(opened_ahead_[index % opened_ahead_.size()]));
}

void PieceReader::read_ahead_files() {
    const std::size_t end = std::min(items_.size(), next_index_ + 1 + kReadAheadItems);
    for (advised_items_ = std::max(advised_items_, next_index_ + 1); advised_items_ < end;
         ++advised_items_) {
        opened_ahead_[advised_items_ % opened_ahead_.size()] =
            open_and_advise(items_[advised_items_].path, max_item_bytes_);
    }
}

void PieceReader::read_ahead_in_place() {
    if (archive_hints_ < 0) return;
    const std::size_t end = std::min(by_offset_.size(), next_index_ + 1 + kReadAheadItems);
    for (advised_items_ = std::max(advised_items_, next_index_ + 1); advised_items_ < end;
         ++advised_items_) {
        const Item& item = *by_offset_[advised_items_];
        if (item.size > max_item_bytes_) continue;
        ::posix_fadvise(archive_hints_, static_cast<off_t>(*item.offset),
                        static_cast<off_t>(item.size), POSIX_FADV_WILLNEED);
    }
}

ReadItem PieceReader::read_in_place(const Item& item) {
    ReadItem result{&item, {}, std::nullopt};
    if (archive_bytes_ == nullptr) {
        result.rejection = Rejection{item.key, Reason::archive_error, archive_failure_};
    } else if (item.size > max_item_bytes_) {
        result.rejection =
            Rejection{item.key, Reason::too_large, over_cap(item.size, max_item_bytes_)};
    } else {
        result.bytes.resize(item.size);
        try {
            const std::size_t got = archive_bytes_->read_at(*item.offset, result.bytes);
            if (got != item.size) {
                throw ArchiveError(item.path + ": member " + item.member + " ends after " +
                                   std::to_string(got) + " of " + std::to_string(item.size) +
                                   " bytes: the archive is shorter than when it was listed");
            }
        } catch (const ArchiveError& error) {
            result.bytes.clear();
            result.rejection = Rejection{item.key, Reason::archive_error, error.what()};
        }
    }
    return result;
}

void PieceReader::read_ahead_tar() {
    const std::uint64_t start = std::max(advised_bytes_, member_end_);
    const std::uint64_t end = member_end_ + read_ahead_bytes_;
    if (tar_hints_.get() < 0 || start >= end) return;
    ::posix_fadvise(tar_hints_.get(), static_cast<off_t>(start), static_cast<off_t>(end - start),
                    POSIX_FADV_WILLNEED);
    advised_bytes_ = end;
}

ReadItem PieceReader::read_file_item(const Item& item, UniqueFd file) const {
    ReadItem result{&item, {}, std::nullopt};
    const auto reject = [&](Reason reason, std::string detail) {
        result.rejection = Rejection{item.key, reason, std::move(detail)};
        return result;
    };
    if (file.get() < 0) file = open_input(item.path);
    if (file.get() < 0) {
        return reject(Reason::unreadable, std::string("open: ") + std::strerror(errno));
    }
    struct stat status {};
    if (::fstat(file.get(), &status) != 0) {
        return reject(Reason::unreadable, std::string("fstat: ") + std::strerror(errno));
    }
    if (!S_ISREG(status.st_mode)) return reject(Reason::not_a_file, "no longer a regular file");
    const auto size = static_cast<std::uint64_t>(status.st_size);
    if (size > max_item_bytes_) return reject(Reason::too_large, over_cap(size, max_item_bytes_));
    result.bytes.resize(size);
    std::size_t filled = 0;
    while (filled < result.bytes.size()) {
        const ssize_t got =
            ::read(file.get(), result.bytes.data() + filled, result.bytes.size() - filled);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            result.bytes.clear();
            return reject(Reason::unreadable, std::string("read: ") + std::strerror(errno));
        }
        if (got == 0) break;  // shrank since fstat: keep what is there
        filled += static_cast<std::size_t>(got);
    }
    result.bytes.resize(filled);
    return result;
}

std::optional<ReadItem> PieceReader::next_from_tar() {
    // Once every item was returned the rest of the archive holds nothing for this piece.
    while (!archive_done_ && !pending_.empty()) {
        try {
            if (!archive_) {
                archive_ = std::make_unique<ArchiveReader>(items_.front().path);
                tar_hints_ = open_input(items_.front().path);
            }
            const auto header = archive_->next();
            if (!header) {
                archive_done_ = true;
                archive_failure_ = "member no longer in the archive";
                break;
            }
            const auto declared =
                static_cast<std::uint64_t>(std::max<std::int64_t>(header->declared_size, 0));
            member_end_ +=
                kTarBlockBytes + (declared + kTarBlockBytes - 1) / kTarBlockBytes * kTarBlockBytes;
            const auto found = pending_.find(header->path);
            if (found == pending_.end()) continue;  // not in this piece, or a repeated name
            const Item& item = *found->second;
            pending_.erase(found);
            if (!pending_.empty()) read_ahead_tar();
            ReadItem result{&item, {}, std::nullopt};
            if (header->type != MemberHeader::Type::regular) {
                result.rejection =
                    Rejection{item.key, Reason::not_a_file, "no longer a regular member"};
            } else if (declared > max_item_bytes_) {
                result.rejection =
                    Rejection{item.key, Reason::too_large, over_cap(declared, max_item_bytes_)};
            } else {
                try {
                    result.bytes = archive_->read_data(header->declared_size);
                } catch (const ArchiveError& error) {
                    archive_done_ = true;
                    archive_failure_ = error.what();
                    result.rejection = Rejection{item.key, Reason::archive_error, error.what()};
                }
            }
            return result;
        } catch (const ArchiveError& error) {
            archive_done_ = true;
            archive_failure_ = error.what();
        }
    }
    // Whatever was not reached: in key order, each with the archive's failure.
    if (leftovers_.empty() && !pending_.empty()) {
        for (const auto& item : items_) {
            if (pending_.count(item.member) != 0) leftovers_.push_back(&item);
        }
        pending_.clear();
        next_index_ = 0;
    }
    if (next_index_ >= leftovers_.size()) return std::nullopt;
    const Item& item = *leftovers_[next_index_++];
    return ReadItem{&item, {}, Rejection{item.key, Reason::archive_error, archive_failure_}};
}

}  // namespace synshard::corpus
