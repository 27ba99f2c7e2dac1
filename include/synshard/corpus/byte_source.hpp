#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace synshard::corpus {

// Random access to the bytes of an archive as a tar reader sees them: a plain file read
// with pread, or a gzip stream entered at its nearest access point. The tar walker and
// the member reader see only this, so a plain and a gzipped outer archive are walked by
// the same code.
class ByteSource {
  public:
    virtual ~ByteSource() = default;

    // Fills `buffer` from `offset`; returns how many bytes were read, fewer only at the end
    // of the data. Throws ArchiveError (corpus/archive.hpp) naming the file on a read error
    // or corrupt data.
    virtual std::size_t read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) = 0;

    // The length of the (uncompressed) data.
    virtual std::uint64_t size() const = 0;

    // What error messages call it: the file's path.
    virtual const std::string& name() const = 0;
};

}  // namespace synshard::corpus
