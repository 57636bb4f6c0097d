#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace gatehouse::metrics {

std::string Exposition::escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Exposition::escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Exposition::formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  // Integral values below 2^53 are exact: print them without an exponent.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(value));
    return std::string(buffer, end);
  }
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

void Exposition::family(std::string_view name, std::string_view help, Type type, bool prefixed) {
  name_ = prefixed ? prefix_ : std::string();
  name_ += name;
  out_ += "# HELP ";
  out_ += name_;
  out_ += ' ';
  out_ += escapeHelp(help);
  out_ += "\n# TYPE ";
  out_ += name_;
  switch (type) {
    case Type::kCounter:
      out_ += " counter\n";
      break;
    case Type::kGauge:
      out_ += " gauge\n";
      break;
    case Type::kHistogram:
      out_ += " histogram\n";
      break;
  }
}

void Exposition::writeSample(std::string_view suffix, std::span<const Label> labels,
                             const Label* extra, double value) {
  out_ += name_;
  out_ += suffix;
  if (!labels.empty() || extra) {
    out_ += '{';
    bool first = true;
    auto add = [&](const Label& label) {
      if (!first) out_ += ',';
      first = false;
      out_ += label.name;
      out_ += "=\"";
      out_ += escapeLabelValue(label.value);
      out_ += '"';
    };
    for (const Label& label : labels) add(label);
    if (extra) add(*extra);
    out_ += '}';
  }
  out_ += ' ';
  out_ += formatValue(value);
  out_ += '\n';
}

void Exposition::sample(std::initializer_list<Label> labels, double value) {
  sample(std::span<const Label>(labels.begin(), labels.size()), value);
}

void Exposition::sample(std::span<const Label> labels, double value) {
  writeSample("", labels, nullptr, value);
}

void Exposition::histogram(std::span<const Label> labels, std::span<const double> bounds,
                           std::span<const uint64_t> counts, double sum) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    std::string le = i < bounds.size() ? formatValue(bounds[i]) : "+Inf";
    Label bucket{"le", le};
    writeSample("_bucket", labels, &bucket, static_cast<double>(cumulative));
  }
  writeSample("_sum", labels, nullptr, sum);
  writeSample("_count", labels, nullptr, static_cast<double>(cumulative));
}

}  // namespace gatehouse::metrics
