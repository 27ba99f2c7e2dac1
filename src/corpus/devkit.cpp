#include "synshard/corpus/devkit.hpp"

#include <matio.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "synshard/corpus/archive.hpp"
#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/text_lines.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::corpus {
namespace {

namespace fs = std::filesystem;

// The files a devkit numbers its synsets in, in the order a folder or an archive is
// searched for them.
constexpr std::array<std::string_view, 3> kDevkitFiles{"meta.mat", "meta_clsloc.mat",
                                                       "map_clsloc.txt"};
// A devkit's metadata is a few hundred KiB: a member declaring more is refused unread.
constexpr std::int64_t kMaxDevkitFileBytes = std::int64_t{64} << 20;

bool is_mat(std::string_view name) {
    return name.ends_with(".mat");
}

struct MatCloser {
    void operator()(mat_t* mat) const { Mat_Close(mat); }
};
struct VarFreer {
    void operator()(matvar_t* var) const { Mat_VarFree(var); }
};

std::string char_field(matvar_t* field) {
    if (field == nullptr || field->class_type != MAT_C_CHAR || field->data == nullptr) return {};
    std::size_t count = 1;
    for (int d = 0; d < field->rank; ++d) count *= field->dims[d];
    std::string text;
    if (field->data_type == MAT_T_UINT16 || field->data_type == MAT_T_UTF16) {
        const auto* chars = static_cast<const std::uint16_t*>(field->data);
        for (std::size_t i = 0; i < count; ++i)
            text += static_cast<char>(chars[i] < 128 ? chars[i] : '?');
    } else {
        text.assign(static_cast<const char*>(field->data), count);
    }
    return text;
}

std::optional<double> number_field(matvar_t* field) {
    if (field == nullptr || field->data == nullptr) return std::nullopt;
    switch (field->class_type) {
        case MAT_C_DOUBLE:
            return *static_cast<const double*>(field->data);
        case MAT_C_SINGLE:
            return *static_cast<const float*>(field->data);
        case MAT_C_UINT8:
            return *static_cast<const std::uint8_t*>(field->data);
        case MAT_C_INT16:
            return *static_cast<const std::int16_t*>(field->data);
        case MAT_C_UINT16:
            return *static_cast<const std::uint16_t*>(field->data);
        case MAT_C_INT32:
            return *static_cast<const std::int32_t*>(field->data);
        case MAT_C_UINT32:
            return *static_cast<const std::uint32_t*>(field->data);
        default:
            return std::nullopt;
    }
}

// The year's id field of a `synsets` struct array: ILSVRC2012_ID in the 2012 devkit,
// ILSVRC2014_ID in meta_clsloc.mat; empty when it has none.
std::string id_field_of(const matvar_t* synsets) {
    const auto is_id_field = [](std::string_view name) {
        return name.size() == 13 && name.starts_with("ILSVRC20") &&
               std::isdigit(static_cast<unsigned char>(name[8])) != 0 &&
               std::isdigit(static_cast<unsigned char>(name[9])) != 0 && name.ends_with("_ID");
    };
    char* const* names = Mat_VarGetStructFieldnames(synsets);
    const unsigned count = Mat_VarGetNumberOfFields(const_cast<matvar_t*>(synsets));
    for (unsigned i = 0; names != nullptr && i < count; ++i) {
        if (names[i] != nullptr && is_id_field(names[i])) return names[i];
    }
    return {};
}

// Appends the synsets of the .mat file at `path`; `where` names it in errors.
void read_mat(const fs::path& path, const std::string& where, Devkit& devkit) {
    std::unique_ptr<mat_t, MatCloser> mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
    if (!mat) throw Error(where + ": not a readable MATLAB file");
    std::unique_ptr<matvar_t, VarFreer> synsets(Mat_VarRead(mat.get(), "synsets"));
    if (!synsets || synsets->class_type != MAT_C_STRUCT) {
        throw Error(where + ": no 'synsets' struct array");
    }
    devkit.id_field = id_field_of(synsets.get());
    if (devkit.id_field.empty()) throw Error(where + ": 'synsets' has no ILSVRC20??_ID field");
    std::size_t count = 1;
    for (int d = 0; d < synsets->rank; ++d) count *= synsets->dims[d];
    for (std::size_t i = 0; i < count; ++i) {
        const auto field = [&](const std::string& name) {
            return Mat_VarGetStructFieldByName(synsets.get(), name.c_str(), i);
        };
        const auto id = number_field(field(devkit.id_field));
        DevkitSynset entry;
        entry.wnid = char_field(field("WNID"));
        if (!id || !wordnet::is_wnid(entry.wnid)) {
            throw Error(where + ": synsets(" + std::to_string(i + 1) + ") lacks a numeric " +
                        devkit.id_field + " or a WNID");
        }
        entry.id = static_cast<int>(*id);
        entry.words = char_field(field("words"));
        entry.gloss = char_field(field("gloss"));
        devkit.synsets.push_back(std::move(entry));
    }
}

// Appends the synsets of map_clsloc.txt's "nXXXXXXXX ID name" lines; `where` names it.
void read_map(std::span<const std::uint8_t> bytes, const std::string& where, Devkit& devkit) {
    TextRows rows(as_text(bytes));
    while (const auto row = rows.next()) {
        TextFields fields(row->text);
        const std::string_view wnid = fields.next();
        const std::string_view id = fields.next();
        const std::string_view name = fields.next();
        DevkitSynset entry;
        const auto [end, parsed] = std::from_chars(id.data(), id.data() + id.size(), entry.id);
        if (!fields.at_end() || name.empty() || !wordnet::is_wnid(wnid) || parsed != std::errc() ||
            end != id.data() + id.size()) {
            throw Error(where + ":" + std::to_string(row->number) +
                        ": not a 'nXXXXXXXX ID name' line");
        }
        entry.wnid = wnid;
        entry.words = name;
        std::replace(entry.words.begin(), entry.words.end(), '_', ' ');
        devkit.synsets.push_back(std::move(entry));
    }
}

// Indexes the synsets by ID and wnid and lists the classes, IDs 1..N.
void index_synsets(Devkit& devkit) {
    for (const auto& entry : devkit.synsets) {
        if (entry.id < 1 || !devkit.wnid_by_id.emplace(entry.id, entry.wnid).second ||
            !devkit.id_by_wnid.emplace(entry.wnid, entry.id).second) {
            throw Error(devkit.origin() + ": " + entry.wnid + " with ID " +
                        std::to_string(entry.id) + ": IDs are positive, and IDs and wnids unique");
        }
    }
    for (const auto& [id, wnid] : devkit.wnid_by_id) {
        if (id > kIlsvrcClasses) break;
        const auto expected = static_cast<int>(devkit.classes.size()) + 1;
        if (id != expected) {
            throw Error(devkit.origin() + ": the class IDs are not 1.." + std::to_string(id - 1) +
                        ": no ID " + std::to_string(expected));
        }
        devkit.classes.push_back(wnid);
    }
}

// The devkit file of a folder: data/<name> or <name>, names in kDevkitFiles order.
std::optional<fs::path> devkit_file_in(const fs::path& folder) {
    std::error_code error;
    for (const auto name : kDevkitFiles) {
        for (const auto& candidate : {folder / "data" / name, folder / name}) {
            if (fs::is_regular_file(candidate, error)) return candidate;
        }
    }
    return std::nullopt;
}

struct Member {
    std::string path;
    std::vector<std::uint8_t> bytes;
};

// What a devkit archive holds for synshard: its class file and its val ground truth.
struct DevkitMembers {
    Member class_file;
    std::optional<Member> ground_truth;
};

constexpr std::string_view kGroundTruthFile = "ILSVRC2012_validation_ground_truth.txt";

// The archive's devkit file: of its members named like one in kDevkitFiles, the first in
// that order (the top ILSVRC2012_devkit_t12/ folder or none: any folder will do); and its
// ground truth, wherever it lies.
DevkitMembers devkit_members(const fs::path& archive) {
    ArchiveReader reader(archive);
    std::optional<Member> found;
    std::optional<Member> ground_truth;
    std::size_t found_rank = kDevkitFiles.size();
    while (const auto header = reader.next()) {
        if (header->type != MemberHeader::Type::regular) continue;
        const std::string name = fs::path(header->path).filename().string();
        const auto rank = static_cast<std::size_t>(
            std::find(kDevkitFiles.begin(), kDevkitFiles.end(), name) - kDevkitFiles.begin());
        const bool is_ground_truth = name == kGroundTruthFile && !ground_truth;
        if (rank >= found_rank && !is_ground_truth) continue;
        if (header->declared_size > kMaxDevkitFileBytes) {
            throw Error(archive.string() + ": " + header->path + " declares " +
                        std::to_string(header->declared_size) + " bytes, too many for a devkit");
        }
        Member member{header->path, reader.read_data(header->declared_size)};
        if (is_ground_truth) {
            ground_truth = std::move(member);
        } else {
            found = std::move(member);
            found_rank = rank;
        }
    }
    if (!found) {
        throw UsageError("--devkit " + archive.string() +
                         ": the archive holds no meta.mat, meta_clsloc.mat or map_clsloc.txt");
    }
    return {std::move(*found), std::move(ground_truth)};
}

// Bytes written to a file in a private folder of TMPDIR, for a reader that opens files by
// name; file and folder are removed when it dies.
class UnpackedFile {
  public:
    UnpackedFile(const std::string& name, std::span<const std::uint8_t> bytes) {
        std::string folder = (fs::temp_directory_path() / "synshard-devkit-XXXXXX").string();
        if (::mkdtemp(folder.data()) == nullptr) {
            throw Error("cannot create " + folder + ": " + std::strerror(errno));
        }
        folder_ = folder;
        path_ = folder_ / name;
        try {
            write_file_atomically(path_, bytes);
        } catch (...) {
            remove();
            throw;
        }
    }
    ~UnpackedFile() { remove(); }
    UnpackedFile(const UnpackedFile&) = delete;
    UnpackedFile& operator=(const UnpackedFile&) = delete;

