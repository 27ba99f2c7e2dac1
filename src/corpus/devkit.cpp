#include "synshard/corpus/devkit.hpp"

#include <matio.h>

#include <memory>
#include <optional>

#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::corpus {
namespace {

namespace fs = std::filesystem;

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

fs::path find_meta_mat(const fs::path& dir) {
    std::error_code error;
    if (fs::is_regular_file(dir, error)) return dir;
    for (const auto& candidate : {dir / "data" / "meta.mat", dir / "meta.mat"}) {
        if (fs::is_regular_file(candidate, error)) return candidate;
    }
    throw UsageError("--devkit " + dir.string() + ": no data/meta.mat in it");
}

}  // namespace

Devkit read_devkit(const fs::path& dir) {
    Devkit devkit;
    devkit.meta_mat = find_meta_mat(dir);
    devkit.content = content_digest(read_file(devkit.meta_mat));
    const std::string where = devkit.meta_mat.string();
    std::unique_ptr<mat_t, MatCloser> mat(Mat_Open(where.c_str(), MAT_ACC_RDONLY));
    if (!mat) throw Error(where + ": not a readable MATLAB file");
    std::unique_ptr<matvar_t, VarFreer> synsets(Mat_VarRead(mat.get(), "synsets"));
    if (!synsets || synsets->class_type != MAT_C_STRUCT) {
        throw Error(where + ": no 'synsets' struct array");
    }
    std::size_t count = 1;
    for (int d = 0; d < synsets->rank; ++d) count *= synsets->dims[d];
    for (std::size_t i = 0; i < count; ++i) {
        const auto id =
            number_field(Mat_VarGetStructFieldByName(synsets.get(), "ILSVRC2012_ID", i));
        DevkitSynset entry;
        entry.wnid = char_field(Mat_VarGetStructFieldByName(synsets.get(), "WNID", i));
        if (!id || !wordnet::is_wnid(entry.wnid)) {
            throw Error(where + ": synsets(" + std::to_string(i + 1) +
                        ") lacks a numeric ILSVRC2012_ID or a WNID");
        }
        entry.ilsvrc2012_id = static_cast<int>(*id);
        entry.words = char_field(Mat_VarGetStructFieldByName(synsets.get(), "words", i));
        entry.gloss = char_field(Mat_VarGetStructFieldByName(synsets.get(), "gloss", i));
        devkit.wnid_by_id.emplace(entry.ilsvrc2012_id, entry.wnid);
        devkit.id_by_wnid.emplace(entry.wnid, entry.ilsvrc2012_id);
        devkit.synsets.push_back(std::move(entry));
    }
    return devkit;
}

}  // namespace synshard::corpus
