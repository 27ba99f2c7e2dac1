#pragma once

#include <stdexcept>
#include <string>

namespace synshard {

// Anything that stops a command: a broken environment, an unwritable output, a bug in
// the input that is not one image's fault. The message carries its own context
// ("writing OUT/train/train-00003-of-00010.h5.tmp: No space left on device").
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// A command line or job file that cannot be run as written: exit code 2, nothing written.
class UsageError : public Error {
  public:
    using Error::Error;
};

// Throws Error("<what>: <strerror(errno_value)>").
[[noreturn]] void throw_system_error(const std::string& what, int errno_value);

}  // namespace synshard
