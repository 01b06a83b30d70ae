// report.html: gnuplot draws every plot as SVG; the page puts them inline (see report.h).
#include "report.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <numeric>
#include <sstream>

#include "snn/analysis/analyzer.h"
#include "snn/events/io.h"
#include "snn/io/files.h"
#include "snn/io/process.h"
#include "snn/nn/neuron.h"
#include "snn/nn/stateful.h"

namespace snn_cli {
namespace {

namespace fs = std::filesystem;

struct Figure {
  std::string caption;
  std::string script;  // gnuplot commands after the terminal and output lines
  std::string svg;     // filled after gnuplot ran
};

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  TORCH_CHECK(out.good(), "snn report: cannot write ", p.string());
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

// A gnuplot string in single quotes ('' stands for a quote inside). The script names its
// files by names of its own (fig0.svg, run0.dat, ...) relative to the plots folder, where
// gnuplot runs: no path of the user's ever enters it.
std::string q(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Runs gnuplot on `script` in `dir` (an argument vector, no shell); throws with its
// messages when it fails.
void run_gnuplot(const fs::path& dir, const std::string& script) {
  write_text(dir / "plots.gp", script);
  int rc = 0;
  try {
    rc = snn::io::run_program(snn::io::ProgramOptions({"gnuplot", "plots.gp"})
                                  .cwd(dir.string())
                                  .output_file("gnuplot.log"));
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "snn report: cannot run gnuplot (is it installed? Debian: gnuplot-nox): ",
                e.what_without_backtrace());
  }
  TORCH_CHECK(rc == 0, "snn report: gnuplot failed (exit ", rc,
              "; is gnuplot installed? Debian: gnuplot-nox): ",
              fs::exists(dir / "gnuplot.log") ? snn::io::read_file((dir / "gnuplot.log").string())
                                               : std::string());
}

const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

}  // namespace

int write_report(const fs::path& html, const std::string& title, const std::vector<ReportRun>& runs,
                 const snn::train::Dataset& test, const snn::events::Events& e,
                 const std::string& sample_name, const std::vector<std::string>& class_names) {
  TORCH_CHECK(!runs.empty(), "snn report: no runs");
  const fs::path dir = fs::path(html.string() + ".plots");
  fs::create_directories(dir);
  std::vector<Figure> figures;

  // Curves per run.
  for (const auto& r : runs) {
    std::ostringstream d;
    for (const auto& m : r.history) {
      d << m.epoch + 1 << ' ' << m.train_loss << ' ' << m.train_accuracy << ' ' << m.test_accuracy
        << ' ' << m.synops << '\n';
    }
    write_text(dir / ("run" + std::to_string(&r - runs.data()) + ".dat"), d.str());
  }
  {
    std::ostringstream s, a;
    s << "set xlabel 'epoch'\nset ylabel 'training loss'\nset logscale y\nset key top right\nset grid\nplot ";
    a << "set xlabel 'epoch'\nset ylabel 'accuracy'\nset yrange [0:1]\nset key bottom right\n"
         "set grid\nplot ";
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto f = q("run" + std::to_string(i) + ".dat");
      const std::string c = kColours[i % 5];
      s << (i ? ", " : "") << f << " using 1:2 with linespoints lw 2 lc rgb '" << c << "' title "
        << q(runs[i].name);
      a << (i ? ", " : "") << f << " using 1:4 with linespoints lw 2 lc rgb '" << c << "' title "
        << q(runs[i].name + " test") << ", " << f << " using 1:3 with lines dt 2 lw 1 lc rgb '" << c
        << "' title " << q(runs[i].name + " train");
    }
    figures.push_back({"Training loss per epoch (log scale)", s.str() + "\n", ""});
    figures.push_back({"Accuracy per epoch (test: solid, train: dashed)", a.str() + "\n", ""});
  }
  {
    std::ostringstream d, s;
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto& m = runs[i].history.back();
      d << m.synops << ' ' << m.test_accuracy << " \"" << runs[i].name << "\"\n";
    }
    write_text(dir / "final.dat", d.str());
    s << "set xlabel 'synaptic operations per sample'\nset ylabel 'test accuracy'\nset grid\n"
         "set offsets graph 0.15, graph 0.15, graph 0.1, graph 0.1\nunset key\nplot "
      << q("final.dat")
      << " using 1:2 with points pt 7 ps 2 lc rgb '#1f77b4', '' using 1:2:3 with labels offset "
         "char 0,1.2\n";
    figures.push_back({"Test accuracy against synops per sample (the cost of each model)", s.str(), ""});
  }
  {
    std::ostringstream d, s;
    if (!e.has_y()) {
      for (int64_t k = 0; k < e.size(); ++k) d << e.t[k] / 1000.0 << ' ' << e.x[k] << '\n';
      s << "set xlabel 'time (ms)'\nset ylabel 'channel (low to high frequency)'\nset yrange [0:"
        << e.sensor().width << "]\nunset key\nplot " << q("raster.dat")
        << " using 1:2 with dots lc rgb '#000000'\n";
    } else {
      // Camera events: where they fell, ON black and OFF red, the sensor's top row on top.
      for (int64_t k = 0; k < e.size(); ++k) d << e.x[k] << ' ' << e.y[k] << ' ' << e.p[k] << '\n';
      s << "set xlabel 'x'\nset ylabel 'y'\nset xrange [-0.5:" << e.sensor().width - 0.5
        << "]\nset yrange [" << e.sensor().height - 0.5 << ":-0.5]\nset size ratio -1\n"
        << "unset key\nplot " << q("raster.dat")
        << " using 1:2:($3 > 0 ? 0 : 0xd62728) with points pt 7 ps 0.3 lc rgb variable\n";
    }
    write_text(dir / "raster.dat", d.str());
    figures.push_back({"Input: test sample 0 (" + sample_name + "), " + std::to_string(e.size()) +
                           (e.has_y() ? " events" : " spikes"),
                       s.str(), ""});
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    // Membrane traces of the first neuron layer on test sample 0: the five neurons that
    // fired most on it (a quiet neuron's membrane says little; IAF's fall far below zero).
    const auto& r = runs[i];
    torch::NoGradGuard no_grad;
    torch::nn::Sequential model = r.model;  // the same module (a handle)
    snn::reset_states(*model);
    const auto x = test.inputs.slice(0, 0, 1).to(at::kFloat);
    snn::analysis::Analyzer analyzer(model);
    analyzer.forward(x);
    const auto layers = snn::recorded_states(*model);
    // The membrane: Sinabs' v_mem, snnTorch's mem.
    const char* mem = !layers.empty() && layers.front().states.count("mem") ? "mem" : "v_mem";
    TORCH_CHECK(!layers.empty() && layers.front().states.count(mem) == 1,
                "snn report: the model of ", r.name, " recorded no membrane potential");
    const auto v = layers.front().states.at(mem)[0].flatten(1).contiguous();  // [T, neurons]
    const auto first = analyzer.spiking_layers().front();
    const auto counts_t = first.output[0].flatten(1).sum(0).to(at::kDouble).contiguous();
    const auto peaks_t = std::get<0>(v.max(0)).to(at::kDouble).contiguous();
    const double* counts = counts_t.data_ptr<double>();  // spikes per neuron on this sample
    const double* peaks = peaks_t.data_ptr<double>();
    std::vector<int64_t> idx(v.size(1));
    std::iota(idx.begin(), idx.end(), 0);
    // Most spikes first; among equals, the higher peak membrane; then the lower index.
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
      return counts[a] != counts[b] ? counts[a] > counts[b] : peaks[a] > peaks[b];
    });
    const int64_t k = std::min<int64_t>(5, v.size(1));
    std::ostringstream d;
    for (int64_t t = 0; t < v.size(0); ++t) {
      d << t;
      for (int64_t n = 0; n < k; ++n) d << ' ' << v[t][idx[n]].item<double>();
      d << '\n';
    }
    const std::string file = "run" + std::to_string(i) + "_vmem.dat";
    write_text(dir / file, d.str());
    std::ostringstream s, names;
    s << "set xlabel 'time step'\nset ylabel 'membrane potential'\nset grid\nset key outside right\nplot ";
    for (int64_t n = 0; n < k; ++n) {
      const auto spikes_n = static_cast<int64_t>(counts[idx[n]]);
      s << (n ? ", " : "") << q(file) << " using 1:" << n + 2 << " with lines lw 1.5 lc rgb '"
        << kColours[n] << "' title " << q("neuron " + std::to_string(idx[n]) + " (" +
                                          std::to_string(spikes_n) + " spikes)");
      names << (n ? ", " : "") << idx[n];
    }
    figures.push_back({r.name + ": membrane potential of the " + std::to_string(k) +
                           " most active neurons of the first hidden layer (" + names.str() +
                           "), test sample 0",
                       s.str() + "\n", ""});
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    // Firing-rate histograms of every spiking layer, over the test set.
    torch::NoGradGuard no_grad;
    const auto& r = runs[i];
    torch::nn::Sequential model = r.model;
    snn::analysis::Analyzer analyzer(model);
    for (int64_t b0 = 0; b0 < test.inputs.size(0); b0 += 256) {
      snn::reset_states(*model);
      analyzer.forward(
          test.inputs.slice(0, b0, std::min<int64_t>(test.inputs.size(0), b0 + 256)).to(at::kFloat));
    }
    const auto layers = analyzer.spiking_layers(/*average=*/true);
    double hi = 1e-6;
    for (const auto& l : layers) hi = std::max(hi, l.firing_rate_per_neuron.max().item<double>());
    constexpr int kBins = 20;
    std::ostringstream d;
    for (int b = 0; b < kBins; ++b) {
      d << (b + 0.5) * hi / kBins;
      for (const auto& l : layers) {
        const auto counts = at::histc(l.firing_rate_per_neuron.reshape(-1).to(at::kFloat), kBins, 0, hi);
        d << ' ' << counts[b].item<double>();
      }
      d << '\n';
    }
    const std::string file = "run" + std::to_string(i) + "_rates.dat";
    write_text(dir / file, d.str());
    std::ostringstream s;
    s << "set xlabel 'firing rate (spikes per neuron and time step)'\nset ylabel 'neurons'\n"
         "set style fill transparent solid 0.5 noborder\nset boxwidth "
      << hi / kBins * 0.9 << "\nset key top right\nplot ";
    for (size_t j = 0; j < layers.size(); ++j) {
      s << (j ? ", " : "") << q(file) << " using 1:" << j + 2
        << " with boxes lc rgb '" << kColours[j % 5] << "' title " << q("layer " + layers[j].name);
    }
    figures.push_back({r.name + ": firing rates of the neurons of every spiking layer (test set)",
                       s.str() + "\n", ""});
  }

  for (size_t i = 0; i < runs.size(); ++i) {
    // The confusion matrix on the test set: per true class (row), the share of its samples
    // given to each class (column).
    const auto& r = runs[i];
    int64_t classes = static_cast<int64_t>(class_names.size());
    if (test.labels.numel() > 0) classes = std::max(classes, test.labels.max().item<int64_t>() + 1);
    torch::nn::Sequential model = r.model;
    const auto predicted = snn::train::predictions(model, test, snn::train::EvaluateOptions().batch_size(256));
    const auto counts = snn::train::confusion_matrix(test.labels, predicted.clamp(0, classes - 1), classes)
                            .to(at::kDouble);
    const auto share = (counts / counts.sum(1, true).clamp_min(1)).contiguous();
    std::ostringstream d, s, ytics;
    for (int64_t row = 0; row < classes; ++row) {
      for (int64_t col = 0; col < classes; ++col) d << (col ? " " : "") << share[row][col].item<double>();
      d << '\n';
      const std::string name = row < static_cast<int64_t>(class_names.size())
                                   ? class_names[row] : std::to_string(row);
      ytics << (row ? ", " : "") << q(std::to_string(row) + " " + name) << ' ' << row;
    }
    const std::string file = "run" + std::to_string(i) + "_confusion.dat";
    write_text(dir / file, d.str());
    const int font = classes > 24 ? 6 : classes > 12 ? 8 : 10;
    s << "set xlabel 'predicted class'\nset ylabel 'true class'\nset yrange [" << classes - 0.5
      << ":-0.5]\nset xrange [-0.5:" << classes - 0.5 << "]\nset cbrange [0:1]\n"
      << "set palette defined (0 'white', 0.5 '#6baed6', 1 '#08306b')\nset cblabel 'share of the row'\n"
      << "set ytics (" << ytics.str() << ") font ',"
      << font << "'\nset xtics 0,1," << classes - 1 << " font '," << font << "'\nunset key\nplot "
      << q(file) << " matrix with image\n";
    figures.push_back({r.name + ": confusion matrix on the test set (row: true class; shade: share "
                       "of its samples predicted as the column's class)", s.str(), ""});
  }

  std::ostringstream script;
  for (size_t i = 0; i < figures.size(); ++i) {
    script << "reset\nset terminal svg size " << kReportPlotWidth << ',' << kReportPlotHeight
           << " font 'sans,11' background rgb 'white'\nset output " << q("fig" + std::to_string(i) + ".svg")
           << '\n'
           << figures[i].script << "unset output\n";
  }
  run_gnuplot(dir, script.str());
  for (size_t i = 0; i < figures.size(); ++i) {
    std::string svg = snn::io::read_file((dir / ("fig" + std::to_string(i) + ".svg")).string());
    const auto start = svg.find("<svg");
    TORCH_CHECK(start != std::string::npos, "snn report: gnuplot wrote no SVG for figure ", i + 1);
    figures[i].svg = svg.substr(start);
  }

  std::ostringstream page;
  page << "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" << escape(title)
       << "</title>\n<style>\nbody{margin:0;font-family:sans-serif;background:#fff;color:#222}\n"
       << "header{height:" << kReportHeader << "px;box-sizing:border-box;padding:12px 24px;overflow:hidden}\n"
       << "header h1{margin:0 0 8px 0;font-size:22px}\n"
       << ".fig{height:" << kReportFigure << "px;box-sizing:border-box;padding:0 24px;overflow:hidden}\n"
       << ".cap{height:" << kReportCaption << "px;line-height:" << kReportCaption
       << "px;font-weight:bold;white-space:nowrap;overflow:hidden}\n"
       << ".plot{width:" << kReportPlotWidth << "px;height:" << kReportPlotHeight << "px}\n"
       << "table{border-collapse:collapse;margin:24px}td,th{border:1px solid #bbb;padding:4px 10px}\n"
       << "</style></head><body>\n<header><h1>" << escape(title) << "</h1><div>";
  for (const auto& r : runs) {
    const auto& m = r.history.back();
    char line[200];
    std::snprintf(line, sizeof line, "%s: test accuracy %.3f, %.4g synops per sample; ", r.name.c_str(),
                  m.test_accuracy, m.synops);
    page << escape(line);
  }
  page << "</div></header>\n";
  for (size_t i = 0; i < figures.size(); ++i) {
    page << "<div class=\"fig\"><div class=\"cap\">" << i + 1 << ". " << escape(figures[i].caption)
         << "</div><div class=\"plot\">" << figures[i].svg << "</div></div>\n";
  }
  page << "<table><tr><th>model</th><th>epochs</th><th>test accuracy</th><th>synops per sample</th>"
          "<th>mean firing rate</th></tr>\n";
  for (const auto& r : runs) {
    const auto& m = r.history.back();
    page << "<tr><td>" << escape(r.name) << "</td><td>" << r.history.size() << "</td><td>"
         << m.test_accuracy << "</td><td>" << m.synops << "</td><td>" << m.firing_rate
         << "</td></tr>\n";
  }
  page << "</table>\n</body></html>\n";
  snn::io::write_file_atomically(html.string(), page.str());
  fs::remove_all(dir);
  return static_cast<int>(figures.size());
}

}  // namespace snn_cli
