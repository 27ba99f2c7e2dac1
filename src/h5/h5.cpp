#include "synshard/h5/h5.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <utility>

#include "h5_internal.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::h5 {

// HDF5 prints its error stack to stderr by default; we turn the stack into exception
// text instead, so printing is switched off before the first call that could fail.
void silence_automatic_printing() {
    static std::once_flag once;
    std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

namespace {

herr_t append_stack_entry(unsigned depth, const H5E_error2_t* entry, void* client_data) {
    auto& text = *static_cast<std::string*>(client_data);
    if (depth > 0) text += "; ";
    text += entry->func_name != nullptr ? entry->func_name : "?";
    text += "(): ";
    text += entry->desc != nullptr ? entry->desc : "";
    return 0;
}

std::string error_stack_text() {
    std::string text;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, append_stack_entry, &text);
    H5Eclear2(H5E_DEFAULT);
    return text.empty() ? "HDF5 call failed (no error stack)" : text;
}

std::vector<hsize_t> whole(std::span<const hsize_t> dims) {
    return {dims.begin(), dims.end()};
}

}  // namespace

void throw_error(const std::string& context) {
    throw Error(context + ": " + error_stack_text());
}

hid_t check_id(hid_t id, const std::string& context) {
    if (id < 0) throw_error(context);
    return id;
}

void check_status(herr_t status, const std::string& context) {
    if (status < 0) throw_error(context);
}

template <>
hid_t native_type<std::uint8_t>() {
    return H5T_NATIVE_UINT8;
}
template <>
hid_t native_type<std::int32_t>() {
    return H5T_NATIVE_INT32;
}
template <>
hid_t native_type<std::uint32_t>() {
    return H5T_NATIVE_UINT32;
}
template <>
hid_t native_type<std::uint64_t>() {
    return H5T_NATIVE_UINT64;
}
template <>
hid_t native_type<std::int64_t>() {
    return H5T_NATIVE_INT64;
}
template <>
hid_t native_type<float>() {
    return H5T_NATIVE_FLOAT;
}

// ---- Handle

Handle::Handle(hid_t id, Closer closer, std::string context)
    : id_(id), closer_(closer), context_(std::move(context)) {}

Handle::~Handle() {
    close_quietly();
}

Handle::Handle(Handle&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)),
      closer_(other.closer_),
      context_(std::move(other.context_)) {}

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        close_quietly();
        id_ = std::exchange(other.id_, H5I_INVALID_HID);
        closer_ = other.closer_;
        context_ = std::move(other.context_);
    }
    return *this;
}

void Handle::close() {
    if (id_ < 0) return;
    const hid_t id = std::exchange(id_, H5I_INVALID_HID);
    check_status(closer_(id), "closing " + context_);
}

void Handle::release() noexcept {
    id_ = H5I_INVALID_HID;
}

void Handle::close_quietly() noexcept {
    if (id_ < 0) return;
    closer_(std::exchange(id_, H5I_INVALID_HID));
    H5Eclear2(H5E_DEFAULT);
}

// ---- Datatype

namespace {

Datatype copy_type(hid_t predefined) {
    silence_automatic_printing();
    return Datatype(check_id(H5Tcopy(predefined), "copying an HDF5 datatype"), H5Tclose,
                    "datatype");
}

Datatype string_type(std::size_t size, H5T_cset_t cset, H5T_str_t padding) {
    Datatype type = copy_type(H5T_C_S1);
    check_status(H5Tset_size(type.id(), size), "setting a string size");
    check_status(H5Tset_cset(type.id(), cset), "setting a string character set");
    check_status(H5Tset_strpad(type.id(), padding), "setting a string padding");
    return type;
}

}  // namespace

