#include "sim/output/graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
// GCC flags Boost's edge iterator as maybe-uninitialized when inlined (a known false positive); clang
// (the fuzz build) has no such warning.
#pragma GCC diagnostic push
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/graph/graphviz.hpp>
#pragma GCC diagnostic pop
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace equus::sim {

namespace {

/// Always quoted, so any label is a valid DOT string.
std::string dot_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// Pastel fills by node index (cycled): a node keeps its colour in every snapshot.
constexpr std::array<const char*, 12> palette = {"#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f",
                                                 "#cab2d6", "#ffff99", "#8dd3c7", "#bebada",
                                                 "#fb8072", "#80b1d3", "#fccde5", "#d9d9d9"};

class VertexWriter {
 public:
  explicit VertexWriter(const ConfigGraph& g) : g_(g) {}
  void operator()(std::ostream& out, ConfigGraph::vertex_descriptor v) const {
    const auto& p = g_[v];
    if (p.channel) {
      out << fmt::format("[label={}, shape={}]", dot_string(p.label),
                         p.multicast ? "doubleoctagon" : "diamond");
    } else {
      const char* fill = palette[static_cast<size_t>(std::max(p.node_index, 0)) % palette.size()];
      // "node" is a DOT keyword: as an attribute name it must be quoted, or Graphviz refuses the file.
      out << fmt::format("[label={}, shape=box, style=filled, fillcolor=\"{}\", \"node\"={}]",
                         dot_string(p.label), fill, dot_string(p.node));
    }
  }

 private:
  const ConfigGraph& g_;
};

class EdgeWriter {
 public:
  explicit EdgeWriter(const ConfigGraph& g) : g_(g) {}
  void operator()(std::ostream& out, ConfigGraph::edge_descriptor e) const {
    const auto& p = g_[e];
    out << fmt::format("[label={}, kind={}]", dot_string(p.label), p.port ? "port" : "stream");
  }

 private:
  const ConfigGraph& g_;
};

class GraphWriter {
 public:
  explicit GraphWriter(double t) : t_(t) {}
  void operator()(std::ostream& out) const {
    out << fmt::format("graph [rankdir=LR, label=\"configuration at t={} s\"];\n", t_);
  }

 private:
  double t_;
};

}  // namespace

ConfigGraph configuration_graph(const Recorder& rec, double t) {
  ConfigGraph g;
  const auto& spans = rec.spans();

  std::vector<size_t> alive;
  for (size_t i = 0; i < spans.size(); ++i)
    if (spans[i].start <= t && t < spans[i].end) alive.push_back(i);
  std::stable_sort(alive.begin(), alive.end(), [&](size_t a, size_t b) {
    return std::tie(spans[a].start, spans[a].id) < std::tie(spans[b].start, spans[b].id);
  });
  std::map<GlobalId, ConfigGraph::vertex_descriptor> incs;
  for (size_t i : alive) {
    const auto& s = spans[i];
    if (incs.count(s.id)) continue;  // overlapping spans of one id: keep the earliest
    ConfigVertex v;
    v.gid = s.id;
    v.id = fmt::format("i{}", s.id);
    v.node = rec.node_name(s.node);
    v.node_index = s.node;
    v.label = (s.rdc.empty() ? s.name : s.rdc + "/" + s.name) + "@" + v.node;  // names are per RDC
    incs[s.id] = boost::add_vertex(std::move(v), g);
  }

  // Live references, deduplicated (the same reference may be reported twice).
  std::set<std::tuple<GlobalId, GlobalId, bool, std::string>> refs;
  for (const auto& a : rec.attachments())
    if (a.attached <= t && t < a.closed && incs.count(a.inc)) refs.emplace(a.channel, a.inc, a.port, a.label);

  std::map<GlobalId, ConfigGraph::vertex_descriptor> chans;
  for (const auto& [chan, inc, port, label] : refs) {
    (void)inc, (void)port, (void)label;
    if (chans.count(chan)) continue;
    ConfigVertex v;
    v.channel = true;
    v.gid = chan;
    v.id = fmt::format("c{}", chan);
    v.label = rec.channel_label(chan);
    v.multicast = rec.is_multicast(chan);
    chans[chan] = boost::add_vertex(std::move(v), g);
  }
  for (const auto& [chan, inc, port, label] : refs) {
    auto c = chans.at(chan), i = incs.at(inc);
    if (port)
      boost::add_edge(c, i, ConfigEdge{true, label}, g);
    else
      boost::add_edge(i, c, ConfigEdge{false, label}, g);
  }
  return g;
}

std::string configuration_dot(const Recorder& rec, double t) {
  ConfigGraph g = configuration_graph(rec, t);
  std::ostringstream out;
  boost::write_graphviz(out, g, VertexWriter(g), EdgeWriter(g), GraphWriter(t),
                        boost::get(&ConfigVertex::id, g));
  return out.str();
}

void write_graph(const Recorder& rec, double t, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << configuration_dot(rec, t);
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

}  // namespace equus::sim
