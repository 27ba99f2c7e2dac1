#include "synshard/corpus/tar_walker.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string_view>

namespace synshard::corpus {
namespace {

constexpr std::uint64_t kBlock = 512;
using Block = std::array<std::uint8_t, kBlock>;

// Field offsets and lengths of a ustar header block.
struct Field {
    std::size_t offset;
    std::size_t length;
};
constexpr Field kName{0, 100};
constexpr Field kSize{124, 12};
constexpr Field kMtime{136, 12};
constexpr Field kChecksum{148, 8};
constexpr std::size_t kTypeflag = 156;
constexpr Field kMagic{257, 6};
constexpr Field kPrefix{345, 155};

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / kNanosPerSecond;

std::string_view field_view(const Block& block, Field field) {
    return {reinterpret_cast<const char*>(block.data()) + field.offset, field.length};
}

// A NUL-terminated text field (or one filling its whole length).
std::string text_field(const Block& block, Field field) {
    const std::string_view view = field_view(block, field);
    return std::string(view.substr(0, view.find('\0')));
}

bool all_zero(const Block& block) {
    return std::all_of(block.begin(), block.end(), [](std::uint8_t byte) { return byte == 0; });
}

// A numeric field: octal digits between optional spaces and a space or NUL terminator,
// or GNU's base-256 (first byte 0x80 positive, 0xff negative, big-endian two's
// complement). nullopt when malformed or beyond int64.
std::optional<std::int64_t> number_field(const Block& block, Field field) {
    const std::uint8_t* bytes = block.data() + field.offset;
    if (bytes[0] == 0x80 || bytes[0] == 0xff) {
        const bool negative = bytes[0] == 0xff;
        // Two's complement: a negative value's leading bytes are all 0xff, a positive's 0.
        std::uint64_t value = negative ? ~std::uint64_t{0} : 0;
        for (std::size_t i = 1; i < field.length; ++i) {
            const bool significant = i + 8 >= field.length;
            if (!significant && bytes[i] != (negative ? 0xff : 0)) return std::nullopt;
            if (significant) value = (value << 8) | bytes[i];
        }
        const auto signed_value = static_cast<std::int64_t>(value);
        if ((signed_value < 0) != negative) return std::nullopt;
        return signed_value;
    }
    std::size_t i = 0;
    while (i < field.length && bytes[i] == ' ') ++i;
    std::int64_t value = 0;  // 12 octal digits are at most 2^36: no overflow
    for (; i < field.length && bytes[i] >= '0' && bytes[i] <= '7'; ++i)
        value = value * 8 + (bytes[i] - '0');
    for (; i < field.length; ++i) {
        if (bytes[i] != ' ' && bytes[i] != '\0') return std::nullopt;
    }
    return value;
}

// Whether the stored checksum is the sum of the block's bytes with the checksum field
// counted as spaces, as unsigned bytes or (some historic writers) signed ones.
bool checksum_matches(const Block& block) {
    const auto stored = number_field(block, kChecksum);
    if (!stored) return false;
    std::int64_t unsigned_sum = 0;
    std::int64_t signed_sum = 0;
    for (std::size_t i = 0; i < kBlock; ++i) {
        const bool in_field = i >= kChecksum.offset && i < kChecksum.offset + kChecksum.length;
        const std::uint8_t byte = in_field ? ' ' : block[i];
        unsigned_sum += byte;
        signed_sum += static_cast<std::int8_t>(byte);
    }
    return *stored == unsigned_sum || *stored == signed_sum;
}

std::optional<std::int64_t> seconds_to_ns(std::int64_t seconds) {
    if (seconds > kMaxSeconds || seconds < -kMaxSeconds) return std::nullopt;
    return seconds * kNanosPerSecond;
}

std::optional<std::uint64_t> decimal(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
    }
    return value;
}

// A pax time: "[-]seconds[.fraction]", in nanoseconds (the fraction cut to 9 digits).
std::optional<std::int64_t> pax_time_ns(std::string_view text) {
    const bool negative = text.starts_with('-');
    if (negative) text.remove_prefix(1);
    const auto dot = text.find('.');
    const auto seconds = decimal(text.substr(0, dot));
    if (!seconds || *seconds > static_cast<std::uint64_t>(kMaxSeconds)) return std::nullopt;
    std::int64_t nanos = 0;
    if (dot != std::string_view::npos) {
        const std::string_view fraction = text.substr(dot + 1);
        std::int64_t scale = kNanosPerSecond;
        for (const char c : fraction) {
            if (c < '0' || c > '9') return std::nullopt;
            scale /= 10;
            nanos += scale * (c - '0');
        }
    }
    const std::int64_t total = static_cast<std::int64_t>(*seconds) * kNanosPerSecond + nanos;
    return negative ? -total : total;
}

// What pax extended headers ('x') set for the member that follows them.
struct Overrides {
    std::optional<std::string> path;
    std::optional<std::uint64_t> size;
    std::optional<std::int64_t> mtime_ns;
    bool any() const { return path || size || mtime_ns; }
};

// Applies "<length> <key>=<value>\n" records; returns what is wrong, empty when nothing.
std::string apply_pax(std::string_view records, Overrides& overrides) {
    while (!records.empty()) {
        const auto space = records.find(' ');
        const auto length = decimal(records.substr(0, space));
        if (space == std::string_view::npos || !length || *length <= space + 1 ||
            *length > records.size() || records[*length - 1] != '\n') {
            return "malformed pax extended header record";
        }
        const std::string_view record = records.substr(space + 1, *length - space - 2);
        records.remove_prefix(*length);
        const auto equals = record.find('=');
        if (equals == std::string_view::npos) return "pax extended header record without '='";
        const std::string_view key = record.substr(0, equals);
        const std::string_view value = record.substr(equals + 1);
        if (key == "path") {
            if (value.find('\0') != std::string_view::npos) return "pax path holds a NUL byte";
            overrides.path = std::string(value);
        } else if (key == "size") {
            overrides.size = decimal(value);
            if (!overrides.size) return "pax size '" + std::string(value) + "' is not a size";
        } else if (key == "mtime") {
            overrides.mtime_ns = pax_time_ns(value);
            if (!overrides.mtime_ns) return "pax mtime '" + std::string(value) + "' is not a time";
        } else if (key.starts_with("GNU.sparse.")) {
            return "GNU sparse member (not supported)";
        }
    }
    return {};
}

std::uint64_t padded(std::uint64_t size) {
    return (size + kBlock - 1) / kBlock * kBlock;
}

}  // namespace