Datatype Datatype::uint8() {
    return copy_type(H5T_STD_U8LE);
}
Datatype Datatype::int32() {
    return copy_type(H5T_STD_I32LE);
}
Datatype Datatype::uint32() {
    return copy_type(H5T_STD_U32LE);
}
Datatype Datatype::uint64() {
    return copy_type(H5T_STD_U64LE);
}
Datatype Datatype::int64() {
    return copy_type(H5T_STD_I64LE);
}
Datatype Datatype::float32() {
    return copy_type(H5T_IEEE_F32LE);
}
Datatype Datatype::fixed_ascii(std::size_t length) {
    return string_type(length, H5T_CSET_ASCII, H5T_STR_NULLPAD);
}
Datatype Datatype::fixed_utf8(std::size_t length) {
    return string_type(length, H5T_CSET_UTF8, H5T_STR_NULLPAD);
}
Datatype Datatype::vlen_utf8() {
    return string_type(H5T_VARIABLE, H5T_CSET_UTF8, H5T_STR_NULLTERM);
}

std::size_t Datatype::size() const {
    const std::size_t size = H5Tget_size(id());
    if (size == 0) throw_error("size of " + context());
    return size;
}

template <typename T>
Datatype file_type() {
    if constexpr (std::is_same_v<T, std::uint8_t>) return Datatype::uint8();
    if constexpr (std::is_same_v<T, std::int32_t>) return Datatype::int32();
    if constexpr (std::is_same_v<T, std::uint32_t>) return Datatype::uint32();
    if constexpr (std::is_same_v<T, std::uint64_t>) return Datatype::uint64();
    if constexpr (std::is_same_v<T, std::int64_t>) return Datatype::int64();
    if constexpr (std::is_same_v<T, float>) return Datatype::float32();
}

// ---- Dataspace

Dataspace Dataspace::scalar() {
    silence_automatic_printing();
    return Dataspace(check_id(H5Screate(H5S_SCALAR), "creating a scalar dataspace"), H5Sclose,
                     "dataspace");
}

Dataspace Dataspace::simple(std::span<const hsize_t> dims, std::span<const hsize_t> max_dims) {
    silence_automatic_printing();
    return Dataspace(check_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                               max_dims.empty() ? nullptr : max_dims.data()),
                              "creating a dataspace"),
                     H5Sclose, "dataspace");
}

std::vector<hsize_t> Dataspace::dims() const {
    const int rank = H5Sget_simple_extent_ndims(id());
    if (rank < 0) throw_error("rank of " + context());
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (H5Sget_simple_extent_dims(id(), dims.data(), nullptr) < 0) {
        throw_error("dimensions of " + context());
    }
    return dims;
}

void Dataspace::select_block(std::span<const hsize_t> start, std::span<const hsize_t> count) {
    check_status(
        H5Sselect_hyperslab(id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        "selecting a block of " + context());
}

// ---- PropertyList

PropertyList::PropertyList(hid_t plist_class, std::string context)
    : Handle((silence_automatic_printing(), H5Pcreate(plist_class)), H5Pclose, std::move(context)) {
    check_id(id(), "creating " + this->context());
}

// ---- Location

std::string Location::child_context(const std::string& name) const {
    const auto colon = context().find(':');
    if (colon == std::string::npos) return context() + ":/" + name;
    return context() + "/" + name;
}

PropertyList untimed_creation_list(hid_t plist_class, const std::string& context) {
    PropertyList list(plist_class, context);
    check_status(H5Pset_obj_track_times(list.id(), false),
                 "turning time tracking off for " + context);
    return list;
}

Group Location::create_group(const std::string& name) {
    const std::string where = child_context(name);
    PropertyList creation = untimed_creation_list(H5P_GROUP_CREATE, where);
    return Group(check_id(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, creation.id(), H5P_DEFAULT),
                          "creating group " + where),
                 H5Gclose, where);
}

Group Location::open_group(const std::string& name) const {
    const std::string where = child_context(name);
    return Group(check_id(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), "opening group " + where),
                 H5Gclose, where);
}

bool Location::exists(const std::string& name) const {
    const htri_t found = H5Lexists(id(), name.c_str(), H5P_DEFAULT);
    if (found < 0) throw_error("looking up " + child_context(name));
    return found > 0;
}

namespace {

herr_t append_link_name(hid_t, const char* name, const H5L_info_t*, void* names) {
    static_cast<std::vector<std::string>*>(names)->emplace_back(name);
    return 0;
}

}  // namespace

