#pragma once

#include <optional>

#include "synshard/convert/journal.hpp"
#include "synshard/convert/options.hpp"
#include "synshard/mpi/comm.hpp"
#include "synshard/util/exit_code.hpp"

namespace synshard::convert {

// Collective: converts the corpus into OUT (see docs/ARCHITECTURE.md for the phases).
// With options.stats, once the manifest is written the root also writes that JSON file:
// {"ranks": P, "exit_code": C, "per_rank": [{"rank", "seconds" (the rank's whole run),
// "peak_rss_bytes" (its VmHWM at the end), "phases" {phase: seconds as the rank saw it},
// "write_exchange_seconds" (the write rounds' image exchange, inside "write"), "stages"
// {"decode", "resize", "encode" seconds, "images", "source_pixels"} (its Pipeline's
// StageTimes)}, ...]} for benchmarks (`synshard bench`).
// Returns success, completed_with_rejections or interrupted; throws on failure (a
// PhaseFailure on every rank).
ExitCode convert(const ConvertOptions& options, const mpi::Comm& comm);

// What convert refuses about OUT before it plans, found on one process writing nothing:
// OUT is a file, or holds a file synshard did not write (UsageError naming it), a
// manifest.json without a journal, or an unfinished run when options.resume is false.
// Returns OUT's journal, if any (none with --restart). `convert --dry-run` checks it too.
std::optional<Journal> check_output(const ConvertOptions& options);

}  // namespace synshard::convert
