#pragma once
// report.html of a run or a comparison (report.cpp): plots drawn by gnuplot (SVG), put
// inline into one self-contained page.
//
// Layout (fixed, so that a screenshot can be checked plot by plot): a header of
// kReportHeader pixels, then one figure per kReportFigure pixels, one under the other, each
// a caption line and a kReportPlotWidth × kReportPlotHeight plot.
#include <torch/nn/modules/container/sequential.h>

#include <filesystem>
#include <string>
#include <vector>

#include "snn/events/events.h"
#include "snn/train/trainer.h"

namespace snn_cli {

constexpr int kReportHeader = 120;
constexpr int kReportFigure = 420;
constexpr int kReportCaption = 40;
constexpr int kReportPlotWidth = 720;
constexpr int kReportPlotHeight = 360;

struct ReportRun {
  std::string name;  // e.g. "iaf"
  std::vector<snn::train::EpochMetrics> history;
  // The trained model, built with record_states (for the membrane traces).
  torch::nn::Sequential model;
};

// Writes `html` (atomically): loss and accuracy curves, accuracy against synops, the input
// `sample` (test sample 0, named `sample_name`: a time-channel raster of audio events, an
// x-y picture of camera events), membrane traces of the five neurons of the first
// hidden layer of each run that fired most on that sample (named in the caption), the
// firing-rate histogram of every spiking layer of each run, and each run's confusion matrix
// on `test` (classes named by `class_names`, label order; numbers where it has none).
// Throws, naming gnuplot, when it cannot draw. Returns the number of figures.
int write_report(const std::filesystem::path& html, const std::string& title,
                 const std::vector<ReportRun>& runs, const snn::train::Dataset& test,
                 const snn::events::Events& sample, const std::string& sample_name,
                 const std::vector<std::string>& class_names);

}  // namespace snn_cli
