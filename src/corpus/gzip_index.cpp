#include "synshard/corpus/gzip_index.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <new>

#include "synshard/corpus/archive.hpp"
#include "synshard/corpus/file_byte_source.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/bytes.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::corpus {

namespace {

// How far deflate's back-references reach: the output an access point must keep.
constexpr std::size_t kWindowBytes = std::size_t{32} * 1024;
constexpr std::size_t kInputBytes = std::size_t{256} * 1024;
constexpr std::size_t kSkipBytes = std::size_t{64} * 1024;
// zlib's windowBits: 15, plus 16 to read gzip headers and trailers, negated for raw deflate
// (what an access point enters: the middle of a member, no header to parse).
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kRawWindowBits = -15;
// A gzip member ends with the CRC-32 and the length of its data, 4 bytes each.
constexpr std::size_t kGzipTrailerBytes = 8;

// An index file is the magic and the format version, the deflated windows one after the
// other, the table, and a trailer: the table's offset and length and the XXH3-64 of the
// magic, version, table, offset and length. The windows are written as the pass finds them
// and the table is known only at its end, hence the table last.
constexpr std::array<char, 16> kIndexMagic{'s', 'y', 'n', 's', 'h', 'a', 'r', 'd',
                                           '-', 'g', 'z', 'i', 'n', 'd', 'e', 'x'};
constexpr std::uint32_t kIndexVersion = 2;
constexpr std::size_t kIndexHeaderBytes = kIndexMagic.size() + sizeof(std::uint32_t);
constexpr std::size_t kIndexTrailerBytes = 3 * sizeof(std::uint64_t);
// What one point takes in the table: the smallest count of bytes a point is read from.
constexpr std::size_t kPointBytes = 8 + 8 + 1 + 8 + 4 + 8;

std::span<const std::uint8_t> index_magic() {
    return {reinterpret_cast<const std::uint8_t*>(kIndexMagic.data()), kIndexMagic.size()};
}

// A gzip file inflated from its start or from an access point. Member ends are crossed:
// the next member's header is read and its output follows on.
class Inflater {
  public:
    explicit Inflater(FileByteSource& file) : file_(file), input_(kInputBytes) {
        if (inflateInit2(&stream_, kGzipWindowBits) != Z_OK) throw std::bad_alloc();
    }
    ~Inflater() { inflateEnd(&stream_); }
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    void start_at_beginning() { restart(0, kGzipWindowBits); }

    // Raw deflate from the point's block, primed with the block's first bits (the high bits
    // of the byte before it) and the output its back-references may reach.
    void start_at(const GzipAccessPoint& point, std::span<const std::uint8_t> window) {
        restart(point.compressed_offset - (point.bits != 0 ? 1 : 0), kRawWindowBits);
        if (point.bits != 0) {
            refill();
            const int byte = *stream_.next_in;
            ++stream_.next_in;
            --stream_.avail_in;
            if (inflatePrime(&stream_, point.bits, byte >> (8 - point.bits)) != Z_OK)
                fail("cannot enter the stream");
        }
        if (!window.empty() && inflateSetDictionary(&stream_, window.data(),
                                                    static_cast<uInt>(window.size())) != Z_OK) {
            fail("cannot enter the stream");
        }
    }

    // Inflates into `out` with zlib's `flush`; the bytes produced: fewer than asked only at
    // the end of the data, or with Z_BLOCK at a block boundary (possibly none at all).
    std::size_t inflate(std::span<std::uint8_t> out, int flush) {
        stream_.next_out = out.data();
        stream_.avail_out = static_cast<uInt>(out.size());
        while (stream_.avail_out > 0 && !ended_) {
            if (stream_.avail_in == 0) refill();
            const int status = ::inflate(&stream_, flush);
            if (status == Z_STREAM_END) {
                next_member();
            } else if (status == Z_MEM_ERROR) {
                throw std::bad_alloc();
            } else if (status != Z_OK && status != Z_BUF_ERROR) {
                // zlib reads the next block's header once a block ends, even with no room
                // left: output asked for and given is good, the damage is for the next call
                // (the stream stays broken).
                if (stream_.avail_out == 0) break;
                fail(std::string("corrupt gzip data (") +
                     (stream_.msg != nullptr ? stream_.msg
                                             : "zlib error " + std::to_string(status)) +
                     ")");
            }
            if (flush == Z_BLOCK && (stream_.data_type & 128) != 0) break;
        }
        return out.size() - stream_.avail_out;
    }

