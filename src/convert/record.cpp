#include "synshard/convert/record.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "synshard/util/error.hpp"

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
    writer.put_vector(sample.image);
    writer.put(record.pixel_sums);
}

ImageRecord read_record(ByteReader& reader) {
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
    sample.image = reader.get_vector<std::uint8_t>();
    record.pixel_sums = reader.get<image::PixelStats>();
    return record;
}

Spool::Spool(std::filesystem::path path, Mode mode)
    : path_(std::move(path)),
      fd_(mode == Mode::create ? open_checked(path_, O_RDWR | O_CREAT | O_TRUNC, 0644)
                               : open_checked(path_, O_RDONLY)) {}

void Spool::sync() {
    if (::fsync(fd_.get()) != 0) throw_system_error("fsync " + path_.string(), errno);
}

SpoolEntry Spool::append(const ImageRecord& record) {
    auto& buffer = scratch_.buffer();
    buffer.clear();
    write_record(scratch_, record);
    std::size_t done = 0;
    while (done < buffer.size()) {
        const ssize_t written = ::pwrite(fd_.get(), buffer.data() + done, buffer.size() - done,
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
        const ssize_t got = ::pread(fd_.get(), destination + done, entry.length - done,
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
