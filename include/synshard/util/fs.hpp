#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace synshard {

// The absolute path with every symbolic link of its existing part resolved, "." and ".."
// folded and no trailing separator: "out", "./out", "out/" and "/abs/out" give the same.
std::filesystem::path canonical_path(const std::filesystem::path& path);

// Whether inner is outer or lies inside it (both canonical).
bool is_same_or_inside(const std::filesystem::path& inner, const std::filesystem::path& outer);

// Reads a whole regular file. Throws Error naming the path on any failure.
std::vector<std::uint8_t> read_file(const std::filesystem::path& path);

// fsync() on a directory, so that a rename inside it survives a crash.
void fsync_directory(const std::filesystem::path& directory);

// fsync() on a file by path.
void fsync_file(const std::filesystem::path& path);

// The temporary name a file is written under before it is published: "<path>.tmp".
std::filesystem::path temporary_path_for(const std::filesystem::path& final_path);

// Publishes a finished temporary file: fsync it, rename it over final_path, fsync the
// directory. After a crash either the old state or the complete new file is visible.
void publish_file(const std::filesystem::path& temporary, const std::filesystem::path& final_path);

// Writes bytes to "<path>.tmp", checks every step, then publishes it under path.
// On failure the temporary file is removed and Error names the path and errno.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace synshard
