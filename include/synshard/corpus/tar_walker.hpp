#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "synshard/corpus/archive.hpp"
#include "synshard/corpus/byte_source.hpp"

namespace synshard::corpus {

// One member of a tar as its headers declare it, and where its data lies in the source.
struct TarMember {
    MemberHeader header;
    // Where the member's first header block starts (a pax or GNU long-name header when it
    // has one) and where its data starts, both in the ByteSource's offsets.
    std::uint64_t header_offset = 0;
    std::uint64_t data_offset = 0;
};

// Walks the member headers of the tar held in bytes [begin, end) of a ByteSource, reading
// only headers (one read per plain member): what libarchive cannot tell, where a member's
// data starts, so that a member is read later with one read at that offset and an inner
// tar is walked in place. Pure logic over the ByteSource; no data is read.
//
// Understood: ustar (with its prefix field) and v7 headers, pax extended headers ('x':
// path, size, mtime; 'g' global ones are skipped), GNU long names ('L') and long link
// names ('K'), GNU base-256 numbers. The checksum of every header is verified. The tar
// ends at a zero block followed by another or by `end`, or at `end` itself between
// members. Anything else throws ArchiveError naming `name` and the offset (and the
// member when its header was read): a bad checksum, a typeflag that is neither a plain
// file, link, folder nor device (GNU sparse and multi-volume members, vendor types), a
// header cut short by `end`, a member whose data runs past `end`, a meta header with no
// member after it, a malformed pax record.
class TarWalker {
  public:
    // `name` is what messages call the tar ("train.tar", "train.tar: train/n01440764.tar").
    TarWalker(ByteSource& source, std::uint64_t begin, std::uint64_t end, std::string name);

    // The next member, or nullopt at the tar's end. After a throw the walk is over: every
    // later call throws the same error.
    std::optional<TarMember> next();

    // Where the next header is read: after the last member's padded data.
    std::uint64_t next_header() const { return next_header_; }

    // Meta headers larger than this (a pax header, a long name) are an ArchiveError: they
    // are read into memory whole.
    static constexpr std::uint64_t kMaxMetaBytes = std::uint64_t{1} << 20;

  private:
    [[noreturn]] void fail(std::uint64_t offset, const std::string& member,
                           const std::string& what);
    // Reads [offset, offset + bytes.size()) of the tar; false when `end` comes first.
    bool read_exact(std::uint64_t offset, std::span<std::uint8_t> bytes);
    std::string read_meta(std::uint64_t data_offset, std::uint64_t size, const std::string& what);

    ByteSource& source_;
    std::uint64_t next_header_;
    std::uint64_t end_;
    std::string name_;
    std::optional<std::string> failure_;
};

// A whole buffer as a ByteSource (named `name`): for fuzzing and tests of the walker.
class MemoryByteSource : public ByteSource {
  public:
    MemoryByteSource(std::span<const std::uint8_t> bytes, std::string name)
        : bytes_(bytes), name_(std::move(name)) {}
    std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) override;
    std::uint64_t size() const override { return bytes_.size(); }
    const std::string& name() const override { return name_; }

  private:
    std::span<const std::uint8_t> bytes_;
    std::string name_;
};

}  // namespace synshard::corpus
