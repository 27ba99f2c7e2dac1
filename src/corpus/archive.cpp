#include "synshard/corpus/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "mtime.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::corpus {

// The descriptor outlives the reader that reads it (freed first, in the destructor body).
struct ArchiveReader::Handle {
    archive* reader = nullptr;
    UniqueFd fd;
    ~Handle() {
        if (reader != nullptr) archive_read_free(reader);
    }
};

ArchiveReader::ArchiveReader(const std::filesystem::path& path)
    : path_(path), handle_(std::make_unique<Handle>()) {
    handle_->fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (handle_->fd.get() < 0) {
        throw ArchiveError("cannot open " + path.string() + ": " + std::strerror(errno));
    }
    struct stat status {};
    if (::fstat(handle_->fd.get(), &status) != 0 || !S_ISREG(status.st_mode)) {
        throw ArchiveError(path.string() + " is not a regular file");
    }
    file_size_ = static_cast<std::uint64_t>(status.st_size);
    file_mtime_ns_ = mtime_ns(status);
    handle_->reader = archive_read_new();
    if (handle_->reader == nullptr) throw ArchiveError("archive_read_new failed");
    archive_read_support_filter_all(handle_->reader);
    archive_read_support_format_tar(handle_->reader);
    archive_read_support_format_gnutar(handle_->reader);
    constexpr std::size_t kReadBlockBytes = std::size_t{64} * 1024;
    if (archive_read_open_fd(handle_->reader, handle_->fd.get(), kReadBlockBytes) != ARCHIVE_OK) {
        fail("opening");
    }
}

ArchiveReader::~ArchiveReader() = default;

void ArchiveReader::fail(const std::string& doing) const {
    const char* message = archive_error_string(handle_->reader);
    throw ArchiveError(path_.string() + ": " + doing + ": " +
                       (message != nullptr && *message != '\0'
                            ? std::string(message)
                            : std::string("truncated or corrupt archive")));
}

std::optional<MemberHeader> ArchiveReader::next() {
    archive_entry* entry = nullptr;
    const int status = archive_read_next_header(handle_->reader, &entry);
    if (status == ARCHIVE_EOF) return std::nullopt;
    if (status != ARCHIVE_OK && status != ARCHIVE_WARN) fail("reading the next member header");
    MemberHeader header;
    const char* name = archive_entry_pathname(entry);
    header.path = name != nullptr ? name : "";
    header.declared_size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    if (archive_entry_mtime_is_set(entry)) {
        header.mtime_ns = std::int64_t{archive_entry_mtime(entry)} * 1'000'000'000 +
                          archive_entry_mtime_nsec(entry);
    }
    if (archive_entry_hardlink(entry) != nullptr) {
        header.type = MemberHeader::Type::hardlink;
    } else {
        switch (archive_entry_filetype(entry)) {
            case AE_IFREG:
                header.type = MemberHeader::Type::regular;
                break;
            case AE_IFDIR:
                header.type = MemberHeader::Type::directory;
                break;
            case AE_IFLNK:
                header.type = MemberHeader::Type::symlink;
                break;
            default:
                header.type = MemberHeader::Type::other;
                break;
        }
    }
    return header;
}

std::vector<std::uint8_t> ArchiveReader::read_data(std::int64_t declared_size) {
    std::vector<std::uint8_t> bytes(
        static_cast<std::size_t>(std::max<std::int64_t>(declared_size, 0)));
    std::size_t filled = 0;
    for (;;) {
        // One extra byte of room shows a member whose data is longer than declared.
        std::uint8_t spill = 0;
        void* target = filled < bytes.size() ? static_cast<void*>(bytes.data() + filled) : &spill;
        const std::size_t room = filled < bytes.size() ? bytes.size() - filled : 1;
        const la_ssize_t got = archive_read_data(handle_->reader, target, room);
        if (got < 0) fail("reading member data");
        if (got == 0) break;
        if (filled >= bytes.size()) {
            throw ArchiveError(path_.string() + ": member data longer than its declared size");
        }
        filled += static_cast<std::size_t>(got);
    }
    if (filled != bytes.size()) {
        throw ArchiveError(path_.string() + ": member data ends after " + std::to_string(filled) +
                           " of " + std::to_string(bytes.size()) + " declared bytes");
    }
    return bytes;
}

bool is_unsafe_member_path(const std::string& path) {
    if (path.empty() || path.front() == '/') return true;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        if (path.compare(start, end - start, "..") == 0 && end - start == 2) return true;
        start = end + 1;
    }
    return false;
}

}  // namespace synshard::corpus
