#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <future>
#include <utility>

#include "h5_internal.hpp"
#include "synshard/h5/h5.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::h5 {

// ---- File

namespace {

// mmap takes no empty mapping, which malloc(0) would give.
std::size_t mapped_length(std::size_t size) {
    return std::max<std::size_t>(size, 1);
}

void unmap_pages(std::uint8_t* pages, std::size_t size) noexcept {
    if (pages != nullptr) ::munmap(pages, mapped_length(size));
}

// The memory of the last file this thread let go of, for the next one it assembles: a
// fresh mapping's every page is faulted in and zeroed by the kernel (about 0.01 ms per
// image of a shard), reused ones are not. Each file's bytes are all written by HDF5,
// whatever the memory held before.
struct SparePages {
    std::uint8_t* pages = nullptr;
    std::size_t size = 0;

    SparePages() = default;
    SparePages(const SparePages&) = delete;
    SparePages& operator=(const SparePages&) = delete;
    ~SparePages() { unmap_pages(pages, size); }
};
thread_local SparePages spare;

// `pages`, a mapping of `mapped` bytes (none when null), grown to at least `size` bytes
// (moved where it cannot grow in place), or a fresh mapping; null when there is no memory
// for it, and `pages` is left as it was.
std::uint8_t* grow_pages(std::uint8_t* pages, std::size_t& mapped, std::size_t size) {
    if (pages != nullptr && size <= mapped) return pages;
    void* grown = pages != nullptr
                      ? ::mremap(pages, mapped_length(mapped), mapped_length(size), MREMAP_MAYMOVE)
                      : ::mmap(nullptr, mapped_length(size), PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (grown == MAP_FAILED) return nullptr;
    mapped = size;
    return static_cast<std::uint8_t*>(grown);
}

// Keeps the larger of `pages` and the spare for the next file, unmaps the other.
void let_go_of_pages(std::uint8_t* pages, std::size_t size) noexcept {
    if (pages == nullptr) return;
    if (spare.pages != nullptr && spare.size >= size) {
        unmap_pages(pages, size);
        return;
    }
    unmap_pages(spare.pages, spare.size);
    spare.pages = pages;
    spare.size = size;
}

}  // namespace

// HDF5's core driver allocates, grows and frees a created file's memory through these
// callbacks, so that the buffer it frees at close can be kept and handed over instead.
// The memory is an anonymous mapping: its pages are aligned as File::publish's O_DIRECT
// write needs, and growing it moves pages instead of copying the bytes.
struct File::Memory {
    std::uint8_t* buffer = nullptr;
    std::size_t allocated = 0;  // what HDF5 asked for
    std::size_t mapped = 0;     // the mapping's length, which may be more
    bool closed = false;        // HDF5 has closed the file and let go of `buffer`

