// A task's options, defined once: one table of fields, from which the
// flags, the config file's [train] keys, the JSON of the journal and of the
// worker pipe, and `describe()` all derive. Torch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace evoprompt::tasks {

enum class OptionType { integer, unsigned_integer, real, text };

// Where a field may be set from.
enum class OptionScope {
  user,     // a flag, a [train] key, stored with the run
  name,     // fixed by the task's name (clrs:bfs: algorithm), stored
  machine,  // set per worker (threads rule, cache, GPU share, checkpoint folder): never stored
};

struct OptionField {
  std::string key;   // JSON key and [train] key, e.g. "batch_size"
  std::string flag;  // its one spelling on every command, e.g. "--batch-size"
  OptionType type = OptionType::integer;
  std::string help;
  nlohmann::json fallback;  // the default
  OptionScope scope = OptionScope::user;
};

// The JSON value of `text` for `field`; throws std::invalid_argument naming
// the flag, e.g. "--steps: 'ten' is not an integer".
nlohmann::json parse_option_text(const OptionField& field, const std::string& text);
// Whether `value` has `field`'s type (an unsigned field refuses negatives).
bool option_value_fits(const OptionField& field, const nlohmann::json& value);

// The table of one options struct: each field bound to its member.
template <class Options>
class OptionTable {
 public:
  template <class T>
  OptionTable& add(std::string key, std::string flag, T Options::*member, std::string help,
                   OptionScope scope = OptionScope::user) {
    OptionField f{std::move(key), std::move(flag), type_of<T>(), std::move(help), nlohmann::json(Options{}.*member),
                  scope};
    get_.push_back([member](const Options& o) { return nlohmann::json(o.*member); });
    set_.push_back([member](Options& o, const nlohmann::json& j) { o.*member = j.get<T>(); });
    fields_.push_back(std::move(f));
    return *this;
  }

  const std::vector<OptionField>& fields() const { return fields_; }

  // Every field, or only those a run stores (not machine-scoped).
  nlohmann::json to_json(const Options& o, bool stored_only = false) const {
    nlohmann::json j = nlohmann::json::object();
    for (std::size_t i = 0; i < fields_.size(); ++i)
      if (!stored_only || fields_[i].scope != OptionScope::machine) j[fields_[i].key] = get_[i](o);
    return j;
  }

  // Missing keys keep their defaults; an unknown key or a wrong type throws
  // std::invalid_argument.
  Options from_json(const nlohmann::json& j) const {
    if (!j.is_object()) throw std::invalid_argument("task options must be a JSON object");
    Options o;
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::size_t i = 0;
      while (i < fields_.size() && fields_[i].key != it.key()) ++i;
      if (i == fields_.size()) throw std::invalid_argument("unknown task option '" + it.key() + "'");
      if (!option_value_fits(fields_[i], it.value()))
        throw std::invalid_argument("task option '" + it.key() + "' has the wrong type");
      set_[i](o, it.value());
    }
    return o;
  }

 private:
  template <class T>
  static constexpr OptionType type_of() {
    if constexpr (std::is_same_v<T, std::string>) return OptionType::text;
    else if constexpr (std::is_floating_point_v<T>) return OptionType::real;
    else if constexpr (std::is_unsigned_v<T>) return OptionType::unsigned_integer;
    else return OptionType::integer;
  }

  std::vector<OptionField> fields_;
  std::vector<std::function<nlohmann::json(const Options&)>> get_;
  std::vector<std::function<void(Options&, const nlohmann::json&)>> set_;
};

}  // namespace evoprompt::tasks
