#include "synshard/cli/command.hpp"

namespace synshard::cli {

namespace {

Command with_examples(Command command, std::vector<Example> examples) {
    command.examples = std::move(examples);
    return command;
}

}  // namespace

// The examples run on the sample job of the README (from the repository's top) where they
// can; tests/cli/help_test.cpp parses each of them.
const std::vector<Command>& commands() {
    static const std::vector<Command> all{
        with_examples(synth_command(),
                      {{"synshard synth --config jobs/sample.ini",
                        "the sample corpus of the quick start, in sample/corpus"},
                       {"synshard synth --output /tmp/corpus --num-classes 3 --per-class 8 "
                        "--image-size 48x48",
                        "a tiny corpus of 48x48 images"},
                       {"synshard synth --output /tmp/kaggle --layout kaggle --quirks",
                        "Kaggle's layout, with the known traps"}}),
        with_examples(plan_command(),
                      {{"synshard plan --config jobs/sample.ini",
                        "what convert would do with the sample job's [convert] section"},
                       {"synshard plan --config jobs/sample.ini --ranks 64",
                        "the same, with the work of 64 ranks rank by rank"},
                       {"synshard plan --input /data/imagenet/train --val-fraction 0.02 "
                        "--json plan.json",
                        "every class, piece and rejection as JSON"}}),
        with_examples(convert_command(),
                      {{"mpirun -np 4 synshard convert --config jobs/sample.ini",
                        "convert the sample job on 4 ranks (exit 3: its traps are rejected)"},
                       {"synshard convert --config jobs/sample.ini --dry-run",
                        "print the plan and shard counts, write nothing"},
                       {"synshard convert --input sample/corpus/train --output /tmp/out "
                        "--resize crop:224 --shard-size 256 --no-resume",
                        "224x224 crops; refuse to touch an unfinished run in /tmp/out"}}),
        with_examples(verify_command(), {{"synshard verify sample/out", "check the sample output"},
                                         {"synshard verify --full sample/out --json report.json",
                                          "decode every image too, and keep the report"},
                                         {"synshard verify --config jobs/regenerate.ini "
                                          "/scratch/imagenet/imagenet-1k-regenerated",
                                          "the [verify] section of a job file (full = true)"}}),
        with_examples(inspect_command(),
                      {{"synshard inspect sample/out", "counts, classes, sizes, rejects"},
                       {"synshard inspect sample/out --class n01440764",
                        "one class, or an ancestor and the classes below it"},
                       {"synshard inspect sample/out --rejected too-small",
                        "the inputs rejected as too small"}}),
        with_examples(show_command(),
                      {{"synshard show sample/out --out sample.png",
                        "the first train sample, with its boxes"},
                       {"synshard show sample/out --split val --contact-sheet 16 --out val.png",
                        "the first 16 val samples on one sheet"}}),
        with_examples(locate_command(),
                      {{"synshard locate sample/out n01440764/n01440764_1360.JPEG",
                        "where a train image is stored"},
                       {"synshard locate sample/out val/ILSVRC2012_val_00000001.JPEG "
                        "n01440764/n01440764_1360.JPEG",
                        "several keys at once"}}),
        with_examples(hierarchy_command(),
                      {{"synshard hierarchy n01440764", "tench: its words and hypernym paths"},
                       {"synshard hierarchy --wordnet /usr/share/wordnet n02084071 n02121808",
                        "dog and domestic cat, from the WordNet given"}}),
        with_examples(bench_command(),
                      {{"synshard bench --work-dir /tmp/bench",
                        "synshard against the naive path at 1 and 2 ranks"},
                       {"synshard bench --work-dir /tmp/bench --images 0 --scale 20000,200000",
                        "time per image and peak RSS at scale only"}})};
    return all;
}

}  // namespace synshard::cli
