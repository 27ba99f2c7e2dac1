#pragma once

// What h5.cpp's handles and h5_file.cpp's File share, and no other component needs.

#include <string>

#include "synshard/h5/h5.hpp"

namespace synshard::h5 {

// Switches HDF5's printing of its error stack off, once per process: the stack becomes
// exception text instead (throw_error). Call before any HDF5 call that could fail.
void silence_automatic_printing();

// A creation property list that records no modification times, so that the same
// contents give the same bytes.
PropertyList untimed_creation_list(hid_t plist_class, const std::string& context);

}  // namespace synshard::h5