std::vector<std::string> Location::child_names() const {
    std::vector<std::string> names;
    hsize_t position = 0;
    check_status(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, &position, append_link_name, &names),
                 "listing " + context());
    return names;
}

Dataset Location::create_dataset(const std::string& name, const Datatype& type,
                                 const Dataspace& space, const DatasetSettings& settings) {
    const std::string where = child_context(name);
    PropertyList creation = untimed_creation_list(H5P_DATASET_CREATE, where);
    std::vector<hsize_t> chunk = settings.chunk;
    if (chunk.empty()) {
        chunk = space.dims();
        for (hsize_t& extent : chunk) extent = std::max<hsize_t>(extent, 1);
    }
    check_status(H5Pset_chunk(creation.id(), static_cast<int>(chunk.size()), chunk.data()),
                 "setting the chunk shape of " + where);
    // HDF5 refuses filters on variable-length data (it would only filter heap pointers).
    const bool variable_length = H5Tis_variable_str(type.id()) > 0;
    if (settings.deflate_level > 0 && !variable_length) {
        check_status(H5Pset_deflate(creation.id(), static_cast<unsigned>(settings.deflate_level)),
                     "enabling deflate on " + where);
    }
    if (settings.fletcher32 && !variable_length) {
        check_status(H5Pset_fletcher32(creation.id()), "enabling Fletcher32 on " + where);
    }
    // An explicit zero fill value: the padding of edge chunks is zeros, never leftovers.
    if (!variable_length) {
        const std::vector<std::uint8_t> zero(type.size(), 0);
        check_status(H5Pset_fill_value(creation.id(), type.id(), zero.data()),
                     "setting the fill value of " + where);
    }
    PropertyList access(H5P_DATASET_ACCESS, where);
    check_status(H5Pset_chunk_cache(access.id(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT,
                                    settings.chunk_cache_bytes, H5D_CHUNK_CACHE_W0_DEFAULT),
                 "setting the chunk cache of " + where);
    return Dataset(check_id(H5Dcreate2(id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT,
                                       creation.id(), access.id()),
                            "creating dataset " + where),
                   H5Dclose, where);
}

Dataset Location::create_dataset(const std::string& name, const Datatype& type,
                                 const Dataspace& space, const PropertyList& creation) {
    const std::string where = child_context(name);
    check_status(H5Pset_obj_track_times(creation.id(), false),
                 "turning time tracking off for " + where);
    return Dataset(check_id(H5Dcreate2(id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT,
                                       creation.id(), H5P_DEFAULT),
                            "creating dataset " + where),
                   H5Dclose, where);
}

Dataset Location::open_dataset(const std::string& name) const {
    const std::string where = child_context(name);
    return Dataset(check_id(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), "opening dataset " + where),
                   H5Dclose, where);
}

template <typename T>
Dataset Location::write_array(const std::string& name, std::span<const T> values,
                              std::span<const hsize_t> dims, const DatasetSettings& settings) {
    Dataset dataset = create_dataset(name, file_type<T>(), Dataspace::simple(dims), settings);
    dataset.write(values);
    return dataset;
}

template <typename T>
Dataset Location::write_vector(const std::string& name, std::span<const T> values,
                               const DatasetSettings& settings) {
    const hsize_t dims[] = {values.size()};
    return write_array(name, values, dims, settings);
}