    bool at_end() const { return ended_; }
    // Between two blocks of a member, the last block not yet reached: where an access
    // point can be (also just after a member's header).
    bool at_block_boundary() const {
        return (stream_.data_type & 128) != 0 && (stream_.data_type & 64) == 0;
    }
    // How many bits of the last byte taken belong to the next block.
    std::uint8_t unused_bits() const { return static_cast<std::uint8_t>(stream_.data_type & 7); }
    std::uint64_t compressed_offset() const { return next_read_ - stream_.avail_in; }
    // The output of the current member so far (zlib restarts the count at each member).
    std::uint64_t member_output() const { return stream_.total_out; }
    std::uint64_t bytes_read() const { return next_read_; }

  private:
    void restart(std::uint64_t compressed_offset, int window_bits) {
        if (inflateReset2(&stream_, window_bits) != Z_OK) fail("cannot restart inflating");
        raw_ = window_bits < 0;
        ended_ = false;
        next_read_ = compressed_offset;
        stream_.avail_in = 0;
    }

    void refill() {
        const auto got = next_read_ < file_.size() ? file_.read_at(next_read_, input_) : 0;
        if (got == 0) fail("truncated gzip data: the file ends inside a member");
        stream_.next_in = input_.data();
        stream_.avail_in = static_cast<uInt>(got);
        next_read_ += got;
    }

    // Past a member's end: the end of the data, or the next member's header.
    void next_member() {
        if (raw_) {
            // Entered mid-member, zlib never saw the header and stops before the trailer,
            // whose CRC covers output this stream did not see: skipped, not checked (the
            // pass that built the index checked it).
            for (std::size_t left = kGzipTrailerBytes; left > 0;) {
                if (stream_.avail_in == 0) refill();
                const auto step = std::min<std::size_t>(left, stream_.avail_in);
                stream_.next_in += step;
                stream_.avail_in -= static_cast<uInt>(step);
                left -= step;
            }
        }
        if (compressed_offset() == file_.size()) {
            ended_ = true;
            return;
        }
        if (inflateReset2(&stream_, kGzipWindowBits) != Z_OK) fail("cannot restart inflating");
        raw_ = false;
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw ArchiveError(file_.name() + ": " + what + " at compressed offset " +
                           std::to_string(compressed_offset()));
    }

    FileByteSource& file_;
    std::vector<std::uint8_t> input_;
    z_stream stream_{};
    std::uint64_t next_read_ = 0;
    bool raw_ = false;
    bool ended_ = false;
};

void write_table(ByteWriter& writer, const GzipIndex& index) {
    writer.put(index.compressed_size);
    writer.put(index.compressed_mtime_ns);
    writer.put(index.uncompressed_size);
    writer.put_string(index.damage);
    writer.put_string(index.appendix);
    writer.put<std::uint64_t>(index.points.size());
    for (const auto& point : index.points) {
        writer.put(point.uncompressed_offset);
        writer.put(point.compressed_offset);
        writer.put(point.bits);
        writer.put(point.window_offset);
        writer.put(point.window_size);
        writer.put(point.window_checksum);
    }
}

// The table read back into `index`, or false when it does not describe a well-formed
// index whose windows lie in [kIndexHeaderBytes, windows_end).
bool read_table(std::span<const std::uint8_t> table, std::uint64_t windows_end, GzipIndex& index) {
    ByteReader reader(table);
    index.compressed_size = reader.get<std::uint64_t>();
    index.compressed_mtime_ns = reader.get<std::int64_t>();
    index.uncompressed_size = reader.get<std::uint64_t>();
    index.damage = reader.get_string();
    index.appendix = reader.get_string();
    index.points.resize(reader.get_count(kPointBytes));
    const GzipAccessPoint* previous = nullptr;
    for (auto& point : index.points) {
        point.uncompressed_offset = reader.get<std::uint64_t>();
        point.compressed_offset = reader.get<std::uint64_t>();
        point.bits = reader.get<std::uint8_t>();
        point.window_offset = reader.get<std::uint64_t>();
        point.window_size = reader.get<std::uint32_t>();
        point.window_checksum = reader.get<std::uint64_t>();
        const bool in_order =
            previous == nullptr || (point.uncompressed_offset > previous->uncompressed_offset &&
                                    point.compressed_offset > previous->compressed_offset);
        if (!in_order || point.bits > 7 || (point.bits != 0 && point.compressed_offset == 0) ||
            point.compressed_offset > index.compressed_size ||
            point.uncompressed_offset > index.uncompressed_size ||
            point.window_offset < kIndexHeaderBytes || point.window_offset > windows_end ||
            point.window_size > windows_end - point.window_offset) {
            return false;
        }
        previous = &point;
    }
    return reader.at_end();
}

// The index file while the pass writes it: published under its name only once whole, and
// removed when the pass fails.
class IndexFileWriter {
  public:
    explicit IndexFileWriter(const std::filesystem::path& path)
        : file_(path, leftover_if_it_begins_with(temporary_path_for(path), index_magic())) {
        ByteWriter header;
        header.put(kIndexMagic);
        header.put(kIndexVersion);
        file_.write(header.buffer());
    }