std::size_t MemoryByteSource::read_at(std::uint64_t offset, std::span<std::uint8_t> buffer) {
    if (offset >= bytes_.size()) return 0;
    const std::size_t count =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), bytes_.size() - offset));
    std::memcpy(buffer.data(), bytes_.data() + offset, count);
    return count;
}

TarWalker::TarWalker(ByteSource& source, std::uint64_t begin, std::uint64_t end, std::string name)
    : source_(source), next_header_(begin), end_(end), name_(std::move(name)) {}

void TarWalker::fail(std::uint64_t offset, const std::string& member, const std::string& what) {
    failure_ = name_ + ": " + (member.empty() ? "" : "member " + member + ": ") + what +
               " (header at offset " + std::to_string(offset) + ")";
    throw ArchiveError(*failure_);
}

bool TarWalker::read_exact(std::uint64_t offset, std::span<std::uint8_t> bytes) {
    if (offset > end_ || bytes.size() > end_ - offset) return false;
    return source_.read_at(offset, bytes) == bytes.size();
}

std::string TarWalker::read_meta(std::uint64_t data_offset, std::uint64_t size,
                                 const std::string& what) {
    if (size > kMaxMetaBytes) {
        fail(data_offset - kBlock, "",
             what + " of " + std::to_string(size) + " bytes (more than " +
                 std::to_string(kMaxMetaBytes) + ")");
    }
    std::string bytes(size, '\0');
    if (!read_exact(data_offset, {reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()})) {
        fail(data_offset - kBlock, "", what + " cut short by the end of the tar");
    }
    return bytes;
}

