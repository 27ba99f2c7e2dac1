#include "synshard/convert/record.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "synshard/util/error.hpp"

namespace synshard::convert {

void write_record(ByteWriter& writer, const ImageRecord& record) {
    writer.put_string(record.key);
    writer.put_string(record.synset);
    writer.put(record.label);
    writer.put<std::uint8_t>(record.val ? 1 : 0);
    writer.put(record.hash);
    writer.put(record.source_sha256);
    writer.put(record.source_height);
    writer.put(record.source_width);
    writer.put(record.height);
    writer.put(record.width);
    writer.put_vector(record.boxes);
    writer.put_vector(record.box_labels);
    writer.put_vector(record.data);
    writer.put(record.pixel_sums);
}

ImageRecord read_record(ByteReader& reader) {
    ImageRecord record;
    record.key = reader.get_string();
    record.synset = reader.get_string();
    record.label = reader.get<std::int32_t>();
    record.val = reader.get<std::uint8_t>() != 0;
    record.hash = reader.get<std::uint64_t>();
    record.source_sha256 = reader.get<Sha256Digest>();
    record.source_height = reader.get<std::int32_t>();
    record.source_width = reader.get<std::int32_t>();
    record.height = reader.get<std::int32_t>();
    record.width = reader.get<std::int32_t>();
    record.boxes = reader.get_vector<image::Box>();
    record.box_labels = reader.get_vector<std::int32_t>();
    record.data = reader.get_vector<std::uint8_t>();
    record.pixel_sums = reader.get<image::PixelStats>();
    return record;
}

Spool::Spool(std::filesystem::path path, Mode mode) : path_(std::move(path)) {
    if (mode == Mode::create) {
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) throw_system_error("creating spool " + path_.string(), errno);
        return;
    }
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw_system_error("opening spool " + path_.string(), errno);
}

void Spool::sync() {
    if (::fsync(fd_) != 0) throw_system_error("fsync " + path_.string(), errno);
}

Spool::~Spool() {
    if (fd_ >= 0) ::close(fd_);
}

SpoolEntry Spool::append(const ImageRecord& record) {
    auto& buffer = scratch_.buffer();
    buffer.clear();
    write_record(scratch_, record);
    std::size_t done = 0;
    while (done < buffer.size()) {
        const ssize_t written = ::pwrite(fd_, buffer.data() + done, buffer.size() - done,
                                         static_cast<off_t>(size_ + done));
        if (written < 0) {
            if (errno == EINTR) continue;
            throw_system_error("writing spool " + path_.string(), errno);
        }
        done += static_cast<std::size_t>(written);
    }
    const SpoolEntry entry{size_, buffer.size()};
    size_ += buffer.size();
    return entry;
}

void Spool::read_into(const SpoolEntry& entry, std::uint8_t* destination) const {
    std::size_t done = 0;
    while (done < entry.length) {
        const ssize_t got = ::pread(fd_, destination + done, entry.length - done,
                                    static_cast<off_t>(entry.offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) throw_system_error("reading spool " + path_.string(), got < 0 ? errno : EIO);
        done += static_cast<std::size_t>(got);
    }
}

void Spool::append_bytes_to(const SpoolEntry& entry, ByteWriter& writer) const {
    writer.put<std::uint64_t>(entry.length);
    auto& buffer = writer.buffer();
    const std::size_t start = buffer.size();
    buffer.resize(start + entry.length);
    read_into(entry, buffer.data() + start);
}

ImageRecord Spool::read(const SpoolEntry& entry) const {
    std::vector<std::uint8_t> bytes(entry.length);
    read_into(entry, bytes.data());
    ByteReader reader(bytes);
    return read_record(reader);
}

}  // namespace synshard::convert
