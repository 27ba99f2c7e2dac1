#include <array>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string_view>

#include "checks.hpp"

namespace synshard::verify {

void check_tally(const manifest::Manifest& manifest, const Tally& tally,
                 const VerifyOptions& options, Report& report) {
    ProblemList problems(manifest::kManifestFileName, report);
    if (!tally.complete) return;  // the shards not read whole are the problems
    for (const auto& [split, entry] : manifest.splits) {
        const auto found = tally.class_counts.find(split);
        for (std::size_t c = 0; c < manifest.classes.size(); ++c) {
            const auto& summary = manifest.classes[c];
            const auto claimed = summary.counts.find(split);
            const std::uint64_t expected = claimed == summary.counts.end() ? 0 : claimed->second;
            const std::uint64_t held =
                found == tally.class_counts.end() || c >= found->second.size() ? 0
                                                                               : found->second[c];
            if (expected != held) {
                problems.add("classes[" + std::to_string(c) + "] (" + summary.synset + ") counts." +
                             split + " is " + std::to_string(expected) + ", its shards hold " +
                             std::to_string(held));
            }
        }
    }
    if (!options.full) return;
    const auto& sums = tally.train_pixels;
    const manifest::PixelStats stored =
        manifest::stats_of(sums.sum, sums.sum_of_squares, sums.pixels);
    const auto text = [](const std::array<double, 3>& values) {
        std::ostringstream out;
        out << std::setprecision(17) << "[" << values[0] << ", " << values[1] << ", " << values[2]
            << "]";
        return out.str();
    };
    // The converter sums the pixels before the lossy encoding, verify those it decodes.
    const auto check = [&](std::string_view name, const std::array<double, 3>& claimed,
                           const std::array<double, 3>& held, double tolerance) {
        for (std::size_t c = 0; c < 3; ++c) {
            if (std::abs(claimed[c] - held[c]) <= tolerance) continue;
            std::ostringstream apart;
            apart << " (more than " << tolerance << " apart)";
            problems.add("stats." + std::string(name) + " is " + text(claimed) +
                         ", the stored train pixels give " + text(held) + apart.str());
            return;
        }
    };
    check("mean", manifest.stats.mean, stored.mean, manifest::kStatsMeanTolerance);
    check("std", manifest.stats.std, stored.std, manifest::kStatsStdTolerance);
}

}  // namespace synshard::verify