namespace {

// Writes `count` values (value(i)) as fixed-length strings of type's size, NUL-padded, a
// chunk of rows at a time: in row order, so the chunks land in the file as one write of
// everything would place them, without a buffer of all the rows.
Dataset write_fixed_strings(Location& location, const std::string& name, std::size_t count,
                            const std::function<std::string_view(std::size_t)>& value,
                            const Datatype& type, const DatasetSettings& settings) {
    const std::string where = location.child_context(name);
    const std::size_t length = type.size();
    const hsize_t dims[] = {count};
    Dataset dataset = location.create_dataset(name, type, Dataspace::simple(dims), settings);
    const std::size_t block = static_cast<std::size_t>(dataset.chunk_dims().at(0));
    std::vector<char> buffer;
    Dataspace file_space = dataset.space();
    for (std::size_t first = 0; first < count; first += block) {
        const std::size_t rows = std::min(block, count - first);
        buffer.assign(rows * length, '\0');
        for (std::size_t row = 0; row < rows; ++row) {
            const std::string_view text = value(first + row);
            if (text.size() > length) {
                throw Error(where + ": \"" + std::string(text) + "\" is longer than " +
                            std::to_string(length) + " bytes");
            }
            std::copy(text.begin(), text.end(), buffer.data() + row * length);
        }
        const hsize_t start[] = {first};
        const hsize_t extent[] = {rows};
        file_space.select_block(start, extent);
        const Dataspace memory = Dataspace::simple(extent);
        check_status(H5Dwrite(dataset.id(), type.id(), memory.id(), file_space.id(), H5P_DEFAULT,
                              buffer.data()),
                     "writing " + where);
    }
    return dataset;
}

}  // namespace

Dataset Location::write_fixed_ascii(const std::string& name, std::span<const std::string> values,
                                    std::size_t length, const DatasetSettings& settings) {
    return write_fixed_strings(
        *this, name, values.size(), [&](std::size_t i) -> std::string_view { return values[i]; },
        Datatype::fixed_ascii(length), settings);
}

Dataset Location::write_fixed_utf8(const std::string& name, std::span<const std::string> values,
                                   const DatasetSettings& settings) {
    return write_fixed_utf8(
        name, values.size(), [&](std::size_t i) -> std::string_view { return values[i]; },
        settings);
}

Dataset Location::write_fixed_utf8(const std::string& name, std::size_t count,
                                   const std::function<std::string_view(std::size_t)>& value,
                                   const DatasetSettings& settings) {
    std::size_t longest = 1;  // HDF5 has no zero-length string type
    for (std::size_t i = 0; i < count; ++i) {
        const std::string_view text = value(i);
        if (text.find('\0') != std::string_view::npos) {
            throw Error(child_context(name) + ": a value contains a NUL byte");
        }
        longest = std::max(longest, text.size());
    }
    return write_fixed_strings(*this, name, count, value, Datatype::fixed_utf8(longest), settings);
}

Dataset Location::write_strings(const std::string& name, std::span<const std::string> values,
                                const DatasetSettings& settings) {
    const hsize_t dims[] = {values.size()};
    Dataset dataset =
        create_dataset(name, Datatype::vlen_utf8(), Dataspace::simple(dims), settings);
    dataset.write_strings(values);
    return dataset;
}

void Location::set_attribute(const std::string& name, std::string_view value) {
    const std::string where = child_context("@" + name);
    const Datatype type = Datatype::vlen_utf8();
    Attribute attribute(check_id(H5Acreate2(id(), name.c_str(), type.id(), Dataspace::scalar().id(),
                                            H5P_DEFAULT, H5P_DEFAULT),
                                 "creating attribute " + where),
                        H5Aclose, where);
    const std::string text(value);
    const char* pointer = text.c_str();
    check_status(H5Awrite(attribute.id(), type.id(), &pointer), "writing attribute " + where);
    attribute.close();
}

void Location::set_attribute(const std::string& name, std::int64_t value) {
    const std::string where = child_context("@" + name);
    Attribute attribute(check_id(H5Acreate2(id(), name.c_str(), Datatype::int64().id(),
                                            Dataspace::scalar().id(), H5P_DEFAULT, H5P_DEFAULT),
                                 "creating attribute " + where),
                        H5Aclose, where);
    check_status(H5Awrite(attribute.id(), H5T_NATIVE_INT64, &value), "writing attribute " + where);
    attribute.close();
}

bool Location::has_attribute(const std::string& name) const {
    const htri_t found = H5Aexists(id(), name.c_str());
    if (found < 0) throw_error("looking up attribute " + child_context("@" + name));
    return found > 0;
}

