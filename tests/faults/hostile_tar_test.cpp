// Per-synset tars that are truncated, hold `../` and absolute members, or declare a
// 20 GiB member: each is reported, nothing is written outside OUT, memory stays bounded,
// and the rest converts.

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>

#include "faults/fault_support.hpp"

namespace synshard::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::filesystem::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

// A hand-made ustar stream: headers as a hostile tool would write them, which no
// well-behaved tar writer produces (`..` and absolute names, sizes that are lies).
class RawTar {
  public:
    // A member `name` whose header declares `declared` bytes and whose data is `data`
    // (padded to 512). Sizes over 8 GiB use GNU's base-256 size field.
    void add(const std::string& name, const Bytes& data, std::uint64_t declared) {
        std::array<char, 512> header{};
        std::snprintf(header.data(), 100, "%s", name.c_str());
        std::snprintf(header.data() + 100, 8, "%07o", 0644);
        std::snprintf(header.data() + 108, 8, "%07o", 0);
        std::snprintf(header.data() + 116, 8, "%07o", 0);
        if (declared < (std::uint64_t{1} << 33)) {
            std::snprintf(header.data() + 124, 12, "%011llo",
                          static_cast<unsigned long long>(declared));
        } else {
            header[124] = static_cast<char>(0x80);
            for (int i = 0; i < 8; ++i) {
                header[static_cast<std::size_t>(135 - i)] =
                    static_cast<char>((declared >> (8 * i)) & 0xff);
            }
        }
        std::snprintf(header.data() + 136, 12, "%011o", 0);
        header[156] = '0';
        std::memcpy(header.data() + 257, "ustar", 6);
        std::memcpy(header.data() + 263, "00", 2);
        std::memset(header.data() + 148, ' ', 8);
        unsigned sum = 0;
        for (const char c : header) sum += static_cast<unsigned char>(c);
        std::snprintf(header.data() + 148, 8, "%06o", sum);
        header[155] = ' ';
        bytes_.insert(bytes_.end(), header.begin(), header.end());
        bytes_.insert(bytes_.end(), data.begin(), data.end());
        bytes_.resize((bytes_.size() + 511) / 512 * 512, 0);
    }
    void add(const std::string& name, const Bytes& data) { add(name, data, data.size()); }
    // The two zero blocks that end an archive.
    void end() { bytes_.resize(bytes_.size() + 1024, 0); }
    const Bytes& bytes() const { return bytes_; }

  private:
    Bytes bytes_;
};

std::set<std::string> entries_of(const std::filesystem::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        names.insert(entry.path().filename().string());
    return names;
}

