#include "api/wire/stream_parsers.h"

namespace accel::api {

bool SseParser::ProcessLine(const Handler& on_event) {
  if (line_.empty()) {  // dispatch
    bool keep_going = true;
    if (has_data_) keep_going = on_event(event_);
    event_ = SseEvent{};
    has_data_ = false;
    return keep_going;
  }
  if (line_[0] == ':') return true;  // comment / keep-alive
  std::string_view line(line_);
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data.push_back('\n');
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.event.assign(value);
  }
  // "id" and "retry" matter for reconnecting EventSource clients, not for one-shot answers.
  return true;
}

Status SseParser::Feed(std::string_view bytes, const Handler& on_event) {
  for (char c : bytes) {
    if (stopped_) return Status::Ok();
    if (c == '\n' && last_was_cr_) {  // the \n of a \r\n pair
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = (c == '\r');
    if (c == '\n' || c == '\r') {
      if (!ProcessLine(on_event)) stopped_ = true;
      line_.clear();
      continue;
    }
    line_.push_back(c);
    if (line_.size() + event_.data.size() > max_event_bytes_)
      return Corrupt("SSE event larger than " + std::to_string(max_event_bytes_) + " bytes");
  }
  return Status::Ok();
}

Status NdjsonSplitter::Feed(std::string_view bytes, const Handler& on_line) {
  while (!bytes.empty() && !stopped_) {
    size_t nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    if (line_.size() + piece.size() > max_line_bytes_)
      return Corrupt("NDJSON line larger than " + std::to_string(max_line_bytes_) + " bytes");
    if (nl == std::string_view::npos) {
      line_.append(piece);
      break;
    }
    std::string_view line = piece;
    if (!line_.empty()) {
      line_.append(piece);
      line = line_;
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
    if (!blank && !on_line(line)) stopped_ = true;
    line_.clear();
    bytes.remove_prefix(nl + 1);
  }
  return Status::Ok();
}

bool NdjsonSplitter::HasPartialLine() const {
  return line_.find_first_not_of(" \t\r") != std::string::npos;
}

}  // namespace accel::api
