#include <string>
#include <vector>

#include "synshard/cli/run.hpp"

int main(int argc, char** argv) {
    return synshard::cli::run(std::vector<std::string>(argv + 1, argv + argc));
}
