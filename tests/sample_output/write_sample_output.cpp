// Writes the sample output of sample_output.hpp into a directory, for the Python check
// and for the cross-process determinism test: write_sample_output OUT [raw]
#include <iostream>
#include <string>

#include "sample_output.hpp"
#include "synshard/util/error.hpp"

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3 || (argc == 3 && std::string(argv[2]) != "raw")) {
        std::cerr << "usage: write_sample_output OUT [raw]\n";
        return 2;
    }
    try {
        synshard::testing::write_sample_output(argv[1], argc == 3);
    } catch (const synshard::Error& error) {
        std::cerr << error.what() << "\n";
        return 1;
    }
    return 0;
}