    Memory() = default;
    Memory(const Memory&) = delete;
    Memory& operator=(const Memory&) = delete;
    ~Memory() { let_go_of_pages(buffer, mapped); }
};

namespace {

File::Memory& memory_of(void* user_data) {
    return *static_cast<File::Memory*>(user_data);
}

void* allocate_image(std::size_t size, H5FD_file_image_op_t /*operation*/, void* user_data) {
    File::Memory& memory = memory_of(user_data);
    let_go_of_pages(std::exchange(memory.buffer, nullptr), memory.mapped);
    std::uint8_t* const pages = std::exchange(spare.pages, nullptr);
    memory.mapped = std::exchange(spare.size, 0);
    memory.buffer = grow_pages(pages, memory.mapped, size);
    if (memory.buffer == nullptr) {
        let_go_of_pages(pages, memory.mapped);
        memory.mapped = 0;
    }
    memory.allocated = memory.buffer != nullptr ? size : 0;
    return memory.buffer;
}

void* reallocate_image(void* buffer, std::size_t size, H5FD_file_image_op_t operation,
                       void* user_data) {
    File::Memory& memory = memory_of(user_data);
    if (buffer == nullptr) return allocate_image(size, operation, user_data);
    if (buffer != memory.buffer) return nullptr;  // not this file's: HDF5 reports it
    std::uint8_t* const grown = grow_pages(memory.buffer, memory.mapped, size);
    if (grown == nullptr) return nullptr;  // HDF5 reports it; `buffer` stays valid
    memory.buffer = grown;
    memory.allocated = size;
    return grown;
}

void* copy_image(void* destination, const void* source, std::size_t size,
                 H5FD_file_image_op_t /*operation*/, void* /*user_data*/) {
    return std::memcpy(destination, source, size);
}

herr_t release_image(void* buffer, H5FD_file_image_op_t operation, void* user_data) {
    File::Memory& memory = memory_of(user_data);
    if (buffer == nullptr) return 0;
    if (buffer != memory.buffer) return -1;  // not this file's: HDF5 reports it
    if (operation == H5FD_FILE_IMAGE_OP_FILE_CLOSE) {
        memory.closed = true;  // kept for publish(); Memory lets go of it otherwise
        return 0;
    }
    let_go_of_pages(std::exchange(memory.buffer, nullptr), memory.mapped);
    memory.allocated = 0;
    memory.mapped = 0;
    return 0;
}

// The property lists holding the callbacks share the one Memory the File owns.
void* share_memory(void* user_data) {
    return user_data;
}
herr_t unshare_memory(void* /*user_data*/) {
    return 0;
}

// The end-of-file address a version 2 or 3 superblock (what kLowBound selects) records:
// HDF5's core driver keeps its buffer in whole growth increments, the file ends there.
std::size_t end_of_file(std::span<const std::uint8_t> image, const std::string& where) {
    constexpr std::array<std::uint8_t, 8> kSignature = {0x89, 'H',  'D',  'F',
                                                        '\r', '\n', 0x1a, '\n'};
    constexpr std::size_t kVersion = 8;
    constexpr std::size_t kOffsetSize = 9;
    constexpr std::size_t kEndOfFileAddress = 28;  // after base and extension addresses
    constexpr std::size_t kAddressBytes = 8;
    if (image.size() < kEndOfFileAddress + kAddressBytes ||
        !std::equal(kSignature.begin(), kSignature.end(), image.begin()) ||
        (image[kVersion] != 2 && image[kVersion] != 3) || image[kOffsetSize] != kAddressBytes) {
        throw Error(where + ": HDF5 wrote no version 2/3 superblock with 8-byte addresses");
    }
    std::uint64_t address = 0;
    for (std::size_t i = kAddressBytes; i-- > 0;) {
        address = (address << 8) | image[kEndOfFileAddress + i];
    }
    if (address > image.size()) {
        throw Error(where + ": the superblock's end of file (" + std::to_string(address) +
                    ") lies beyond the " + std::to_string(image.size()) + " bytes in memory");
    }
    return static_cast<std::size_t>(address);
}

// The core driver grows a file's memory by this much at a time.
constexpr std::size_t kMemoryIncrement = std::size_t{4} << 20;

}  // namespace

void FileImage::Release::operator()(std::uint8_t* pages) const noexcept {
    let_go_of_pages(pages, size);
}

File::File(hid_t id, std::string context, std::filesystem::path path,
           std::unique_ptr<Memory> memory)
    : Location(id, H5Fclose, std::move(context)),
      path_(std::move(path)),
      memory_(std::move(memory)) {}

// HDF5 hands the memory back while closing, so the file closes before memory_ goes.
// If it cannot close (ids in it leaked), HDF5 keeps the memory until its shutdown, and
// the callbacks then need their Memory: it is left to the process.
File::~File() {
    close_quietly();
    if (memory_ && memory_->buffer != nullptr && !memory_->closed) {
        static_cast<void>(memory_.release());
    }
}
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;

File File::create(const std::filesystem::path& path) {
    silence_automatic_printing();
    const std::string where = path.string();
    PropertyList creation = untimed_creation_list(H5P_FILE_CREATE, where);
    PropertyList access(H5P_FILE_ACCESS, where);
    check_status(H5Pset_libver_bounds(access.id(), kLowBound, kHighBound),
                 "setting the format bounds of " + where);
    // Closing the file fails while objects in it are open, instead of silently leaving
    // it open and unflushed: a successful close() means the file is complete.
    check_status(H5Pset_fclose_degree(access.id(), H5F_CLOSE_SEMI),
                 "setting the close degree of " + where);
    check_status(H5Pset_fapl_core(access.id(), kMemoryIncrement, /*backing_store=*/false),
                 "assembling " + where + " in memory");
    auto memory = std::make_unique<Memory>();
    H5FD_file_image_callbacks_t callbacks = {allocate_image, copy_image,   reallocate_image,
                                             release_image,  share_memory, unshare_memory,
                                             memory.get()};
    check_status(H5Pset_file_image_callbacks(access.id(), &callbacks),
                 "keeping the memory of " + where);
    const hid_t id = check_id(H5Fcreate(where.c_str(), H5F_ACC_TRUNC, creation.id(), access.id()),
                              "creating " + where);
    return File(id, where, path, std::move(memory));
}

void File::close() {
    if (!valid()) return;
    check_status(H5Fclose(id()), "closing " + context());
    release();
}

FileImage File::publish(const BytesWork& alongside) {
    if (!memory_) throw Error(context() + ": not a file made by File::create");
    close();
    if (!memory_->closed || memory_->buffer == nullptr) {
        throw Error(context() + ": HDF5 did not hand back the file's memory at close");
    }
    const std::size_t size = end_of_file({memory_->buffer, memory_->allocated}, context());
    FileImage image(std::unique_ptr<std::uint8_t, FileImage::Release>(
                        std::exchange(memory_->buffer, nullptr), {memory_->mapped}),
                    size);
    memory_.reset();
    const auto write = [&] {
        write_file_atomically(path_, image.bytes(),
                              {.leftover = LeftoverTemporary::replace, .cache = PageCache::bypass});
    };
    if (!alongside) {
        write();
        return image;
    }
    auto writing = std::async(std::launch::async, write);
    std::exception_ptr failed;
    try {
        alongside(image.bytes());
    } catch (...) {
        failed = std::current_exception();
    }
    writing.get();
    if (failed) std::rethrow_exception(failed);
    return image;
}

File File::open_read_only(const std::filesystem::path& path) {
    silence_automatic_printing();
    const std::string where = path.string();
    // Without HDF5's flock: outputs are never written in place (File::publish renames a
    // finished file), and the lock fails on read-only mounts and on parallel file systems
    // without flock (errno 37), or while another process holds one on the file.
    PropertyList access(H5P_FILE_ACCESS, where);
    check_status(H5Pset_file_locking(access.id(), false, true),
                 "disabling file locking of " + where);
    hid_t id = H5Fopen(where.c_str(), H5F_ACC_RDONLY, access.id());
    if (id < 0) {
        // HDF5 shares a file open twice in one process only with one locking setting: one
        // that h5py (the same library) holds open with its default locking opens so.
        id = H5Fopen(where.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    }
    return File(check_id(id, "opening " + where), where, path, nullptr);
}

}  // namespace synshard::h5
