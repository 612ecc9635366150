#include "sim/faults/table.h"

#include <algorithm>
#include <stdexcept>

namespace lockstep::sim {

// Each defined in its kind's file in sim/faults/.
#define LOCKSTEP_FAULT_KIND(kind, descriptor) const FaultDescriptor& descriptor();
#include "core/faults/kinds.def"
#undef LOCKSTEP_FAULT_KIND

const std::vector<const FaultDescriptor*>& fault_table() {
  static const std::vector<const FaultDescriptor*> table = [] {
    std::vector<const FaultDescriptor*> t = {
#define LOCKSTEP_FAULT_KIND(kind, descriptor) &descriptor(),
#include "core/faults/kinds.def"
#undef LOCKSTEP_FAULT_KIND
    };
    // The enum and the table are made from the same rows; a descriptor that names another
    // kind than its row is a slip in its file.
    for (size_t i = 0; i < t.size(); ++i)
      if (static_cast<size_t>(t[i]->kind) != i)
        throw std::logic_error("fault descriptor " + std::string(t[i]->name) +
                               " is not in its row of core/faults/kinds.def");
    return t;
  }();
  return table;
}

const FaultDescriptor& fault_descriptor(FaultKind kind) {
  return *fault_table()[static_cast<size_t>(kind)];
}

std::string_view fault_name(FaultKind kind) { return fault_descriptor(kind).name; }

const std::vector<FaultKind>& fault_kinds() {
  static const std::vector<FaultKind> kinds = [] {
    std::vector<FaultKind> v;
    for (const FaultDescriptor* d : fault_table()) v.push_back(d->kind);
    return v;
  }();
  return kinds;
}

const std::vector<std::string>& fault_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const FaultDescriptor* d : fault_table()) v.emplace_back(d->name);
    return v;
  }();
  return names;
}

const FaultDescriptor* find_fault(std::string_view name) {
  for (const FaultDescriptor* d : fault_table())
    if (d->name == name) return d;
  return nullptr;
}

const FaultDescriptor* find_fault_or_alias(std::string_view name) {
  if (const FaultDescriptor* d = find_fault(name)) return d;
  for (const FaultDescriptor* d : fault_table())
    if (std::find(d->aliases.begin(), d->aliases.end(), name) != d->aliases.end()) return d;
  return nullptr;
}

}  // namespace lockstep::sim
