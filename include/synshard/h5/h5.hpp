#pragma once

// A small RAII layer over the HDF5 C API. Every handle owns one hid_t and closes it in
// its destructor without throwing; every C call is checked, and a failure throws
// synshard::Error whose text is "<context>: <HDF5's error stack, innermost last>", where
// the context names the file and object ("opening /out/train/x.h5", "/out/x.h5:/labels").
//
// Files are written for byte-identical output: object time tracking is off on every
// object, the library format bounds are fixed (kLowBound/kHighBound), and every dataset
// is chunked with an explicit zero fill value, so nothing in a file depends on the clock,
// the process or HDF5's cache settings.

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace synshard::h5 {

// The format bounds every file is created with: objects readable by HDF5 1.8 and later
// (v2 object headers with checksums, v1 B-tree chunk indexes), with 1.10 features
// (virtual datasets) allowed where used.
inline constexpr H5F_libver_t kLowBound = H5F_LIBVER_V18;
inline constexpr H5F_libver_t kHighBound = H5F_LIBVER_V110;

// Throws Error("<context>: <HDF5 error stack>"). Clears the stack.
[[noreturn]] void throw_error(const std::string& context);

// Returns id, or throws (throw_error(context)) when it is negative.
hid_t check_id(hid_t id, const std::string& context);
// Throws (throw_error(context)) when status is negative.
void check_status(herr_t status, const std::string& context);

// Owns one hid_t. Move-only. The destructor closes without throwing; close() closes now
// and throws when HDF5 reports a failure (what H5Fclose says about ENOSPC matters).
class Handle {
  public:
    using Closer = herr_t (*)(hid_t);

    Handle() = default;
    Handle(hid_t id, Closer closer, std::string context);
    ~Handle();
    Handle(Handle&& other) noexcept;
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    hid_t id() const { return id_; }
    bool valid() const { return id_ >= 0; }
    // Names the object in error messages: "<file>" or "<file>:<object path>".
    const std::string& context() const { return context_; }
    void close();

  protected:
    void close_quietly() noexcept;
    // Forgets the id without closing it (after a successful close by the caller).
    void release() noexcept;

  private:
    hid_t id_ = H5I_INVALID_HID;
    Closer closer_ = nullptr;
    std::string context_;
};

class Datatype : public Handle {
  public:
    using Handle::Handle;
    // Little-endian file types (the in-memory types are the native ones).
    static Datatype uint8();
    static Datatype int32();
    static Datatype uint32();
    static Datatype uint64();
    static Datatype int64();
    static Datatype float32();
    // Fixed-length ASCII of `length` bytes, NUL-padded, no terminator stored.
    static Datatype fixed_ascii(std::size_t length);
    // Fixed-length UTF-8 of `length` bytes, NUL-padded, no terminator stored.
    static Datatype fixed_utf8(std::size_t length);
    // Variable-length UTF-8 string.
    static Datatype vlen_utf8();
    // The type of an existing dataset or attribute.
    std::size_t size() const;
};

class Dataspace : public Handle {
  public:
    using Handle::Handle;
    static Dataspace scalar();
    // Simple dataspace; max_dims empty means fixed size, kUnlimited marks growth.
    static Dataspace simple(std::span<const hsize_t> dims, std::span<const hsize_t> max_dims = {});
    std::vector<hsize_t> dims() const;
    // Selects the block start..start+count of a simple dataspace.
    void select_block(std::span<const hsize_t> start, std::span<const hsize_t> count);
};

inline constexpr hsize_t kUnlimited = H5S_UNLIMITED;

class PropertyList : public Handle {
  public:
    using Handle::Handle;
    explicit PropertyList(hid_t plist_class, std::string context = "property list");
};

class Attribute : public Handle {
  public:
    using Handle::Handle;
};

// How a dataset is stored. Every dataset is chunked (so Fletcher32 covers its data);
// variable-length strings get no filters (HDF5 refuses them there).
struct DatasetSettings {
    std::vector<hsize_t> chunk;  // chunk dimensions; empty = the dataset's dims (min 1 each)
    bool fletcher32 = true;
    int deflate_level = 0;  // 0 = no deflate
    // Dataset chunk cache; 0 writes every chunk straight to the file, so the chunks'
    // file offsets follow the order of writes and nothing else.
    std::size_t chunk_cache_bytes = 0;
};

class Dataset;
class Group;

// Shared by File and Group: what can hold links and attributes.
class Location : public Handle {
  public:
    using Handle::Handle;

    Group create_group(const std::string& name);
    Group open_group(const std::string& name) const;
    bool exists(const std::string& name) const;
    // Names of the links in this group, in bytewise order.
    std::vector<std::string> child_names() const;

    Dataset create_dataset(const std::string& name, const Datatype& type, const Dataspace& space,
                           const DatasetSettings& settings = {});
    // Creates a dataset with a custom creation property list (e.g. a virtual layout).
    Dataset create_dataset(const std::string& name, const Datatype& type, const Dataspace& space,
                           const PropertyList& creation);
    Dataset open_dataset(const std::string& name) const;

    // Writes a whole array in one call into a new fixed-size chunked dataset.
    template <typename T>
    Dataset write_array(const std::string& name, std::span<const T> values,
                        std::span<const hsize_t> dims, const DatasetSettings& settings = {});
    template <typename T>
    Dataset write_vector(const std::string& name, std::span<const T> values,
                         const DatasetSettings& settings = {});
    Dataset write_fixed_ascii(const std::string& name, std::span<const std::string> values,
                              std::size_t length, const DatasetSettings& settings = {});
    // Fixed-length UTF-8 as long as the longest value (at least 1 byte), NUL-padded: no
    // per-value heap object, so it is smaller than write_strings for short, similar values
    // and carries the settings' filters. Throws Error if a value contains a NUL byte.
    Dataset write_fixed_utf8(const std::string& name, std::span<const std::string> values,
                             const DatasetSettings& settings = {});
    // The same for `count` values given by value(i), for callers holding them elsewhere:
    // no copy of all of them is made, the rows go to HDF5 a chunk at a time.
    Dataset write_fixed_utf8(const std::string& name, std::size_t count,
                             const std::function<std::string_view(std::size_t)>& value,
                             const DatasetSettings& settings = {});
    Dataset write_strings(const std::string& name, std::span<const std::string> values,
                          const DatasetSettings& settings = {});

    // Scalar attributes.
    void set_attribute(const std::string& name, std::string_view value);
    void set_attribute(const std::string& name, std::int64_t value);
    std::string string_attribute(const std::string& name) const;
    std::int64_t int_attribute(const std::string& name) const;
    bool has_attribute(const std::string& name) const;

    std::string child_context(const std::string& name) const;
};

class Group : public Location {
  public:
    using Location::Location;
};

// The bytes of a file that was assembled in memory (File::create), owned.
class FileImage {
  public:
    std::span<const std::uint8_t> bytes() const { return {buffer_.get(), size_}; }

  private:
    friend class File;
    struct Release {
        std::size_t size = 0;  // of the mapping, which may be more than the file's
        // Unmaps the pages, or keeps them for the next file this thread assembles.
        void operator()(std::uint8_t* pages) const noexcept;
    };
    FileImage(std::unique_ptr<std::uint8_t, Release> buffer, std::size_t size)
        : buffer_(std::move(buffer)), size_(size) {}

    std::unique_ptr<std::uint8_t, Release> buffer_;
    std::size_t size_ = 0;
};

class File : public Location {
  public:
    File() = default;
    ~File();
    File(File&&) noexcept;
    File& operator=(File&&) noexcept;

    // Creates a file with the deterministic creation settings above, assembled in memory
    // (HDF5's core driver without a backing store): nothing reaches the disk before
    // publish(). HDF5 itself never writes to the disk because a write failing inside
    // H5Fclose (ENOSPC) leaves HDF5 1.10 with a half-closed file that crashes the
    // library's shutdown; a failing write of ours is a plain error. Memory: the file.
    static File create(const std::filesystem::path& path);
    static File open_read_only(const std::filesystem::path& path);
    const std::filesystem::path& path() const { return path_; }

    // Closes now. When HDF5 refuses (objects in the file are still open), throws and the
    // file stays open, so that the destructor closes it after them.
    void close();

    // Closes a file made by create() and writes its bytes to path() the crash-safe way
    // (write_file_atomically: "<path>.tmp", fsync, rename; the temporary is removed on
    // failure). Returns the bytes written: exactly what HDF5 writes to a file on disk.
    // `alongside` (when given) runs on this thread with those bytes while another thread
    // writes them, which leaves its thread waiting on the device. The write's failure
    // comes first; a failure of `alongside` is thrown once the file is written.
    using BytesWork = std::function<void(std::span<const std::uint8_t>)>;
    FileImage publish(const BytesWork& alongside = {});

    // Where HDF5's core driver keeps a created file's bytes (see h5.cpp).
    struct Memory;

  private:
    File(hid_t id, std::string context, std::filesystem::path path, std::unique_ptr<Memory> memory);

    std::filesystem::path path_;
    std::unique_ptr<Memory> memory_;  // null for files opened from the disk
};

class Dataset : public Handle {
  public:
    using Handle::Handle;

    Dataspace space() const;
    Datatype type() const;
    std::vector<hsize_t> dims() const;
    // The chunk shape; empty when the dataset is not chunked (e.g. virtual).
    std::vector<hsize_t> chunk_dims() const;
    void set_extent(std::span<const hsize_t> dims);

    // Writes values into the block start..start+count (whole dataset when both empty).
    template <typename T>
    void write(std::span<const T> values, std::span<const hsize_t> start = {},
               std::span<const hsize_t> count = {});
    // Reads the block start..start+count (whole dataset when both empty).
    template <typename T>
    std::vector<T> read(std::span<const hsize_t> start = {},
                        std::span<const hsize_t> count = {}) const;
    // Fixed-length or variable-length strings, rows start..start+count of a 1-D dataset
    // (all rows when count is nullopt). Trailing NUL padding is removed.
    std::vector<std::string> read_strings(hsize_t start = 0,
                                          std::optional<hsize_t> count = std::nullopt) const;
    void write_strings(std::span<const std::string> values);
};

// The native memory type of T (uint8_t, int32_t, uint32_t, uint64_t, int64_t, float).
template <typename T>
hid_t native_type();
// The little-endian file type of T (same T as native_type).
template <typename T>
Datatype file_type();

}  // namespace synshard::h5