std::optional<TarMember> TarWalker::next() {
    if (failure_) throw ArchiveError(*failure_);
    Overrides overrides;
    const std::uint64_t first_header = next_header_;
    for (;;) {
        const std::uint64_t offset = next_header_;
        // The end between members: a tar whose end blocks were cut off (or whose last
        // member's padding was) is complete all the same.
        if (offset >= end_) {
            if (overrides.any() || offset != first_header) {
                fail(first_header, "", "extended header with no member after it");
            }
            next_header_ = end_;
            return std::nullopt;
        }
        Block block{};
        if (!read_exact(offset, block)) {
            fail(offset, "",
                 "truncated header: the tar ends " + std::to_string(end_ - offset) +
                     " bytes into it");
        }
        if (all_zero(block)) {
            if (offset != first_header)
                fail(first_header, "", "extended header with no member after it");
            Block second{};
            if (offset + kBlock < end_ &&
                (!read_exact(offset + kBlock, second) || !all_zero(second))) {
                fail(offset, "", "a lone zero block inside the tar");
            }
            next_header_ = end_;
            return std::nullopt;
        }
        std::string path = text_field(block, kName);
        if (!checksum_matches(block)) fail(offset, path, "header checksum mismatch");
        const auto header_size = number_field(block, kSize);
        if (!header_size || *header_size < 0) fail(offset, path, "invalid size field");
        const char typeflag = static_cast<char>(block[kTypeflag]);
        const std::uint64_t data_offset = offset + kBlock;
        std::uint64_t size = static_cast<std::uint64_t>(*header_size);
        // Meta headers describe the member after them.
        if (typeflag == 'x' || typeflag == 'g' || typeflag == 'L' || typeflag == 'K') {
            if (size > end_ - data_offset)
                fail(offset, path, "meta header runs past the end of the tar");
            if (typeflag == 'x') {
                const std::string problem =
                    apply_pax(read_meta(data_offset, size, "pax extended header"), overrides);
                if (!problem.empty()) fail(offset, path, problem);
            } else if (typeflag == 'L') {
                std::string name = read_meta(data_offset, size, "GNU long name");
                name.resize(std::min(name.size(), name.find('\0')));
                overrides.path = std::move(name);
            }
            next_header_ = data_offset + padded(size);
            continue;
        }
        if (!overrides.path) {
            // POSIX ustar keeps long names' folders in the prefix; GNU's magic ("ustar  ")
            // uses those bytes for other fields.
            const std::string prefix = field_view(block, kMagic) == std::string_view("ustar\0", 6)
                                           ? text_field(block, kPrefix)
                                           : std::string();
            if (!prefix.empty()) path = prefix + "/" + path;
        } else {
            path = *overrides.path;
        }
        if (overrides.size) size = *overrides.size;
        TarMember member;
        member.header.path = path;
        member.header_offset = first_header;
        member.data_offset = data_offset;
        switch (typeflag) {
            case '0':
            case '\0':
            case '7':
                // A v7 folder is a plain entry whose name ends with a slash.
                member.header.type = path.ends_with('/') ? MemberHeader::Type::directory
                                                         : MemberHeader::Type::regular;
                break;
            case '1':
                member.header.type = MemberHeader::Type::hardlink;
                break;
            case '2':
                member.header.type = MemberHeader::Type::symlink;
                break;
            case '5':
                member.header.type = MemberHeader::Type::directory;
                break;
            case '3':
            case '4':
            case '6':
                member.header.type = MemberHeader::Type::other;
                break;
            default:
                fail(offset, path, std::string("unsupported member type '") + typeflag + "'");
        }
        // Links and folders store no data, whatever their size field says.
        if (typeflag == '1' || typeflag == '2' || typeflag == '5') size = 0;
        if (size > end_ - data_offset) {
            fail(offset, path,
                 "declared size " + std::to_string(size) + " runs past the end of the tar (" +
                     std::to_string(end_ - data_offset) + " bytes left)");
        }
        member.header.declared_size = static_cast<std::int64_t>(size);
        if (overrides.mtime_ns) {
            member.header.mtime_ns = *overrides.mtime_ns;
        } else {
            const auto seconds = number_field(block, kMtime);
            const auto nanos = seconds ? seconds_to_ns(*seconds) : std::nullopt;
            if (!nanos) fail(offset, path, "invalid mtime field");
            member.header.mtime_ns = *nanos;
        }
        next_header_ = data_offset + padded(size);
        return member;
    }
}

}  // namespace synshard::corpus
