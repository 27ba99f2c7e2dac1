#include "synshard/corpus/reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "synshard/util/fs.hpp"

namespace synshard::corpus {
namespace {

std::string over_cap(std::uint64_t size, std::uint64_t cap) {
    return std::to_string(size) + " bytes, over --max-member-bytes " + std::to_string(cap);
}

}  // namespace

PieceReader::PieceReader(std::span<const Item> items, std::uint64_t max_item_bytes)
    : items_(items), max_item_bytes_(max_item_bytes) {
    tar_ = !items_.empty() && !items_.front().member.empty();
    if (!tar_) return;
    for (const auto& item : items_) pending_.emplace(item.member, &item);
}

PieceReader::~PieceReader() = default;

std::optional<ReadItem> PieceReader::next() {
    if (tar_) return next_from_tar();
    if (next_index_ >= items_.size()) return std::nullopt;
    return read_file_item(items_[next_index_++]);
}

ReadItem PieceReader::read_file_item(const Item& item) const {
    ReadItem result{&item, {}, std::nullopt};
    const auto reject = [&](Reason reason, std::string detail) {
        result.rejection = Rejection{item.key, reason, std::move(detail)};
        return result;
    };
    const UniqueFd file(::open(item.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
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
    while (!archive_done_) {
        try {
            if (!archive_) archive_ = std::make_unique<ArchiveReader>(items_.front().path);
            const auto header = archive_->next();
            if (!header) {
                archive_done_ = true;
                archive_failure_ = "member no longer in the archive";
                break;
            }
            const auto found = pending_.find(header->path);
            if (found == pending_.end()) continue;  // not in this piece, or a repeated name
            const Item& item = *found->second;
            pending_.erase(found);
            ReadItem result{&item, {}, std::nullopt};
            const auto declared =
                static_cast<std::uint64_t>(std::max<std::int64_t>(header->declared_size, 0));
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