TEST(FaultsHostileTar, TruncatedUnsafeAndHugeMembersAreReportedAndTheRestConverts) {
    TempDir dir;
    const auto corpus = dir / "corpus";
    make_synth_corpus(corpus, 5, 12);
    const auto tars = corpus / "train_tars";
    std::vector<std::filesystem::path> synsets;
    for (const auto& entry : std::filesystem::directory_iterator(tars)) synsets.push_back(entry);
    std::sort(synsets.begin(), synsets.end());
    ASSERT_EQ(synsets.size(), 5u);
    const auto wnid = [&](std::size_t i) { return synsets[i].stem().string(); };
    // Real images of class i (from the folder layout, which is not converted here), so
    // that the hostile tars' good members are no duplicates of anything converted.
    const auto image_of = [&](std::size_t i, std::size_t k) {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(corpus / "train" / wnid(i)))
            files.push_back(entry);
        std::sort(files.begin(), files.end());
        return files.at(k);
    };
    const auto jpeg = [&](std::size_t i, std::size_t k) { return read_bytes(image_of(i, k)); };

    // Tar 0 cut in the middle: its first members convert, the rest is an archive error.
    Bytes truncated = read_bytes(synsets[0]);
    const std::size_t cut = truncated.size() / 2 + 100;
    truncated.resize(cut);
    write_bytes(synsets[0], truncated);
    const std::string absolute = (dir / "abs-evil.JPEG").string();
    {
        RawTar tar;
        tar.add(image_of(1, 0).filename().string(), jpeg(1, 0));
        tar.add("../evil", jpeg(1, 1));
        tar.add("../../" + wnid(1) + "_evil.JPEG", jpeg(1, 1));
        tar.add(absolute, jpeg(1, 1));
        tar.add(image_of(1, 2).filename().string(), jpeg(1, 2));
        tar.end();
        write_bytes(synsets[1], tar.bytes());
    }
    {
        RawTar tar;
        tar.add(image_of(2, 0).filename().string(), jpeg(2, 0));
        tar.add(wnid(2) + "_huge.JPEG", Bytes(4096, 0xff), std::uint64_t{20} << 30);
        write_bytes(synsets[2], tar.bytes());  // no end: the data stops after 4 KiB
    }

    const auto out = dir / "out";
    const auto before = entries_of(dir.path());
    const auto cwd = dir / "cwd";
    std::filesystem::create_directory(cwd);
    const ProcessResult result = run_shell(
        "cd " + shell_quote(cwd.string()) +
        " && timeout -k 5 120 /usr/bin/time -f 'maxrss_kb=%M' " +
        convert_command(tars, out, dir / "scratch", "--max-reject-fraction 0.9") + " 2>&1");
    ASSERT_EQ(result.exit_code, 3) << result.output;

    std::smatch rss;
    ASSERT_TRUE(std::regex_search(result.output, rss, std::regex("maxrss_kb=([0-9]+)")))
        << result.output;
    EXPECT_LT(std::stoull(rss[1]), 300u * 1024) << "peak RSS in KiB";

    // Nothing outside OUT: no new entry next to it, no evil file anywhere we can name.
    auto after = entries_of(dir.path());
    after.erase("out");
    after.erase("cwd");
    after.erase("scratch");  // the run removes it; gone or not, it is ours
    EXPECT_EQ(after, before);
    EXPECT_TRUE(std::filesystem::is_empty(cwd));
    EXPECT_FALSE(std::filesystem::exists(absolute));
    EXPECT_TRUE(files_ending_with(dir.path(), "evil").empty());
    EXPECT_TRUE(files_ending_with(dir.path(), "_evil.JPEG").empty());
    EXPECT_TRUE(files_ending_with(out, ".JPEG").empty());

    const auto manifest = read_json(out / "manifest.json");
    const auto& rejected = manifest["rejected"];
    const auto reasons_for = [&](const std::string& needle) {
        return rejected_reasons(manifest, needle);
    };
    EXPECT_EQ(reasons_for("../evil"), std::vector<std::string>{"unsafe-path"}) << rejected.dump(2);
    EXPECT_EQ(reasons_for(wnid(1) + "_evil.JPEG"), std::vector<std::string>{"unsafe-path"})
        << rejected.dump(2);
    EXPECT_EQ(reasons_for(absolute), std::vector<std::string>{"unsafe-path"}) << rejected.dump(2);
    EXPECT_EQ(reasons_for(wnid(2) + "_huge.JPEG"), std::vector<std::string>{"too-large"})
        << rejected.dump(2);
    EXPECT_FALSE(reasons_for(synsets[0].filename().string()).empty()) << rejected.dump(2);
    for (const auto& reason : reasons_for(synsets[0].filename().string())) {
        EXPECT_EQ(reason, "archive-error");
    }

    // The rest converted: tars 3 and 4 whole, tar 1's two safe members, tar 2's first,
    // and tar 0's members before the cut.
    std::uint64_t whole = 0;
    for (const std::size_t i : {3u, 4u}) {
        for (const auto& entry : std::filesystem::directory_iterator(corpus / "train" / wnid(i))) {
            whole += entry.is_regular_file() ? 1 : 0;
        }
    }
    const auto converted = manifest["splits"]["train"]["num_samples"].get<std::uint64_t>();
    EXPECT_GE(converted, whole + 3 + 1) << result.output;
    const ProcessResult verified = run_synshard({"verify", out.string()});
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

}  // namespace
}  // namespace synshard::testing
