// patternProperties matching: a position-set automaton for the patterns KHO schemas
// use, std::regex (compiled once per process) for the rest.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <string_view>

#include "conformance/schema/pattern.hpp"
#include "conformance/schema/schema_internal.hpp"

namespace khospec::conformance {

namespace {

// Why libstdc++ cannot be trusted to compile `re`, or "": over kMaxPatternLength
// characters (it compiles recursively), or counts it mishandles. It copies a repeated
// atom once per count, so a{1000}{1000} is a million states, and it reads a count or a
// back-reference number into a long that 20 digits overflow (UBSan, the compat long
// run). The polynomial executor refuses back-references, but only after reading that
// number, so their digits are bounded here too. The product of the {n}, {n,} and
// {n,m} counts (each its largest number) is bounded; braces in bracket classes and
// escaped ones are literals. It over-counts counts that do not nest, which is safe: it
// only refuses.
std::string pattern_problem(std::string_view re) {
  if (re.size() > kMaxPatternLength)
    return "it has " + std::to_string(re.size()) + " characters, more than the " +
           std::to_string(kMaxPatternLength) + " std::regex can compile safely";
  const auto too_many = [] {
    return "its {n} repetition counts multiply to more than " + std::to_string(kMaxPatternRepetition) +
           " (std::regex copies a repeated atom that many times)";
  };
  std::uint64_t product = 1;
  bool in_class = false;
  auto digits_from = [&](std::size_t i) {
    std::size_t n = 0;
    while (i + n < re.size() && std::isdigit(static_cast<unsigned char>(re[i + n]))) ++n;
    return n;
  };
  for (std::size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\') {
      if (digits_from(i + 1) > 4) return "it has a back-reference number of more than 4 digits";
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;  // ECMAScript: "[]" is an empty class, its ']' closes it
    } else if (c == '{') {
      std::uint64_t count = 0;
      while (i + 1 < re.size() && (std::isdigit(static_cast<unsigned char>(re[i + 1])) || re[i + 1] == ',')) {
        ++i;
        if (re[i] == ',') continue;
        const std::size_t n = digits_from(i);
        if (n > 9) return too_many();
        count = std::max<std::uint64_t>(count, std::stoull(std::string(re.substr(i, n))));
        i += n - 1;
      }
      product *= std::max<std::uint64_t>(count, 1);  // <= 1024 * (10^9 - 1): no overflow
      if (product > kMaxPatternRepetition) return too_many();
    }
  }
  return "";
}

}  // namespace

std::shared_ptr<const std::regex> compile_pattern(const std::string& re, std::string* why) {
  if (std::string problem = pattern_problem(re); !problem.empty()) {
    if (why) *why = std::move(problem);
    return nullptr;
  }
  try {
    // libstdc++'s __polynomial: the breadth-first executor, whose time is polynomial
    // in the name; the default one backtracks, exponentially on (a*)*b (a compat
    // long-run timeout). It refuses back-references, which no KHO pattern uses.
    return std::make_shared<const std::regex>(re, std::regex::ECMAScript | std::regex_constants::__polynomial);
  } catch (const std::regex_error& e) {
    if (why) *why = e.what();
  }
  return nullptr;
}

namespace schema_detail {

std::shared_ptr<const std::regex> cached_regex(const std::string& re) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const std::regex>, std::less<>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(re); it != cache.end()) return it->second;
  }
  std::shared_ptr<const std::regex> r = compile_pattern(re);
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() < kMaxCachedRegexes) cache.emplace(re, r);
  return r;
}

bool pattern_matches(const std::string& name, const std::string& re) {
  const auto r = cached_regex(re);
  return r && std::regex_search(name, *r);
}

}  // namespace schema_detail

