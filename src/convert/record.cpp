#include "synshard/convert/record.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "synshard/util/error.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::convert {

void write_record(ByteWriter& writer, const ImageRecord& record) {
    const h5::SampleRow& sample = record.sample;
    writer.put_string(sample.key);
    writer.put_string(sample.synset);
    writer.put(sample.label);
    writer.put<std::uint8_t>(record.split == corpus::Split::val ? 1 : 0);
    writer.put(record.hash);
    writer.put(sample.source_sha256);
    writer.put(sample.source_height);
    writer.put(sample.source_width);
    writer.put(sample.height);
    writer.put(sample.width);
    writer.put_vector(sample.boxes);
    writer.put_vector(sample.box_labels);
    writer.put_bytes(sample.image);
    writer.put(record.pixel_sums);
}

ImageRecord read_record(ByteReader& reader) {
    std::span<const std::uint8_t> image;
    ImageRecord record = read_record_leaving_image(reader, image);
    record.sample.image.assign(image.begin(), image.end());
    return record;
}

ImageRecord read_record_leaving_image(ByteReader& reader, std::span<const std::uint8_t>& image) {
    ImageRecord record;
    h5::SampleRow& sample = record.sample;
    sample.key = reader.get_string();
    sample.synset = reader.get_string();
    sample.label = reader.get<std::int32_t>();
    record.split = reader.get<std::uint8_t>() != 0 ? corpus::Split::val : corpus::Split::train;
    record.hash = reader.get<std::uint64_t>();
    sample.source_sha256 = reader.get<Sha256Digest>();
    sample.source_height = reader.get<std::int32_t>();
    sample.source_width = reader.get<std::int32_t>();
    sample.height = reader.get<std::int32_t>();
    sample.width = reader.get<std::int32_t>();
    sample.boxes = reader.get_vector<image::Box>();
    sample.box_labels = reader.get_vector<std::int32_t>();
    image = reader.get_bytes();
    record.pixel_sums = reader.get<image::PixelStats>();
    return record;
}

namespace {

constexpr std::uint64_t kChecksumBytes = sizeof(std::uint64_t);

std::uint64_t file_size_of(int fd, const std::filesystem::path& path) {
    struct stat info {};
    if (::fstat(fd, &info) != 0) throw_system_error("stat " + path.string(), errno);
    return static_cast<std::uint64_t>(info.st_size);
}

}  // namespace

Spool::Spool(std::filesystem::path path, Mode mode)
    : path_(std::move(path)),
      fd_(mode == Mode::create ? open_checked(path_, O_RDWR | O_CREAT | O_TRUNC, 0644)
                               : open_checked(path_, O_RDONLY)) {
    if (mode == Mode::read) size_ = file_size_of(fd_.get(), path_);
}

SpoolEntry Spool::append(const ImageRecord& record) {
    auto& buffer = unwritten_.buffer();
    // A block and the record that completes it, most of the time without moving.
    if (buffer.capacity() == 0) buffer.reserve(2 * kWriteBlock);
    const std::size_t start = buffer.size();
    write_record(unwritten_, record);
    const SpoolEntry entry{size_ + start, buffer.size() - start};
    unwritten_.put(content_hash64(std::span(buffer).subspan(start)));
    const std::uint64_t blocks_end = (size_ + buffer.size()) / kWriteBlock * kWriteBlock;
    if (blocks_end > size_) write_unwritten(static_cast<std::size_t>(blocks_end - size_));
    return entry;
}

void Spool::flush() {
    write_unwritten(unwritten_.buffer().size());
    std::vector<std::uint8_t>().swap(unwritten_.buffer());
}

void Spool::write_unwritten(std::size_t bytes) {
    auto& buffer = unwritten_.buffer();
    write_at(fd_.get(), std::span(buffer).first(bytes), size_, path_);
    size_ += bytes;
    // After a block, what stays is the part of the last record past it.
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(bytes));
}

void Spool::read_checked(const SpoolEntry& entry, std::vector<std::uint8_t>& buffer) const {
    const auto failure = [&](const std::string& what) {
        return Error("spool " + path_.string() + ": the record at offset " +
                     std::to_string(entry.offset) + " " + what);
    };
    if (!unwritten_.buffer().empty())
        throw std::logic_error("spool " + path_.string() + " read before flush()");
    // Checked first, so that a damaged entry never sizes an allocation.
    const bool inside = entry.offset <= size_ && entry.length <= size_ - entry.offset &&
                        kChecksumBytes <= size_ - entry.offset - entry.length;
    if (!inside) throw failure("ends past the end of the file (the spool is truncated)");
    const std::size_t start = buffer.size();
    const std::uint64_t length = entry.length + kChecksumBytes;
    buffer.resize(start + length);
    std::uint8_t* const destination = buffer.data() + start;
    if (read_at(fd_.get(), std::span(destination, length), entry.offset, path_) < length)
        throw failure("ends past the end of the file (the spool is truncated)");
    std::uint64_t checksum = 0;
    std::memcpy(&checksum, destination + entry.length, kChecksumBytes);
    if (checksum != content_hash64(std::span(destination, entry.length)))
        throw failure("fails its checksum (the spool is corrupt)");
    buffer.resize(start + entry.length);
}

void Spool::append_bytes_to(const SpoolEntry& entry, ByteWriter& writer) const {
    writer.put<std::uint64_t>(entry.length);
    read_checked(entry, writer.buffer());
}

std::size_t Spool::bytes_appended_for(const SpoolEntry& entry) {
    return sizeof(std::uint64_t) + entry.length + kChecksumBytes;
}

ImageRecord Spool::read(const SpoolEntry& entry) const {
    std::vector<std::uint8_t> bytes;
    read_checked(entry, bytes);
    ByteReader reader(bytes);
    return read_record(reader);
}

}  // namespace synshard::convert