    // Appends the window deflated, and records where in `point`.
    void add_window(GzipAccessPoint& point, std::span<const std::uint8_t> window) {
        uLongf size = compressBound(static_cast<uLong>(window.size()));
        deflated_.resize(size);
        if (compress2(deflated_.data(), &size, window.data(), static_cast<uLong>(window.size()),
                      Z_DEFAULT_COMPRESSION) != Z_OK) {
            throw std::bad_alloc();
        }
        const auto bytes = std::span(deflated_).first(size);
        point.window_offset = file_.written();
        point.window_size = static_cast<std::uint32_t>(size);
        point.window_checksum = content_hash64(bytes);
        file_.write(bytes);
    }

    // Writes the table and the trailer and publishes the file; the table's digest.
    std::string finish(const GzipIndex& index) {
        ByteWriter checked;
        checked.reserve(kIndexHeaderBytes + 6 * sizeof(std::uint64_t) + index.damage.size() +
                        index.appendix.size() + kPointBytes * index.points.size() +
                        kIndexTrailerBytes);
        checked.put(kIndexMagic);
        checked.put(kIndexVersion);
        const std::size_t table_begin = checked.buffer().size();
        write_table(checked, index);
        const std::span table = std::span(checked.buffer()).subspan(table_begin);
        std::string digest = content_digest(table);
        const std::uint64_t table_offset = file_.written();
        const std::uint64_t table_length = table.size();
        checked.put(table_offset);
        checked.put(table_length);
        const auto checksum = content_hash64(checked.buffer());
        checked.put(checksum);
        file_.write(std::span(checked.buffer()).subspan(table_begin));
        file_.publish();
        return digest;
    }

  private:
    AtomicFileWriter file_;
    std::vector<std::uint8_t> deflated_;
};

// The last kWindowBytes of output, kept in a ring the inflater writes into.
class WindowRing {
  public:
    // Where the next output goes: the rest of the ring, never empty.
    std::span<std::uint8_t> room() { return std::span(ring_).subspan(at_); }
    void advance(std::size_t produced) {
        at_ += produced;
        if (at_ == ring_.size()) {
            at_ = 0;
            full_ = true;
        }
    }
    // The window in output order (shorter than kWindowBytes near the data's start).
    std::span<const std::uint8_t> window() {
        if (!full_) return std::span(ring_).first(at_);
        std::rotate(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(at_), ring_.end());
        at_ = 0;
        return ring_;
    }

  private:
    std::vector<std::uint8_t> ring_ = std::vector<std::uint8_t>(kWindowBytes);
    std::size_t at_ = 0;
    bool full_ = false;
};

// The pass that builds an index, a step at a time: inflates front to back, setting an
// access point (its window saved) at the first block boundary after every span of output.
class IndexPass {
  public:
    IndexPass(const std::filesystem::path& gz_path, const std::filesystem::path& index_path,
              std::uint64_t span_bytes, const std::function<void(std::uint64_t)>& on_progress)
        : file_(gz_path),
          writer_(index_path),
          inflater_(file_),
          span_bytes_(span_bytes),
          on_progress_(on_progress) {
        index_.file = index_path;
        index_.compressed_size = file_.size();
        index_.compressed_mtime_ns = file_.mtime_ns();
        inflater_.start_at_beginning();
    }