    const fs::path& path() const { return path_; }

  private:
    void remove() noexcept {
        std::error_code ignored;
        fs::remove(path_, ignored);
        fs::remove(folder_, ignored);
    }

    fs::path folder_;
    fs::path path_;
};

}  // namespace

std::string Devkit::origin() const {
    return member.empty() ? file.string() : member + " in " + file.string();
}

std::string Devkit::describe() const {
    return (id_field.empty() ? std::string("the IDs") : id_field) + " of " + origin();
}

Devkit read_devkit(const fs::path& path) {
    Devkit devkit;
    std::error_code error;
    if (fs::is_directory(path, error)) {
        const auto file = devkit_file_in(path);
        if (!file) {
            throw UsageError("--devkit " + path.string() +
                             ": no data/meta.mat, data/meta_clsloc.mat or data/map_clsloc.txt "
                             "in it");
        }
        devkit.file = *file;
    } else if (fs::is_regular_file(path, error)) {
        devkit.file = path;
    } else {
        throw UsageError("--devkit " + path.string() + " is neither a folder nor a file");
    }
    const std::string name = devkit.file.filename().string();
    if (is_mat(name) || name.ends_with(".txt")) {
        // Digested before libmatio reads the file.
        const auto bytes = read_file(devkit.file);
        devkit.content = content_digest(bytes);
        if (is_mat(name))
            read_mat(devkit.file, devkit.origin(), devkit);
        else
            read_map(bytes, devkit.origin(), devkit);
    } else {
        auto [member, ground_truth] = devkit_members(devkit.file);
        devkit.member = std::move(member.path);
        devkit.content = content_digest(member.bytes);
        if (ground_truth) {
            devkit.ground_truth_member = std::move(ground_truth->path);
            devkit.ground_truth = std::move(ground_truth->bytes);
        }
        if (is_mat(devkit.member)) {
            const UnpackedFile unpacked(fs::path(devkit.member).filename().string(), member.bytes);
            read_mat(unpacked.path(), devkit.origin(), devkit);
        } else {
            read_map(member.bytes, devkit.origin(), devkit);
        }
    }
    index_synsets(devkit);
    return devkit;
}

}  // namespace synshard::corpus
