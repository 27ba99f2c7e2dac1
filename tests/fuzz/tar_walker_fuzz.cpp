// libFuzzer entry: arbitrary bytes walked as a tar, whole and as an inner range (where an
// outer archive's member lies). Any crash, sanitizer report or exception other than
// ArchiveError is a bug; every member given must lie inside the range walked.

#include <cstdint>
#include <cstdlib>
#include <span>

#include "synshard/corpus/tar_walker.hpp"

namespace {

void walk(synshard::corpus::ByteSource& source, std::uint64_t begin, std::uint64_t end) {
    synshard::corpus::TarWalker walker(source, begin, end, "fuzz.tar");
    try {
        while (const auto member = walker.next()) {
            const auto size = static_cast<std::uint64_t>(member->header.declared_size);
            if (member->data_offset < begin || member->data_offset > end ||
                size > end - member->data_offset) {
                std::abort();
            }
        }
    } catch (const synshard::corpus::ArchiveError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    synshard::corpus::MemoryByteSource source(std::span(data, size), "fuzz.tar");
    walk(source, 0, size);
    // A range that starts one block in and stops short of the end, as an inner tar's.
    if (size > 1024) walk(source, 512, size - 100);
    return 0;
}
