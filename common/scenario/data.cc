// `data:` — CSV files a scenario reads rows from (`feed` steps), loaded once when
// the scenario is compiled.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/scenario/builder.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

constexpr size_t kMaxCsvBytes = 64 << 20;

// RFC 4180: fields separated by commas, optionally in double quotes (a quote
// doubled inside), records by CRLF or LF. Errors name the CSV line.
Status parseCsv(std::string_view text, std::vector<std::vector<std::string>>& records) {
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == '"') {
      return fail("line " + std::to_string(line) + ": a quote inside an unquoted field (quote the whole field)");
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
      if (!(record.size() == 1 && record[0].empty())) records.push_back(std::move(record));  // blank lines
      record.clear();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) return fail("line " + std::to_string(line) + ": unclosed quote");
  if (field_started || !record.empty()) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return Ok{};
}

// `shown` is the name as the scenario wrote it, for messages.
Result<std::string> readFile(const std::string& path, const std::string& shown) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return fail("cannot read " + quote(shown) + ": " + error.message());
  if (size > kMaxCsvBytes) return fail(quote(shown) + " is larger than 64 MiB");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return fail("cannot read " + quote(shown));
  return text.str();
}

Status loadCsv(const std::string& full_path, const std::string& path, DataSource& source) {
  auto text = readFile(full_path, path);
  if (!text) return text.error();
  std::vector<std::vector<std::string>> records;
  if (auto parsed = parseCsv(*text, records); !parsed) return fail(path + ": " + parsed.error().message);
  if (records.size() < 2) return fail(path + ": needs a header line and at least one row");
  source.columns = std::move(records[0]);
  for (const auto& column : source.columns) {
    if (!isIdentifier(column)) {
      return fail(path + ": column name " + quote(column) +
                  " is not letters, digits and '_' (templates read NAME.COLUMN)");
    }
  }
  for (size_t i = 1; i < records.size(); ++i) {
    if (records[i].size() != source.columns.size()) {
      return fail(path + ": row " + std::to_string(i) + " has " + std::to_string(records[i].size()) +
                  " fields, the header " + std::to_string(source.columns.size()));
    }
    source.rows.push_back(std::move(records[i]));
  }
  return Ok{};
}

Result<DataSource::Pick> readPick(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string pick, readString(context, field));
  if (pick == "unique") return DataSource::Pick::kUnique;
  if (pick == "cycle") return DataSource::Pick::kCycle;
  if (pick == "random") return DataSource::Pick::kRandom;
  return errorAt(context, field, "expected unique, cycle or random, got " + quote(pick));
}

}  // namespace

Status parseData(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readAnyMap(context, field));
  for (const auto& [name, value] : map.entries()) {
    if (!isIdentifier(name) || name == "user" || name == "params") {
      return errorAt(context, value.atKey(),
                     "data source names are letters, digits and '_' (not user or params), got " + quote(name));
    }
    SCENARIO_ASSIGN_OR_RETURN(const MapView source_map, readMap(context, value, {"file", "pick"}));
    DataSource source;
    source.name = name;
    SCENARIO_ASSIGN_OR_RETURN(const Field file,
                              require(context, value, source_map, "file", "a CSV file, relative to the scenario"));
    SCENARIO_ASSIGN_OR_RETURN(const std::string file_name, readResolved(context, file));
    if (const Field* pick = source_map.find("pick")) {
      SCENARIO_ASSIGN_OR_RETURN(source.pick, readPick(context, *pick));
    }
    std::filesystem::path path(file_name);
    if (path.is_relative()) path = std::filesystem::path(builder.plan.source_file).parent_path() / path;
    if (auto loaded = loadCsv(path.lexically_normal().string(), file_name, source); !loaded) {
      return errorAt(context, file, loaded.error().message);
    }
    for (const auto& column : source.columns) {
      const std::string variable = name + "." + column;  // both parts checked as identifiers
      context.written[variable] = true;
      source.column_variables.push_back(context.variable(variable));
    }
    builder.plan.data.push_back(std::move(source));
  }
  return Ok{};
}

Result<Step> parseFeed(Builder& builder, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string name, readString(builder.context, field));
  const auto& data = builder.plan.data;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i].name == name) return Step(FeedStep{i});
  }
  std::vector<std::string_view> names;
  for (const auto& source : data) names.push_back(source.name);
  std::string message = "unknown data source " + quote(name);
  if (const auto guess = closest(name, names)) {
    message += " (did you mean " + quote(*guess) + "?)";
  } else if (names.empty()) {
    message += " (declare it under data:)";
  }
  return errorAt(builder.context, field, message);
}

}  // namespace herd::scenario::detail
