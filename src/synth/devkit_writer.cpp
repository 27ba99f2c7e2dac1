#include "synshard/synth/devkit_writer.hpp"

#include <matio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <memory>

#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::synth {
namespace {

namespace fs = std::filesystem;

// A file of its own in TMPDIR, for a writer that opens files by name; removed when it dies.
class ScratchFile {
  public:
    explicit ScratchFile(const std::string& suffix) {
        std::string path =
            (fs::temp_directory_path() / ("synshard-synth-XXXXXX" + suffix)).string();
        const int fd = ::mkstemps(path.data(), static_cast<int>(suffix.size()));
        if (fd < 0) throw_system_error("creating " + path, errno);
        ::close(fd);
        path_ = path;
    }
    ~ScratchFile() {
        std::error_code ignored;
        fs::remove(path_, ignored);
    }
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;

    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

struct MatCloser {
    void operator()(mat_t* mat) const { Mat_Close(mat); }
};
struct VarFreer {
    void operator()(matvar_t* var) const { Mat_VarFree(var); }
};

// A 1x1 double or a 1xN char array, as MATLAB stores numbers and strings; the caller's
// data is copied (MAT_F_DONT_COPY_DATA is not given).
matvar_t* number_var(double value) {
    std::size_t dims[2] = {1, 1};
    return Mat_VarCreate(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, &value, 0);
}

matvar_t* text_var(const std::string& text) {
    std::size_t dims[2] = {1, text.size()};
    return Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UINT8, 2, dims, const_cast<char*>(text.data()),
                         0);
}

}  // namespace

std::vector<int> devkit_ids(std::span<const ClassPlan> classes, std::uint64_t seed) {
    std::vector<std::pair<std::uint64_t, std::size_t>> keyed;
    for (std::size_t i = 0; i < classes.size(); ++i) {
        keyed.emplace_back(keyed_hash(seed, "devkit/" + std::string(classes[i].synset.wnid)), i);
    }
    std::sort(keyed.begin(), keyed.end());
    std::vector<int> ids(classes.size());
    for (std::size_t rank = 0; rank < keyed.size(); ++rank) {
        ids[keyed[rank].second] = static_cast<int>(rank) + 1;
    }
    return ids;
}

std::vector<std::uint8_t> devkit_meta_mat(std::span<const ClassPlan> classes,
                                          std::span<const int> ids) {
    std::vector<std::size_t> by_id(classes.size());
    for (std::size_t i = 0; i < classes.size(); ++i) {
        by_id[static_cast<std::size_t>(ids[i]) - 1] = i;
    }
    const char* fields[] = {"ILSVRC2012_ID", "WNID",         "words",
                            "gloss",         "num_children", "num_train_images"};
    std::size_t dims[2] = {classes.size(), 1};
    const std::unique_ptr<matvar_t, VarFreer> synsets(
        Mat_VarCreateStruct("synsets", 2, dims, fields, std::size(fields)));
    if (!synsets) throw Error("matio: cannot create the synsets struct array");
    for (std::size_t element = 0; element < by_id.size(); ++element) {
        const ClassPlan& class_plan = classes[by_id[element]];
        const std::string words(class_plan.synset.words);
        const auto set = [&](const char* field, matvar_t* value) {
            if (value == nullptr) throw Error(std::string("matio: cannot make synsets.") + field);
            // Returns the field's previous value: none in a new struct array.
            Mat_VarSetStructFieldByName(synsets.get(), field, element, value);
        };
        set("ILSVRC2012_ID", number_var(static_cast<double>(element + 1)));
        set("WNID", text_var(std::string(class_plan.synset.wnid)));
        set("words", text_var(words));
        set("gloss", text_var("a synthetic class: " + words));
        set("num_children", number_var(0));
        set("num_train_images", number_var(static_cast<double>(class_plan.files.size())));
    }

    const ScratchFile file(".mat");
    {
        // A fixed header: matio's default names the time of writing.
        const std::unique_ptr<mat_t, MatCloser> mat(Mat_CreateVer(
            file.path().c_str(), "MATLAB 5.0 MAT-file, written by synshard synth", MAT_FT_MAT5));
        if (!mat) throw Error("matio: cannot create " + file.path().string());
        if (Mat_VarWrite(mat.get(), synsets.get(), MAT_COMPRESSION_NONE) != 0) {
            throw Error("matio: cannot write " + file.path().string());
        }
    }
    return read_file(file.path());
}

std::string validation_ground_truth(std::span<const ClassPlan> classes, std::span<const int> ids,
                                    std::span<const ValImage> val) {
    std::map<std::string_view, int> id_of;
    for (std::size_t i = 0; i < classes.size(); ++i) id_of[classes[i].synset.wnid] = ids[i];
    std::string text;
    for (const ValImage& image : val) text += std::to_string(id_of.at(image.wnid)) + "\n";
    return text;
}

}  // namespace synshard::synth
