#include "synshard/synth/synsets.hpp"

#include <array>

namespace synshard::synth {
namespace {

constexpr Synset kSynsets[] = {
#include "wordnet_synsets.inc"
};

}  // namespace

std::span<const Synset> embedded_synsets() {
    return kSynsets;
}

}  // namespace synshard::synth
