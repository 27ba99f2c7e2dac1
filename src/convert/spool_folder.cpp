#include "synshard/convert/spool_folder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "synshard/convert/output_files.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"
#include "synshard/util/hash.hpp"

namespace synshard::convert {

namespace {

namespace fs = std::filesystem;

nlohmann::ordered_json fields_of(const SpoolHeader& header) {
    return {{"format_version", header.format_version},
            {"run_id", header.run_id},
            {"output", header.output},
            {"processing_options", header.processing_options},
            {"resume_fingerprint", header.resume_fingerprint}};
}

std::string checksum_of(const nlohmann::ordered_json& fields) {
    const std::string text = fields.dump();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(content_hash64(
                      std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()))));
    return hex;
}

std::uint64_t bytes_in(const fs::path& folder) {
    std::uint64_t bytes = 0;
    std::error_code error;
    for (auto it = fs::recursive_directory_iterator(folder, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        std::error_code ignored;
        if (it->is_regular_file(ignored)) bytes += it->file_size(ignored);
    }
    return bytes;
}

}  // namespace

fs::path spool_folder(const fs::path& scratch, const std::string& run_id) {
    return scratch / ("synshard-" + run_id);
}

fs::path spool_header_path(const fs::path& folder) {
    return folder / "header.json";
}

std::optional<SpoolHeader> read_spool_header(const fs::path& folder) {
    const auto path = spool_header_path(folder);
    std::error_code error;
    if (!fs::exists(path, error)) return std::nullopt;
    const auto bytes = read_file(path);
    try {
        auto json = nlohmann::ordered_json::parse(bytes.begin(), bytes.end());
        const auto checksum = json.at("checksum").get<std::string>();
        json.erase("checksum");
        if (checksum != checksum_of(json)) throw Error("its checksum does not match");
        SpoolHeader header;
        header.format_version = json.at("format_version").get<int>();
        header.run_id = json.at("run_id").get<std::string>();
        header.output = json.at("output").get<std::string>();
        header.processing_options = json.at("processing_options");
        header.resume_fingerprint = json.at("resume_fingerprint").get<std::string>();
        if (fields_of(header) != json) throw Error("it holds fields of another layout");
        return header;
    } catch (const nlohmann::json::exception& failure) {
        throw Error("spool folder header " + path.string() + " is unreadable: " + failure.what());
    } catch (const Error& failure) {
        throw Error("spool folder header " + path.string() + " is unreadable: " + failure.what());
    }
}

void create_spool_header(const fs::path& folder, const SpoolHeader& header) {
    auto json = fields_of(header);
    json["checksum"] = checksum_of(json);
    const std::string text = json.dump(2) + "\n";
    const auto path = spool_header_path(folder);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST) return;
        throw_system_error("creating " + path.string(), errno);
    }
    const UniqueFd file(fd);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t written = ::write(file.get(), text.data() + done, text.size() - done);
        if (written < 0 && errno == EINTR) continue;
        if (written < 0) throw_system_error("writing " + path.string(), errno);
        done += static_cast<std::size_t>(written);
    }
    if (::fsync(file.get()) != 0) throw_system_error("fsync " + path.string(), errno);
    fsync_directory(folder);
}

std::vector<OtherSpoolFolder> other_spool_folders(const fs::path& scratch, const fs::path& own) {
    std::vector<OtherSpoolFolder> found;
    std::error_code error;
    for (auto it = fs::directory_iterator(scratch, error); !error && it != fs::directory_iterator();
         it.increment(error)) {
        const auto& path = it->path();
        std::error_code ignored;
        if (path == own || !is_spool_folder_name(path.filename().string()) ||
            it->symlink_status(ignored).type() != fs::file_type::directory) {
            continue;
        }
        OtherSpoolFolder other{path, std::nullopt, bytes_in(path)};
        try {
            other.header = read_spool_header(path);
        } catch (const Error&) {
            // Unreadable: whose it is cannot be told, so it is left alone.
        }
        found.push_back(std::move(other));
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.path < b.path; });
    return found;
}

}  // namespace synshard::convert