namespace compiled_schema {

namespace {

bool class_literal(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view(",._+-@#").find(c) != std::string_view::npos;
}
bool plain_literal(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view(",_-@#").find(c) != std::string_view::npos;
}
bool same_kind(char a, char b) {
  auto kind = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? 1 : std::islower(static_cast<unsigned char>(c)) ? 2 : std::isupper(static_cast<unsigned char>(c)) ? 3 : 0; };
  return kind(a) != 0 && kind(a) == kind(b) && a <= b;
}

// False when `re` is outside the subset (the caller keeps std::regex).
bool parse_simple(const std::string& re, Matcher& m) {
  std::size_t i = 0;
  if (i < re.size() && re[i] == '^') {
    m.begin = true;
    ++i;
  }
  std::size_t stop = re.size();
  if (stop > i && re[stop - 1] == '$') {
    if (stop >= 2 && re[stop - 2] == '\\') return false;
    m.end = true;
    --stop;
  }
  while (i < stop) {
    Atom a;
    if (re[i] == '[') {
      ++i;
      if (i < stop && (re[i] == '^' || re[i] == ']')) return false;
      bool closed = false;
      while (i < stop) {
        const char c = re[i];
        if (c == ']') {
          closed = true;
          ++i;
          break;
        }
        if (!class_literal(c)) return false;
        if (c == '-') {
          // A literal '-' only first or last in the class.
          if (!(re[i - 1] == '[' || (i + 1 < stop && re[i + 1] == ']'))) return false;
          a.set.set(static_cast<unsigned char>(c));
          ++i;
          continue;
        }
        if (i + 2 < stop && re[i + 1] == '-' && re[i + 2] != ']') {
          const char hi = re[i + 2];
          if (!same_kind(c, hi)) return false;
          for (int x = static_cast<unsigned char>(c); x <= static_cast<unsigned char>(hi); ++x) a.set.set(static_cast<std::size_t>(x));
          i += 3;
          continue;
        }
        a.set.set(static_cast<unsigned char>(c));
        ++i;
      }
      if (!closed || a.set.none()) return false;
    } else if (plain_literal(re[i])) {
      a.set.set(static_cast<unsigned char>(re[i]));
      ++i;
    } else {
      return false;
    }
    char q = 0;
    if (i < stop && (re[i] == '*' || re[i] == '+' || re[i] == '?')) q = re[i++];
    if (q == '+') {
      m.atoms.push_back(a);
      q = '*';
    }
    a.q = q;
    m.atoms.push_back(a);
    if (m.atoms.size() > 62) return false;
  }
  return true;
}

}  // namespace

Matcher make_matcher(const std::string& re) {
  Matcher m;
  if (parse_simple(re, m)) {
    m.kind = Matcher::Kind::nfa;
    m.one_class_plus = m.begin && m.end && m.atoms.size() == 2 && m.atoms[0].q == 0 && m.atoms[1].q == '*' &&
                       m.atoms[0].set == m.atoms[1].set;
    // The pattern must still be one std::regex accepts (it always is in this subset).
    if (!schema_detail::cached_regex(re)) m.kind = Matcher::Kind::never;
    return m;
  }
  m = Matcher{};
  m.re = schema_detail::cached_regex(re);
  m.kind = m.re ? Matcher::Kind::regex : Matcher::Kind::never;
  if (m.re) m.pattern = re;
  return m;
}

bool Matcher::match(std::string_view name) const {
  switch (kind) {
    case Kind::never: return false;
    case Kind::regex: {
      std::string n(name);
      return std::regex_search(n, *re);
    }
    case Kind::nfa: break;
  }
  if (one_class_plus) {
    if (name.empty()) return false;
    for (char ch : name)
      if (!atoms[0].set[static_cast<unsigned char>(ch)]) return false;
    return true;
  }
  const std::size_t k = atoms.size();
  const std::uint64_t accept = std::uint64_t{1} << k;
  auto closure = [&](std::uint64_t s) {
    for (std::size_t i = 0; i < k; ++i)
      if ((s >> i & 1) && atoms[i].q != 0) s |= std::uint64_t{1} << (i + 1);
    return s;
  };
  std::uint64_t s = closure(1);
  if (!end && (s & accept)) return true;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < k; ++i) {
      if (!(s >> i & 1) || !atoms[i].set[c]) continue;
      t |= std::uint64_t{1} << (atoms[i].q == '*' ? i : i + 1);
    }
    if (!begin) t |= 1;
    s = closure(t);
    if (!end && (s & accept)) return true;
    if (s == 0) return false;
  }
  return (s & accept) != 0;
}

}  // namespace compiled_schema

bool schema_pattern_matches(std::string_view name, const std::string& re) {
  return cs::make_matcher(re).match(name);
}

}  // namespace khospec::conformance
