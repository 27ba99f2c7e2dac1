#include "synshard/cli/synset_text.hpp"

namespace synshard::cli {

std::string first_word(std::string_view words) {
    return std::string(words.substr(0, words.find(',')));
}

std::string path_text(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& step : words) text += (text.empty() ? "" : " > ") + first_word(step);
    return text;
}

}  // namespace synshard::cli
