#include "core/diag.hpp"

#include <algorithm>
#include <cstdio>

#include "core/json.hpp"

namespace khospec {

std::string_view level_name(Level level) {
  switch (level) {
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
  }
  return "error";
}

Diagnostic& Report::add(Diagnostic d) {
  diags_.push_back(std::move(d));
  return diags_.back();
}

std::size_t Report::count(Level level) const {
  return static_cast<std::size_t>(std::count_if(
      diags_.begin(), diags_.end(), [&](const Diagnostic& d) { return d.level == level; }));
}

bool Report::has(std::string_view rule) const {
  return std::any_of(diags_.begin(), diags_.end(),
                     [&](const Diagnostic& d) { return d.rule == rule; });
}

void Report::append(const Report& other) {
  diags_.insert(diags_.end(), other.diags_.begin(), other.diags_.end());
}

int Report::exit_code(bool werror) const {
  for (const auto& d : diags_) {
    if (d.level == Level::error || (werror && d.level == Level::warning)) return exit_findings;
  }
  return exit_clean;
}

void render_text(std::ostream& out, const Diagnostic& d) {
  out << (d.file.empty() ? "<input>" : d.file);
  if (d.offset) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "@0x%llx", static_cast<unsigned long long>(*d.offset));
    out << buf;
  }
  out << ": " << level_name(d.level) << " (" << d.rule << "): ";
  if (!d.node.empty() || !d.property.empty()) {
    out << (d.node.empty() ? "/" : d.node);
    if (!d.property.empty()) out << ':' << d.property;
    out << ": ";
  }
  out << d.message << '\n';
  for (const auto& h : d.hints) out << "\thint: " << h << '\n';
}

void write_json(JsonWriter& w, const Diagnostic& d) {
  w.begin_object();
  w.key("type").value(d.type);
  w.key("level").value(level_name(d.level));
  w.key("rule").value(d.rule);
  w.key("file").value(d.file);
  w.key("offset");
  if (d.offset) w.value(*d.offset); else w.null();
  w.key("node").value(d.node);
  w.key("property").value(d.property);
  w.key("message").value(d.message);
  w.key("hint").begin_array();
  for (const auto& h : d.hints) w.value(h);
  w.end_array();
  if (!d.derived_from.empty()) w.key("derived_from").value(d.derived_from);
  w.end_object();
}

std::vector<Diagnostic> verdicts_first(const std::vector<Diagnostic>& diags) {
  auto derives = [](const Diagnostic& d, const Diagnostic& v) {
    return !d.derived_from.empty() && d.derived_from == v.rule && d.file == v.file;
  };
  std::vector<Diagnostic> out;
  std::vector<bool> taken(diags.size(), false);
  for (std::size_t i = 0; i < diags.size(); ++i) {
    const bool verdict = std::any_of(diags.begin(), diags.end(), [&](const Diagnostic& d) { return derives(d, diags[i]); });
    if (!verdict || taken[i]) continue;
    out.push_back(diags[i]);
    taken[i] = true;
    for (std::size_t j = 0; j < diags.size(); ++j) {
      if (!taken[j] && derives(diags[j], diags[i])) {
        out.push_back(diags[j]);
        taken[j] = true;
      }
    }
  }
  for (std::size_t i = 0; i < diags.size(); ++i)
    if (!taken[i]) out.push_back(diags[i]);
  return out;
}

void write_json_diagnostics(JsonWriter& w, const std::vector<Diagnostic>& diags) {
  w.key("diagnostics").begin_array();
  for (const auto& d : diags) write_json(w, d);
  w.end_array();
}

}  // namespace khospec
