#pragma once
// The Prometheus text exposition format, version 0.0.4: written by hand
// because Debian 12 has no Prometheus client library for C++, and the format
// is a few lines of text per metric family.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace gatehouse::metrics {

struct Label {
  std::string_view name;
  std::string_view value;
};

enum class Type { kCounter, kGauge, kHistogram };

// Builds one scrape's text. Call family() once per metric name, then its
// samples; names are given without the prefix, which family() adds unless
// told not to (the standard process_* names have none).
class Exposition {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  explicit Exposition(std::string prefix) : prefix_(std::move(prefix)) {}

  // Writes the # HELP and # TYPE lines of a family; the samples that follow
  // belong to it.
  void family(std::string_view name, std::string_view help, Type type, bool prefixed = true);

  // A counter or gauge sample of the current family.
  void sample(std::initializer_list<Label> labels, double value);
  void sample(std::span<const Label> labels, double value);

  // A histogram of the current family: `counts` has one entry per bound
  // plus one for values above the last bound (not cumulative); written as
  // cumulative _bucket lines ending with le="+Inf", then _sum and _count.
  void histogram(std::span<const Label> labels, std::span<const double> bounds,
                 std::span<const uint64_t> counts, double sum);

  const std::string& text() const { return out_; }

  // Label values escape \, " and newline; HELP text escapes \ and newline.
  static std::string escapeLabelValue(std::string_view value);
  static std::string escapeHelp(std::string_view help);
  // Integers as integers, +Inf / -Inf / NaN as Prometheus spells them,
  // anything else in the shortest form that reads back the same.
  static std::string formatValue(double value);

 private:
  void writeSample(std::string_view suffix, std::span<const Label> labels, const Label* extra,
                   double value);

  std::string prefix_;
  std::string out_;
  std::string name_;  // the current family, prefixed
};

}  // namespace gatehouse::metrics