    // The output of one step (in the ring: valid until the next step); empty once done.
    std::span<const std::uint8_t> step() {
        if (done()) return {};
        std::size_t produced = 0;
        try {
            produced = inflater_.inflate(ring_.room(), Z_BLOCK);
        } catch (const ArchiveError& error) {
            index_.damage = error.what();
            // A failed check clears nothing of the member: none of its output is kept.
            const std::string_view message = error.what();
            if (message.find("incorrect data check") != std::string_view::npos ||
                message.find("incorrect length check") != std::string_view::npos) {
                output_ = member_start_;
                std::erase_if(index_.points, [&](const GzipAccessPoint& point) {
                    return point.uncompressed_offset > output_;
                });
            }
            return {};
        }
        std::span<const std::uint8_t> bytes = ring_.room().first(produced);
        ring_.advance(produced);
        output_ += produced;
        member_start_ = output_ - inflater_.member_output();
        const bool span_done = index_.points.empty() ||
                               output_ - index_.points.back().uncompressed_offset >= span_bytes_;
        if (inflater_.at_block_boundary() && span_done) {
            // Taking the window turns the ring in place: the step's output moves first.
            produced_.assign(bytes.begin(), bytes.end());
            bytes = produced_;
            GzipAccessPoint point;
            point.uncompressed_offset = output_;
            point.compressed_offset = inflater_.compressed_offset();
            point.bits = inflater_.unused_bits();
            writer_.add_window(point, ring_.window());
            index_.points.push_back(point);
        }
        if (on_progress_ && inflater_.bytes_read() != reported_) {
            reported_ = inflater_.bytes_read();
            on_progress_(reported_);
        }
        return bytes;
    }

    bool done() const { return inflater_.at_end() || !index_.damage.empty(); }
    std::uint64_t output() const { return output_; }
    const std::string& name() const { return file_.name(); }

    // Runs the pass to its end and publishes the index with the appendix.
    GzipIndex finish(std::string appendix) {
        while (!done()) step();
        index_.uncompressed_size = output_;
        index_.appendix = std::move(appendix);
        index_.digest = writer_.finish(index_);
        return std::move(index_);
    }

  private:
    FileByteSource file_;
    IndexFileWriter writer_;
    Inflater inflater_;
    WindowRing ring_;
    std::vector<std::uint8_t> produced_;
    std::uint64_t span_bytes_;
    const std::function<void(std::uint64_t)>& on_progress_;
    GzipIndex index_;
    std::uint64_t output_ = 0;
    std::uint64_t member_start_ = 0;  // where the current gzip member's output starts
    std::uint64_t reported_ = 0;
};

// The pass's output read as it comes: only what lies at or after the last read's start is
// kept, so a walk that reads forward holds a few blocks at a time.
class PassByteSource : public GzipPassSource {
  public:
    explicit PassByteSource(IndexPass& pass) : pass_(pass) {}

    std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) override {
        forget_before(offset);
        fill_to(offset + buffer.size());
        const std::size_t got = std::min(buffer.size(), kept_.size());
        std::copy_n(kept_.begin(), got, buffer.begin());
        return got;
    }
    std::uint64_t size() const override { return ~std::uint64_t{0}; }
    const std::string& name() const override { return pass_.name(); }

    bool ends_at(std::uint64_t offset) override {
        forget_before(offset);
        fill_to(offset + 1);
        return pass_.done() && pass_.output() == offset;
    }

  private:
    // Nothing before offset is read again: what is kept of it goes.
    void forget_before(std::uint64_t offset) {
        if (offset < kept_start_)
            throw Error(name() + ": a read during the index's pass went backwards");
        const auto drop =
            static_cast<std::size_t>(std::min<std::uint64_t>(offset - kept_start_, kept_.size()));
        kept_.erase(kept_.begin(), kept_.begin() + static_cast<std::ptrdiff_t>(drop));
        kept_start_ = offset;
    }