std::string Location::string_attribute(const std::string& name) const {
    const std::string where = child_context("@" + name);
    Attribute attribute(check_id(H5Aopen(id(), name.c_str(), H5P_DEFAULT), "opening " + where),
                        H5Aclose, where);
    Datatype file_type(check_id(H5Aget_type(attribute.id()), "type of " + where), H5Tclose, where);
    if (H5Tget_class(file_type.id()) != H5T_STRING) throw Error(where + ": not a string");
    if (H5Tis_variable_str(file_type.id()) > 0) {
        const Datatype type = Datatype::vlen_utf8();
        char* pointer = nullptr;
        check_status(H5Aread(attribute.id(), type.id(), &pointer), "reading " + where);
        std::string text = pointer != nullptr ? pointer : "";
        H5free_memory(pointer);
        return text;
    }
    std::string text(file_type.size(), '\0');
    check_status(H5Aread(attribute.id(), file_type.id(), text.data()), "reading " + where);
    text.erase(std::find(text.begin(), text.end(), '\0'), text.end());
    return text;
}

std::int64_t Location::int_attribute(const std::string& name) const {
    const std::string where = child_context("@" + name);
    Attribute attribute(check_id(H5Aopen(id(), name.c_str(), H5P_DEFAULT), "opening " + where),
                        H5Aclose, where);
    std::int64_t value = 0;
    check_status(H5Aread(attribute.id(), H5T_NATIVE_INT64, &value), "reading " + where);
    return value;
}

// ---- Dataset

Dataspace Dataset::space() const {
    return Dataspace(check_id(H5Dget_space(id()), "dataspace of " + context()), H5Sclose,
                     context());
}

Datatype Dataset::type() const {
    return Datatype(check_id(H5Dget_type(id()), "datatype of " + context()), H5Tclose, context());
}

std::vector<hsize_t> Dataset::dims() const {
    return space().dims();
}

std::vector<hsize_t> Dataset::chunk_dims() const {
    PropertyList creation(
        check_id(H5Dget_create_plist(id()), "creation properties of " + context()), H5Pclose,
        context());
    const int rank = H5Sget_simple_extent_ndims(space().id());
    if (rank < 0) throw_error("rank of " + context());
    if (H5Pget_layout(creation.id()) != H5D_CHUNKED) return {};
    std::vector<hsize_t> chunk(static_cast<std::size_t>(rank));
    if (H5Pget_chunk(creation.id(), rank, chunk.data()) != rank) {
        throw_error("chunk shape of " + context());
    }
    return chunk;
}

void Dataset::set_extent(std::span<const hsize_t> dims) {
    check_status(H5Dset_extent(id(), dims.data()), "resizing " + context());
}

namespace {

// The file and memory dataspaces for the block start..start+count of dataset (the whole
// dataset when start is empty).
std::pair<Dataspace, Dataspace> block_spaces(const Dataset& dataset, std::span<const hsize_t> start,
                                             std::span<const hsize_t> count) {
    Dataspace file_space = dataset.space();
    if (start.empty()) {
        const std::vector<hsize_t> dims = file_space.dims();
        return {std::move(file_space), Dataspace::simple(dims)};
    }
    file_space.select_block(start, count);
    return {std::move(file_space), Dataspace::simple(whole(count))};
}

hsize_t element_count(const Dataspace& space) {
    const hssize_t count = H5Sget_select_npoints(space.id());
    if (count < 0) throw_error("size of " + space.context());
    return static_cast<hsize_t>(count);
}

}  // namespace

template <typename T>
void Dataset::write(std::span<const T> values, std::span<const hsize_t> start,
                    std::span<const hsize_t> count) {
    auto [file_space, memory_space] = block_spaces(*this, start, count);
    if (element_count(memory_space) != values.size()) {
        throw Error("writing " + context() + ": " + std::to_string(values.size()) +
                    " values for a block of " + std::to_string(element_count(memory_space)));
    }
    if (values.empty()) return;
    check_status(H5Dwrite(id(), native_type<T>(), memory_space.id(), file_space.id(), H5P_DEFAULT,
                          values.data()),
                 "writing " + context());
}

