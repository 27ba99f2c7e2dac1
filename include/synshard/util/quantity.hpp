#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Numbers as messages say them, so that every message counts things the same way.
namespace synshard {

// "1 shard", "2 shards", "1 class", "0 classes": the plural is the singular with "s", or
// "es" after s, x, ch and sh; `plural` names an irregular one ("1 index", "2 indices").
std::string count_of(std::uint64_t count, std::string_view singular, std::string_view plural = {});

// A share of a whole with one decimal: "99.8%". Only nothing is "0%" and only everything
// "100%": 9,999 of 10,000 is "99.9%", not "100.0%"; 1 of 10,000 is "0.1%", not "0.0%".
std::string percent_of(std::uint64_t part, std::uint64_t whole);

// Pixels with three significant digits: "2.29 Mpixel", "786 kpixel", "512 pixel".
std::string pixel_count(std::uint64_t pixels);

}  // namespace synshard