    // Steps the pass until its output reaches `end` or it is done, keeping the output from
    // kept_start_ on.
    void fill_to(std::uint64_t end) {
        while (pass_.output() < end && !pass_.done()) {
            const auto bytes = pass_.step();
            const std::uint64_t bytes_start = pass_.output() - bytes.size();
            const std::uint64_t keep_from = std::max(kept_start_ + kept_.size(), bytes_start);
            if (keep_from >= pass_.output()) continue;
            const auto skip = static_cast<std::ptrdiff_t>(keep_from - bytes_start);
            kept_.insert(kept_.end(), bytes.begin() + skip, bytes.end());
        }
    }

    IndexPass& pass_;
    std::uint64_t kept_start_ = 0;
    std::vector<std::uint8_t> kept_;
};

}  // namespace

GzipIndex build_gzip_index(const std::filesystem::path& gz_path,
                           const std::filesystem::path& index_path, std::uint64_t span_bytes,
                           const std::function<void(std::uint64_t)>& on_progress,
                           const std::function<std::string(GzipPassSource&)>& make_appendix) {
    if (span_bytes == 0) throw Error("the span between gzip access points must not be 0");
    IndexPass pass(gz_path, index_path, span_bytes, on_progress);
    std::string appendix;
    if (make_appendix) {
        PassByteSource source(pass);
        appendix = make_appendix(source);
    }
    return pass.finish(std::move(appendix));
}

std::optional<GzipIndex> load_gzip_index(const std::filesystem::path& index_path,
                                         const std::filesystem::path& gz_path) {
    std::optional<FileByteSource> gz;
    std::optional<FileByteSource> file;
    try {
        gz.emplace(gz_path);
        file.emplace(index_path);
    } catch (const ArchiveError&) {
        return std::nullopt;  // missing, unreadable or not a regular file
    }
    const auto file_size = file->size();
    if (file_size < kIndexHeaderBytes + kIndexTrailerBytes) return std::nullopt;

    std::array<std::uint8_t, kIndexHeaderBytes> header{};
    std::array<std::uint8_t, kIndexTrailerBytes> trailer{};
    if (file->read_at(0, header) != header.size() ||
        file->read_at(file_size - trailer.size(), trailer) != trailer.size()) {
        return std::nullopt;
    }
    ByteReader header_reader(header);
    if (header_reader.get<std::array<char, 16>>() != kIndexMagic ||
        header_reader.get<std::uint32_t>() != kIndexVersion) {
        return std::nullopt;
    }
    ByteReader trailer_reader(trailer);
    const auto table_offset = trailer_reader.get<std::uint64_t>();
    const auto table_length = trailer_reader.get<std::uint64_t>();
    const auto checksum = trailer_reader.get<std::uint64_t>();
    const std::uint64_t table_end = file_size - trailer.size();
    if (table_offset < kIndexHeaderBytes || table_offset > table_end ||
        table_length != table_end - table_offset) {
        return std::nullopt;
    }

    ByteWriter checked;
    checked.put(header);
    checked.buffer().resize(header.size() + table_length);
    const auto table = std::span(checked.buffer()).subspan(header.size());
    if (file->read_at(table_offset, table) != table.size()) return std::nullopt;
    checked.put(table_offset);
    checked.put(table_length);
    if (content_hash64(checked.buffer()) != checksum) return std::nullopt;

    GzipIndex index;
    index.file = index_path;
    try {
        if (!read_table(std::span(checked.buffer()).subspan(header.size(), table_length),
                        table_offset, index)) {
            return std::nullopt;
        }
    } catch (const Error&) {
        return std::nullopt;  // a table that ends early: the checksum's 1-in-2^64 miss
    }
    if (index.compressed_size != gz->size() || index.compressed_mtime_ns != gz->mtime_ns()) {
        return std::nullopt;
    }
    index.digest = content_digest(std::span(checked.buffer()).subspan(header.size(), table_length));
    return index;
}

struct GzipByteSource::Stream {
    FileByteSource gzip_file;
    FileByteSource index_file;
    Inflater inflater;
    // Whether the inflater stands at `position` of the output.
    bool open = false;
    std::uint64_t position = 0;
    std::vector<std::uint8_t> window;
    std::vector<std::uint8_t> skipped;

    Stream(const std::filesystem::path& gz_path, const std::filesystem::path& index_path)
        : gzip_file(gz_path), index_file(index_path), inflater(gzip_file) {}
};