template <typename T>
std::vector<T> Dataset::read(std::span<const hsize_t> start, std::span<const hsize_t> count) const {
    auto [file_space, memory_space] = block_spaces(*this, start, count);
    std::vector<T> values(element_count(memory_space));
    if (values.empty()) return values;
    check_status(H5Dread(id(), native_type<T>(), memory_space.id(), file_space.id(), H5P_DEFAULT,
                         values.data()),
                 "reading " + context());
    return values;
}

std::vector<std::string> Dataset::read_strings(hsize_t start, std::optional<hsize_t> count) const {
    const std::vector<hsize_t> dims = this->dims();
    if (dims.size() != 1) throw Error("reading " + context() + ": not a 1-D dataset");
    const hsize_t rows = count.value_or(dims[0] - std::min(start, dims[0]));
    if (start + rows > dims[0]) {
        throw Error("reading " + context() + ": rows " + std::to_string(start) + ".." +
                    std::to_string(start + rows) + " of " + std::to_string(dims[0]));
    }
    std::vector<std::string> values;
    if (rows == 0) return values;
    const hsize_t block_start[] = {start};
    const hsize_t block_count[] = {rows};
    auto [file_space, memory_space] = block_spaces(*this, block_start, block_count);
    const Datatype file_type = type();
    if (H5Tget_class(file_type.id()) != H5T_STRING) throw Error(context() + ": not strings");
    values.reserve(rows);
    if (H5Tis_variable_str(file_type.id()) > 0) {
        const Datatype memory_type = Datatype::vlen_utf8();
        std::vector<char*> pointers(rows, nullptr);
        check_status(H5Dread(id(), memory_type.id(), memory_space.id(), file_space.id(),
                             H5P_DEFAULT, pointers.data()),
                     "reading " + context());
        for (char* pointer : pointers) values.emplace_back(pointer != nullptr ? pointer : "");
        H5Dvlen_reclaim(memory_type.id(), memory_space.id(), H5P_DEFAULT, pointers.data());
        return values;
    }
    const std::size_t length = file_type.size();
    std::vector<char> buffer(rows * length);
    check_status(H5Dread(id(), file_type.id(), memory_space.id(), file_space.id(), H5P_DEFAULT,
                         buffer.data()),
                 "reading " + context());
    for (hsize_t row = 0; row < rows; ++row) {
        std::string text(buffer.data() + row * length, length);
        text.erase(std::find(text.begin(), text.end(), '\0'), text.end());
        values.push_back(std::move(text));
    }
    return values;
}

void Dataset::write_strings(std::span<const std::string> values) {
    std::vector<const char*> pointers;
    pointers.reserve(values.size());
    for (const std::string& value : values) pointers.push_back(value.c_str());
    if (pointers.empty()) return;
    const Datatype type = Datatype::vlen_utf8();
    check_status(H5Dwrite(id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
                 "writing " + context());
}

#define SYNSHARD_H5_INSTANTIATE(T)                                                               \
    template Dataset Location::write_array<T>(const std::string&, std::span<const T>,            \
                                              std::span<const hsize_t>, const DatasetSettings&); \
    template Dataset Location::write_vector<T>(const std::string&, std::span<const T>,           \
                                               const DatasetSettings&);                          \
    template void Dataset::write<T>(std::span<const T>, std::span<const hsize_t>,                \
                                    std::span<const hsize_t>);                                   \
    template std::vector<T> Dataset::read<T>(std::span<const hsize_t>, std::span<const hsize_t>) \
        const;                                                                                   \
    template Datatype file_type<T>();

SYNSHARD_H5_INSTANTIATE(std::uint8_t)
SYNSHARD_H5_INSTANTIATE(std::int32_t)
SYNSHARD_H5_INSTANTIATE(std::uint32_t)
SYNSHARD_H5_INSTANTIATE(std::uint64_t)
SYNSHARD_H5_INSTANTIATE(std::int64_t)
SYNSHARD_H5_INSTANTIATE(float)

#undef SYNSHARD_H5_INSTANTIATE

}  // namespace synshard::h5
