#include "sim/output/recorder.hpp"

#include <algorithm>
#include <simgrid/s4u/Engine.hpp>

namespace equus::sim {

const char* message_kind_name(kernel::MessageKind kind) {
  switch (kind) {
    case kernel::MessageKind::Invocation:
      return "invocation";
    case kernel::MessageKind::Reply:
      return "reply";
    case kernel::MessageKind::Ack:
      return "ack";
    case kernel::MessageKind::GhostRequest:
      return "ghost_request";
    case kernel::MessageKind::Loader:
      return "loader";
    case kernel::MessageKind::Other:
      break;
  }
  return "other";
}

Recorder::Recorder() {
  messages_.reserve(1 << 12);
  calls_.reserve(1 << 12);
}

double Recorder::now() const {
  if (clock_) return clock_();
  if (simgrid::s4u::Engine::has_instance()) return simgrid::s4u::Engine::get_clock();
  return latest_;
}

double Recorder::horizon() const { return std::max(latest_, now()); }

void Recorder::incarnation_created(GlobalId inc, const std::string& name, const std::string& rdc,
                                   const std::string& module, int node, double t) {
  see(t);
  spans_of_[inc].push_back(static_cast<uint32_t>(spans_.size()));
  auto given = names_.find(inc);
  spans_.push_back(
      {inc, given == names_.end() ? name : given->second, rdc, module, node, t, open_end, {}, 0, open_end});
}

void Recorder::incarnation_ended(GlobalId inc, double t, const std::string& why) {
  see(t);
  auto it = spans_of_.find(inc);
  if (it == spans_of_.end()) return;
  // The most recent open span: a migration ends one hosting and starts another.
  for (auto i = it->second.rbegin(); i != it->second.rend(); ++i) {
    auto& s = spans_[*i];
    if (!s.ended()) {
      s.end = t;
      s.why = why;
      return;
    }
  }
}

void Recorder::incarnation_made(GlobalId inc, double called, double t) {
  see(t);
  auto it = spans_of_.find(inc);
  if (it == spans_of_.end()) return;
  auto& s = spans_[it->second.front()];
  s.called = called;
  s.made = t;
}

void Recorder::kernel_message(uint64_t id, kernel::MessageKind kind, int src_node, int dst_node,
                              double t_sent, double t_accepted) {
  see(t_accepted);
  messages_.push_back({id, kind, src_node, dst_node, t_sent, t_accepted});
}

void Recorder::call(GlobalId inc, const char* name, double t0, double t1) {
  see(t1);
  // Intern by content (not pointer): callers may pass transient buffers.
  std::string_view key = name ? name : "";
  auto it = call_index_.find(key);
  uint32_t index;
  if (it != call_index_.end()) {
    index = it->second;
  } else {
    index = static_cast<uint32_t>(call_names_.size());
    call_names_.emplace_back(key);
    call_index_.emplace(call_names_.back(), index);
  }
  calls_.push_back({inc, index, t0, t1});
}

void Recorder::attach(GlobalId inc, GlobalId channel, bool port, const std::string& label) {
  double t = now();
  see(t);
  // The run-time names a reference after the kernel made it (ss_createChan, the preamble): label the
  // open unlabelled one rather than count a second reference.
  bool named = false;
  if (!label.empty())
    for (auto i : attachments_of_[inc]) {
      auto& a = attachments_[i];
      if (a.channel == channel && a.port == port && a.closed == open_end && a.label.empty()) {
        a.label = label;
        named = true;
        break;
      }
    }
  if (!named) {
    attachments_of_[inc].push_back(static_cast<uint32_t>(attachments_.size()));
    attachments_.push_back({inc, channel, port, label, t, open_end});
  }
  if (!label.empty()) {
    auto& names = channel_names_[channel];
    auto& list = port ? names.ports : names.streams;
    if (std::find(list.begin(), list.end(), label) == list.end()) list.push_back(label);
  }
}

void Recorder::stream_attached(GlobalId inc, GlobalId channel, const std::string& label) {
  attach(inc, channel, false, label);
}

void Recorder::port_attached(GlobalId inc, GlobalId channel, const std::string& label) {
  attach(inc, channel, true, label);
}

void Recorder::reference_closed(GlobalId inc, GlobalId channel) {
  double t = now();
  see(t);
  auto it = attachments_of_.find(inc);
  if (it == attachments_of_.end()) return;
  // The call does not say stream or port: close the most recent open reference to the channel.
  for (auto i = it->second.rbegin(); i != it->second.rend(); ++i) {
    auto& a = attachments_[*i];
    if (a.channel == channel && a.closed == open_end) {
      a.closed = t;
      return;
    }
  }
}

void Recorder::record(GlobalId inc, const std::string& key, double value, double t) {
  see(t);
  records_.push_back({inc, key, value, t});
}

void Recorder::node_load(int node, double load, double t) {
  see(t);
  loads_.push_back({node, load, t});
}

void Recorder::migration(const Migration& m) {
  see(m.restart);
  migrations_.push_back(m);
  // The kernel moves the incarnation without ending it: here its hosting at the source ends and
  // one at the destination begins.
  auto it = spans_of_.find(m.inc);
  if (it == spans_of_.end()) return;
  for (auto i = it->second.rbegin(); i != it->second.rend(); ++i) {
    auto s = spans_[*i];  // a copy: the push below may reallocate
    if (s.ended()) continue;
    if (s.node == m.to) return;  // already reported as a new hosting
    spans_[*i].end = m.restart;
    spans_[*i].why = "migrated";
    s.node = m.to;
    s.start = m.restart;
    s.called = 0;
    s.made = open_end;  // made once, at its first hosting
    it->second.push_back(static_cast<uint32_t>(spans_.size()));
    spans_.push_back(std::move(s));
    return;
  }
}

void Recorder::name_incarnation(GlobalId inc, const std::string& name) {
  names_[inc] = name;
  if (auto it = spans_of_.find(inc); it != spans_of_.end())
    for (uint32_t i : it->second) spans_[i].name = name;
}

uint32_t Recorder::begin_reconfiguration(programs::Reconfiguration what) {
  double t = now();
  see(t);
  ReconfigEvent e{std::move(what), t, open_end, 0, counter_ ? counter_() : ForwardingCounts{}};
  reconfigs_.push_back(std::move(e));
  return static_cast<uint32_t>(reconfigs_.size() - 1);
}

void Recorder::end_reconfiguration(uint32_t index, int status) {
  if (index >= reconfigs_.size()) return;
  auto& e = reconfigs_[index];
  e.t1 = now();
  see(e.t1);
  e.status = status;
  if (counter_) {  // the counts at the beginning were stored in `during`
    auto c = counter_();
    e.during = {c.forwarded - e.during.forwarded, c.forwarded_pending - e.during.forwarded_pending,
                c.redirected - e.during.redirected};
  }
}

std::string Recorder::node_name(int node) const {
  if (node >= 0 && node < static_cast<int>(node_names_.size()) && !node_names_[node].empty())
    return node_names_[node];
  return "node" + std::to_string(node);
}

bool Recorder::is_multicast(GlobalId channel) const {
  auto it = multicast_.find(channel);
  return it != multicast_.end() && it->second;
}

std::string Recorder::channel_label(GlobalId channel) const {
  if (auto it = channel_names_.find(channel); it != channel_names_.end()) {
    const auto& list = it->second.ports.empty() ? it->second.streams : it->second.ports;
    std::string out;
    for (const auto& l : list) out += (out.empty() ? "" : "/") + l;
    if (!out.empty()) return out;
  }
  return "ch" + std::to_string(channel);
}

int Recorder::span_at(GlobalId inc, double t) const {
  auto it = spans_of_.find(inc);
  if (it == spans_of_.end() || it->second.empty()) return -1;
  int best = static_cast<int>(it->second.front());
  for (uint32_t i : it->second) {
    const auto& s = spans_[i];
    if (s.start <= t && t < s.end) return static_cast<int>(i);
    if (s.start <= t) best = static_cast<int>(i);
  }
  return best;
}

bool Recorder::alive_at(GlobalId inc, double t) const {
  auto it = spans_of_.find(inc);
  if (it == spans_of_.end()) return false;
  for (uint32_t i : it->second)
    if (spans_[i].start <= t && t < spans_[i].end) return true;
  return false;
}

}  // namespace equus::sim