GzipByteSource::GzipByteSource(const std::filesystem::path& gz_path, GzipIndex index)
    : index_(std::move(index)),
      name_(gz_path.string()),
      stream_(std::make_unique<Stream>(gz_path, index_.file)) {
    if (stream_->gzip_file.size() != index_.compressed_size ||
        stream_->gzip_file.mtime_ns() != index_.compressed_mtime_ns) {
        throw ArchiveError(name_ + " changed since its index " + index_.file.string() +
                           " was built (its size or modification time differ)");
    }
}

GzipByteSource::~GzipByteSource() = default;

std::uint64_t GzipByteSource::size() const {
    return index_.uncompressed_size;
}

const std::string& GzipByteSource::name() const {
    return name_;
}

std::size_t GzipByteSource::read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) {
    if (offset >= index_.uncompressed_size || buffer.empty()) return 0;
    const auto wanted = static_cast<std::size_t>(
        std::min<std::uint64_t>(buffer.size(), index_.uncompressed_size - offset));
    auto& stream = *stream_;
    // The last point at or before the offset; none before the first point (a file whose
    // first member is one block has no point there), where the stream starts at the top.
    const auto after =
        std::upper_bound(index_.points.begin(), index_.points.end(), offset,
                         [](std::uint64_t wanted_offset, const GzipAccessPoint& point) {
                             return wanted_offset < point.uncompressed_offset;
                         });
    const GzipAccessPoint* entry = after == index_.points.begin() ? nullptr : &*(after - 1);
    const std::uint64_t entry_offset = entry != nullptr ? entry->uncompressed_offset : 0;
    stream.open = stream.open && stream.position <= offset && stream.position >= entry_offset;
    try {
        if (!stream.open) {
            if (entry != nullptr) {
                read_window(*entry, static_cast<std::size_t>(entry - index_.points.data()));
                stream.inflater.start_at(*entry, stream.window);
            } else {
                stream.inflater.start_at_beginning();
            }
            stream.position = entry_offset;
            stream.open = true;
        }
        stream.skipped.resize(kSkipBytes);
        while (stream.position < offset) {
            const auto step = static_cast<std::size_t>(
                std::min<std::uint64_t>(stream.skipped.size(), offset - stream.position));
            stream.position += inflate_some(std::span(stream.skipped).first(step));
        }
        std::size_t filled = 0;
        while (filled < wanted) {
            const auto produced = inflate_some(buffer.subspan(filled, wanted - filled));
            filled += produced;
            stream.position += produced;
        }
        return filled;
    } catch (...) {
        stream.open = false;
        throw;
    }
}

std::size_t GzipByteSource::inflate_some(std::span<std::uint8_t> out) {
    const auto produced = stream_->inflater.inflate(out, Z_NO_FLUSH);
    if (produced < out.size() && stream_->inflater.at_end()) {
        throw ArchiveError(name_ + ": the data ends at uncompressed offset " +
                           std::to_string(stream_->position + produced) + ", before the " +
                           std::to_string(index_.uncompressed_size) +
                           " bytes its index records (the file was rewritten in place)");
    }
    return produced;
}

void GzipByteSource::read_window(const GzipAccessPoint& point, std::size_t number) {
    const auto corrupt = [&](const std::string& what) {
        return ArchiveError(index_.file.string() + ": the window of access point " +
                            std::to_string(number) + " " + what +
                            " (the index is corrupt: remove it to build it again)");
    };
    auto& stream = *stream_;
    std::vector<std::uint8_t> deflated(point.window_size);
    if (stream.index_file.read_at(point.window_offset, deflated) != deflated.size() ||
        content_hash64(deflated) != point.window_checksum) {
        throw corrupt("fails its checksum");
    }
    const auto expected = std::min<std::uint64_t>(point.uncompressed_offset, kWindowBytes);
    stream.window.resize(kWindowBytes);
    uLongf size = kWindowBytes;
    if (uncompress(stream.window.data(), &size, deflated.data(), deflated.size()) != Z_OK ||
        size != expected) {
        throw corrupt("does not inflate to its " + std::to_string(expected) + " bytes");
    }
    stream.window.resize(size);
}

}  // namespace synshard::corpus
