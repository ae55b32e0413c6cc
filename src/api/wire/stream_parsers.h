#pragma once
// Incremental parsers for streamed answers. Bytes arrive in arbitrary pieces (a TCP read can
// end mid-line or mid-UTF-8); Feed() buffers the partial tail and emits whole events. Both
// bound their buffers so a peer that never sends a newline cannot grow memory without limit.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace accel::api {

struct SseEvent {
  std::string event;  // "" when the server sent no event: field ("message" by the spec)
  std::string data;   // data: lines joined with '\n'
};

// Server-Sent Events (text/event-stream): fields "event:", "data:", "id:", "retry:"; comments
// start with ':'; an empty line dispatches. Lines end in \n, \r\n or \r.
class SseParser {
 public:
  using Handler = std::function<bool(const SseEvent&)>;  // return false to stop
  explicit SseParser(size_t max_event_bytes = 8 << 20) : max_event_bytes_(max_event_bytes) {}

  // Returns an error when an event grows past the limit, or stopped when the handler said so.
  Status Feed(std::string_view bytes, const Handler& on_event);
  // True when bytes of an unfinished event are pending (the stream was cut mid-event).
  bool HasPartialEvent() const { return !line_.empty() || has_data_ || !event_.event.empty(); }
  bool stopped() const { return stopped_; }

 private:
  bool ProcessLine(const Handler& on_event);
  size_t max_event_bytes_;
  std::string line_;
  SseEvent event_;
  bool has_data_ = false;
  bool last_was_cr_ = false;
  bool stopped_ = false;
};

// Newline-delimited JSON (Ollama): one JSON value per line; blank lines ignored.
class NdjsonSplitter {
 public:
  using Handler = std::function<bool(std::string_view line)>;  // return false to stop
  explicit NdjsonSplitter(size_t max_line_bytes = 8 << 20) : max_line_bytes_(max_line_bytes) {}
  Status Feed(std::string_view bytes, const Handler& on_line);
  bool HasPartialLine() const;
  bool stopped() const { return stopped_; }

 private:
  size_t max_line_bytes_;
  std::string line_;
  bool stopped_ = false;
};

}  // namespace accel::api
