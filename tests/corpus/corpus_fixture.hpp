#pragma once
// Builders of small real corpora for the corpus and plan tests: files, tars written with
// libarchive's write API (malicious members included), hand-made tar headers for what
// libarchive refuses to write, VOC XML, label files and a devkit meta.mat made with matio.

#include <archive.h>
#include <archive_entry.h>
#include <matio.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "synshard/util/rng.hpp"
#include "synshard/wordnet/hierarchy.hpp"

namespace synshard::testing {

namespace fs = std::filesystem;

// The installed WordNet, loaded once: what discovery tells synset folders from others by.
inline const wordnet::Hierarchy& default_wordnet() {
    static const wordnet::Hierarchy hierarchy = wordnet::Hierarchy::load_default();
    return hierarchy;
}

inline void write_bytes(const fs::path& path, const std::string& bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << bytes;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Deterministic pseudo-image bytes: planning never decodes, so any bytes do.
inline std::string image_bytes(const std::string& key, std::size_t size) {
    Rng rng(std::hash<std::string>{}(key));
    std::string bytes(size, '\0');
    for (auto& byte : bytes) byte = static_cast<char>(rng.next());
    return bytes;
}

struct TarMember {
    enum class Type { regular, symlink, hardlink, directory, fifo };
    TarMember(std::string member_path, std::string member_content, Type member_type = Type::regular,
              std::string target = {})
        : path(std::move(member_path)),
          content(std::move(member_content)),
          type(member_type),
          link_target(std::move(target)) {}
    std::string path;
    std::string content;
    Type type = Type::regular;
    std::string link_target;
};

inline void write_tar(const fs::path& path, const std::vector<TarMember>& members) {
    fs::create_directories(path.parent_path());
    archive* writer = archive_write_new();
    archive_write_set_format_pax_restricted(writer);
    const std::string name = path.filename().string();
    if (name.ends_with(".gz") || name.ends_with(".tgz")) archive_write_add_filter_gzip(writer);
    if (archive_write_open_filename(writer, path.c_str()) != ARCHIVE_OK) {
        throw std::runtime_error("cannot write " + path.string());
    }
    for (const auto& member : members) {
        archive_entry* entry = archive_entry_new();
        archive_entry_set_pathname(entry, member.path.c_str());
        archive_entry_set_perm(entry, 0644);
        switch (member.type) {
            case TarMember::Type::regular:
                archive_entry_set_filetype(entry, AE_IFREG);
                archive_entry_set_size(entry, static_cast<la_int64_t>(member.content.size()));
                break;
            case TarMember::Type::symlink:
                archive_entry_set_filetype(entry, AE_IFLNK);
                archive_entry_set_symlink(entry, member.link_target.c_str());
                break;
            case TarMember::Type::hardlink:
                archive_entry_set_filetype(entry, AE_IFREG);
                archive_entry_set_hardlink(entry, member.link_target.c_str());
                break;
            case TarMember::Type::directory:
                archive_entry_set_filetype(entry, AE_IFDIR);
                break;
            case TarMember::Type::fifo:
                archive_entry_set_filetype(entry, AE_IFIFO);
                break;
        }
        archive_write_header(writer, entry);
        if (member.type == TarMember::Type::regular && !member.content.empty()) {
            archive_write_data(writer, member.content.data(), member.content.size());
        }
        archive_entry_free(entry);
    }
    archive_write_close(writer);
    archive_write_free(writer);
}

// A ustar header declaring `size` bytes, written by hand (base-256 size field), for
// members libarchive would insist on padding to their full declared size.
inline std::string raw_tar_header(const std::string& name, std::uint64_t size) {
    std::string header(512, '\0');
    name.copy(header.data(), std::min<std::size_t>(name.size(), 99));
    std::snprintf(header.data() + 100, 8, "%07o", 0644);
    std::snprintf(header.data() + 108, 8, "%07o", 0);
    std::snprintf(header.data() + 116, 8, "%07o", 0);
    header[124] = static_cast<char>(0x80);
    for (int i = 0; i < 8; ++i) header[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
    std::snprintf(header.data() + 136, 12, "%011o", 0);
    header[156] = '0';
    std::memcpy(header.data() + 257, "ustar", 6);
    header[263] = '0';
    header[264] = '0';
    std::memset(header.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : header) sum += c;
    std::snprintf(header.data() + 148, 8, "%06o", sum);
    header[155] = ' ';
    return header;
}

inline void truncate_file(const fs::path& path, std::uintmax_t size) {
    fs::resize_file(path, size);
}

inline void make_fifo(const fs::path& path) {
    fs::create_directories(path.parent_path());
    if (::mkfifo(path.c_str(), 0644) != 0) throw std::runtime_error("mkfifo " + path.string());
}

// A VOC annotation; `one_line` puts it all on one line.
struct VocObject {
    std::string name;
    std::string xmin, ymin, xmax, ymax;
};
inline std::string voc_xml(const std::string& filename, int width, int height,
                           const std::vector<VocObject>& objects, bool one_line = false) {
    const std::string nl = one_line ? "" : "\n  ";
    std::string xml = "<annotation>" + nl + "<folder>x</folder>" + nl + "<filename>" + filename +
                      "</filename>" + nl + "<size><width>" + std::to_string(width) +
                      "</width><height>" + std::to_string(height) +
                      "</height><depth>3</depth></size>";
    for (const auto& object : objects) {
        xml += nl + "<object><name>" + object.name + "</name>" + nl + "<bndbox><xmin>" +
               object.xmin + "</xmin><ymin>" + object.ymin + "</ymin><xmax>" + object.xmax +
               "</xmax><ymax>" + object.ymax + "</ymax></bndbox></object>";
    }
    return xml + (one_line ? "" : "\n") + "</annotation>\n";
}

// A devkit meta.mat with a `synsets` struct array (ILSVRC2012_ID, WNID, words, gloss),
// written with matio's write API. The later CLS-LOC devkits' meta_clsloc.mat names its
// id field after its year (id_field "ILSVRC2014_ID").
struct MetaEntry {
    int id;
    std::string wnid;
    std::string words;
};
inline void write_meta_mat(const fs::path& path, const std::vector<MetaEntry>& entries,
                           const std::string& id_field = "ILSVRC2012_ID") {
    fs::create_directories(path.parent_path());
    mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
    if (mat == nullptr) throw std::runtime_error("cannot create " + path.string());
    const char* fields[] = {id_field.c_str(), "WNID", "words", "gloss"};
    size_t dims[2] = {entries.size(), 1};
    matvar_t* synsets = Mat_VarCreateStruct("synsets", 2, dims, fields, 4);
    const auto text = [](const std::string& value) {
        size_t text_dims[2] = {1, value.size()};
        return Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UINT8, 2, text_dims,
                             const_cast<char*>(value.data()), 0);
    };
    for (std::size_t i = 0; i < entries.size(); ++i) {
        double id = entries[i].id;
        size_t one[2] = {1, 1};
        Mat_VarSetStructFieldByName(
            synsets, id_field.c_str(), i,
            Mat_VarCreate(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, one, &id, 0));
        Mat_VarSetStructFieldByName(synsets, "WNID", i, text(entries[i].wnid));
        Mat_VarSetStructFieldByName(synsets, "words", i, text(entries[i].words));
        Mat_VarSetStructFieldByName(synsets, "gloss", i, text("gloss of " + entries[i].words));
    }
    Mat_VarWrite(mat, synsets, MAT_COMPRESSION_NONE);
    Mat_VarFree(synsets);
    Mat_Close(mat);
}

// The same entries as the CLS-LOC devkits' map_clsloc.txt: "nXXXXXXXX ID name" lines
// (the name with underscores for spaces), the classes only.
inline void write_map_clsloc(const fs::path& path, const std::vector<MetaEntry>& entries) {
    std::string text;
    for (const auto& entry : entries) {
        if (entry.id > 1000) continue;
        std::string name = entry.words.substr(0, entry.words.find(','));
        std::replace(name.begin(), name.end(), ' ', '_');
        text += entry.wnid + " " + std::to_string(entry.id) + " " + name + "\n";
    }
    write_bytes(path, text);
}

// A devkit as large as ILSVRC-2012's class table: IDs 1..1000 for the classes, with
// tench (n01440764) at 449 and sea snake (n01751748) at 490 as in the real meta.mat and
// other WordNet noun synsets (the first of data.noun) elsewhere, in an order that is not
// the wnids'; then, as in the real file, inner nodes of the hierarchy with IDs above 1000.
inline std::vector<MetaEntry> ilsvrc_devkit_entries() {
    std::ifstream data_noun(fs::path(wordnet::kDefaultWordnetDir) / "data.noun");
    std::vector<std::string> others;
    for (std::string line; others.size() < 998 && std::getline(data_noun, line);) {
        if (line.empty() || line[0] == ' ') continue;  // the licence above the synsets
        const std::string wnid = std::string("n").append(line, 0, 8);
        if (wnid != "n01440764" && wnid != "n01751748" && wnid != wordnet::kRootWnid &&
            wnid != "n00002684")
            others.push_back(wnid);
    }
    if (others.size() != 998) throw std::runtime_error("data.noun holds too few synsets");
    std::reverse(others.begin(), others.end());
    std::vector<MetaEntry> entries;
    for (int id = 1; id <= 1000; ++id) {
        const std::string wnid = id == 449   ? std::string("n01440764")
                                 : id == 490 ? std::string("n01751748")
                                             : others[entries.size() - (id > 449) - (id > 490)];
        entries.push_back({id, wnid, default_wordnet().synset(wnid).words});
    }
    entries.push_back({1001, std::string(wordnet::kRootWnid), "entity"});
    entries.push_back({1002, "n00002684", "object, physical object"});
    return entries;
}

// A small corpus in both layouts: `root/dirs/<wnid>/<file>` and `root/tars/<wnid>.tar`,
// with `counts[i]` images in class i (real WordNet wnids), image i of a class having a
// size that varies with i. Returns the wnids.
inline const std::vector<std::string>& fixture_wnids() {
    // tench, goldfish, great white shark, tabby, barber chair, dog
    static const std::vector<std::string> wnids{"n01440764", "n01443537", "n01484850",
                                                "n02123045", "n02791124", "n02084071"};
    return wnids;
}

inline void make_two_layouts(const fs::path& root, const std::vector<int>& counts) {
    const auto& wnids = fixture_wnids();
    for (std::size_t c = 0; c < counts.size(); ++c) {
        std::vector<TarMember> members;
        for (int i = 0; i < counts[c]; ++i) {
            const std::string name = wnids[c] + "_" + std::to_string(i + 1) + ".JPEG";
            const std::string bytes =
                image_bytes(name, 100 + static_cast<std::size_t>(i * 37 % 900));
            write_bytes(root / "dirs" / wnids[c] / name, bytes);
            members.push_back({name, bytes});
        }
        // Archive order differs from key order, as in the real tars.
        std::reverse(members.begin(), members.end());
        write_tar(root / "tars" / (wnids[c] + ".tar"), members);
    }
}

}  // namespace synshard::testing

namespace synshard::testing {

// The two layouts of make_two_layouts (tench 12, goldfish 8, shark 3, tabby 10) plus a
// flat val folder labelled by LOC_val_solution.csv, boxes, and quirks: a hidden file and
// a stray file at the train root, val images without a label, with an unselected or
// unknown class, a label for a missing image, and a box with a class name.
inline void make_quirky_corpus(const fs::path& root) {
    make_two_layouts(root, {12, 8, 3, 10});
    for (const char* layout : {"dirs", "tars"}) {
        write_bytes(root / layout / ".DS_Store", "x");
        write_bytes(root / layout / "README.txt", "not a synset");
    }
    for (int i = 1; i <= 6; ++i) {
        const std::string name = "ILSVRC2012_val_0000000" + std::to_string(i) + ".JPEG";
        write_bytes(root / "val" / name, image_bytes(name, 300));
    }
    write_bytes(root / "LOC_val_solution.csv",
                "ImageId,PredictionString\n"
                "ILSVRC2012_val_00000001,n01440764 1 1 5 5\n"
                "ILSVRC2012_val_00000002,n01443537 2 2 10 10 goldfish 3 3 9 9\n"
                "ILSVRC2012_val_00000003,n09999999 1 1 5 5\n"
                "ILSVRC2012_val_00000004,n01484850 1 1 5 5\n"
                "ILSVRC2012_val_00000005,n01440764 1 1 5 5\n"
                "ILSVRC2012_val_00000007,n01440764 1 1 5 5\n");
    write_bytes(root / "Annotation" / "n01440764" / "n01440764_1.xml",
                voc_xml("%s", 100, 80,
                        {{"n01440764", "0", "5", "120", "50"}, {"tench", "1", "1", "4", "4"}}));
    write_bytes(root / "Annotation" / "n01440764" / "n01440764_99.xml",
                voc_xml("n01440764_99", 100, 80, {{"n01440764", "1", "1", "4", "4"}}));
}

}  // namespace synshard::testing
