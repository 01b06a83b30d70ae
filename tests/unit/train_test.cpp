// snn::train: losses, the trainer, checkpoints and exact resume.
#include <gtest/gtest.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "snn/io/process.h"
#include "snn/nn/lif.h"
#include "snn/nn/stateful.h"
#include "snn/analysis/analyzer.h"
#include "snn/train/checkpoint.h"
#include "snn/train/data_sources.h"
#include "snn/train/distributed.h"
#include "snn/train/presets.h"
#include "snn/train/trainer.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using snn::train::Dataset;
using snn::train::LossKind;
using snn::train::Trainer;
using snn::train::TrainerOptions;

// Scratch files of this test binary, removed at exit.
fs::path scratch(const std::string& name) {
  static const snn::test::TempDir dir("snn_train_test");
  return dir / name;
}

torch::nn::Sequential mlp(int64_t hidden = 16) {
  return torch::nn::Sequential(torch::nn::Linear(8, hidden), snn::LIF(snn::LIFOptions(5.0)),
                               torch::nn::Linear(hidden, 3), snn::IAF());
}

// A learnable task: the class is which third of the channels fires most.
Dataset task(int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto labels = at::randint(0, 3, {n}, gen, at::kLong);
  auto rates = at::full({n, 1, 8}, 0.1);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = labels[i].item<int64_t>();
    rates[i].select(1, c * 2).fill_(0.8);
    rates[i].select(1, c * 2 + 1).fill_(0.8);
  }
  const auto x = (at::rand({n, 12, 8}, gen) < rates.expand({n, 12, 8})).to(at::kFloat);
  return {x, labels};
}

using snn::test::error_of;

std::shared_ptr<torch::optim::Adam> adam(torch::nn::Sequential& m, double lr = 5e-3) {
  return std::make_shared<torch::optim::Adam>(m->parameters(), torch::optim::AdamOptions(lr));
}

TEST(LossTest, DecodersAndLossesFollowTheirDefinitions) {
  torch::manual_seed(0);
  const auto out = at::rand({4, 6, 3});
  const auto y = at::tensor({0, 2, 1, 2}, at::kLong);
  using snn::train::LossOptions;
  const auto ce = [](const at::Tensor& logits, const at::Tensor& labels) {
    return -logits.log_softmax(1).gather(1, labels.unsqueeze(1)).mean();
  };
  EXPECT_TRUE(at::allclose(snn::train::loss(LossKind::SumCrossEntropy, out, y), ce(out.sum(1), y)));
  at::Tensor rate = at::zeros({});
  for (int t = 0; t < 6; ++t) rate = rate + ce(out.select(1, t), y);
  EXPECT_TRUE(at::allclose(snn::train::loss(LossKind::RateCrossEntropy, out, y), rate / 6));
  auto target = at::full({4, 3}, 1.0);  // trunc(0.2 · 6): whole spikes
  for (int i = 0; i < 4; ++i) target[i][y[i].item<int64_t>()] = 5.0;  // trunc(0.9 · 6)
  EXPECT_TRUE(at::allclose(
      snn::train::loss(LossOptions(LossKind::CountMSE).correct_rate(0.9).incorrect_rate(0.2), out, y),
      (out.sum(1) - target).square().mean() / 6));
  EXPECT_TRUE(at::allclose(snn::train::loss(LossKind::MaxMembraneCrossEntropy, out, y),
                           ce(std::get<0>(out.max(1)), y)));
  EXPECT_TRUE(at::equal(snn::train::predict(LossKind::SumCrossEntropy, out), out.sum(1).argmax(1)));
  const auto msg = error_of([&] { snn::train::loss(LossKind::SumCrossEntropy, out, y.to(at::kInt)); });
  EXPECT_NE(msg.find("int64 labels"), std::string::npos) << msg;
}

TEST(TrainerTest, LearnsTheTask) {
  torch::manual_seed(1);
  auto model = mlp();
  Trainer trainer(model, adam(model, 2e-2), TrainerOptions().epochs(12).batch_size(16).seed(1));
  const auto history = trainer.fit(task(96, 1), task(48, 2));
  ASSERT_EQ(history.size(), 12u);
  // Chance is 1/3; the task is easy.
  EXPECT_GT(history.back().test_accuracy, 0.8) << "final test accuracy";
  EXPECT_LT(history.back().train_loss, history.front().train_loss);
  EXPECT_GT(history.back().synops, 0);
  EXPECT_EQ(trainer.step(), 12 * 6);
}

TEST(TrainerTest, TruncatedBpttAndRegularisersRun) {
  auto model = mlp();
  int steps = 0;
  Trainer trainer(model, adam(model),
                  TrainerOptions()
                      .epochs(2)
                      .batch_size(16)
                      .truncation(4)
                      .synops_weight(1e-4)
                      .firing_rate_weight(1.0)
                      .firing_rate_target(0.1)
                      .clip_grad_norm(1.0)
                      .lr_schedule(snn::train::LrSchedule::step(1, 0.5)));
  trainer.on_step = [&](const snn::train::StepInfo& s) {
    ++steps;
    EXPECT_EQ(s.batches, 3);
  };
  const auto h = trainer.fit(task(48, 3));
  EXPECT_EQ(steps, 6);
  EXPECT_DOUBLE_EQ(h[1].lr, h[0].lr * 0.5);
  EXPECT_TRUE(std::isnan(h[0].test_accuracy));
}

// A module of one's own (not a Sequential): what Model and evaluate() take.
struct NetImpl : torch::nn::Module {
  NetImpl() : body(mlp()) { register_module("body", body); }
  at::Tensor forward(const at::Tensor& x) { return body->forward(x); }
  torch::nn::Sequential body;
};
TORCH_MODULE(Net);

TEST(TrainerTest, ActivityMetricsChangeNoNumberAndAnyModuleTrains) {
  // The same seed and data with and without the Analyzer: the same weights and losses,
  // synops NaN without it. The module without analysis is not even a Sequential.
  const auto train = task(48, 4), test = task(24, 5);
  torch::manual_seed(3);
  auto with = mlp();
  torch::manual_seed(3);
  Net without;
  auto opt = [](torch::nn::Module& m) {
    return std::make_shared<torch::optim::Adam>(m.parameters(), torch::optim::AdamOptions(5e-3));
  };
  Trainer a(with, opt(*with), TrainerOptions().epochs(3).batch_size(16).truncation(5));
  Trainer b(without, opt(*without),
            TrainerOptions().epochs(3).batch_size(16).truncation(5).activity_metrics(false));
  const auto ha = a.fit(train, test), hb = b.fit(train, test);
  for (size_t e = 0; e < ha.size(); ++e) {
    EXPECT_EQ(ha[e].train_loss, hb[e].train_loss) << e;
    EXPECT_EQ(ha[e].train_accuracy, hb[e].train_accuracy) << e;
    EXPECT_EQ(ha[e].test_loss, hb[e].test_loss) << e;
    EXPECT_GT(ha[e].synops, 0);
    EXPECT_TRUE(std::isnan(hb[e].synops) && std::isnan(hb[e].firing_rate));
  }
  const auto pa = with->parameters(), pb = without->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(at::equal(pa[i], pb[i])) << i;
  // The free evaluate: the Trainer's numbers, on either module.
  const auto ea = snn::train::evaluate(with, test, snn::train::EvaluateOptions().batch_size(16));
  const auto eb = snn::train::evaluate(
      without, test, snn::train::EvaluateOptions().batch_size(7).activity_metrics(false));
  EXPECT_DOUBLE_EQ(ea.test_accuracy, ha.back().test_accuracy);
  EXPECT_NEAR(ea.test_loss, eb.test_loss, 1e-6);  // float32 batch means of 16 vs 7
  EXPECT_EQ(ea.test_accuracy, eb.test_accuracy);
  // Analysis needs a Sequential: asked for on another module, it is named.
  EXPECT_NE(error_of([&] { Trainer(without, opt(*without), TrainerOptions()); })
                .find("TrainerOptions::activity_metrics needs the model to be a Sequential"),
            std::string::npos);
  EXPECT_NE(error_of([&] { snn::train::evaluate(without, test); })
                .find("EvaluateOptions::activity_metrics needs the model to be a Sequential"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              Trainer(without, opt(*without),
                      TrainerOptions().activity_metrics(false).synops_weight(1e-3));
            }).find("a regulariser needs the model to be a Sequential"),
            std::string::npos);
}

// A process group of one (its own c10d store, Gloo): the sum over one rank is the rank's own
// gradient, so the Trainer's data-parallel path (gradient hooks while the backward runs; the
// gradients as they are after truncated BPTT's several backward passes) must take the very
// steps of the plain path.
TEST(TrainerTest, AProcessGroupOfOneTakesTheSameSteps) {
  snn::train::DistributedOptions o;
  o.master_port = 0;  // the store picks a free port
  auto dist = std::make_shared<snn::train::Distributed>(o);
  ASSERT_EQ(dist->world_size(), 1);
  for (const std::optional<int64_t> truncation : {std::optional<int64_t>(), std::optional<int64_t>(5)}) {
    std::vector<torch::nn::Sequential> models;
    for (const bool distributed : {false, true}) {
      torch::manual_seed(3);
      auto m = mlp();
      Trainer t(m, adam(m), TrainerOptions().epochs(2).batch_size(16).seed(4).truncation(truncation)
                                .distributed(distributed ? dist : nullptr));
      t.fit(task(64, 1));
      models.push_back(m);
    }
    const auto a = models[0]->parameters(), b = models[1]->parameters();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_TRUE(at::equal(a[i], b[i])) << "parameter " << i << ", truncation "
                                         << truncation.value_or(0);
    }
  }
}

TEST(DataSourcesTest, RegistryFindsBuiltInAndAddedSources) {
  const auto names = snn::train::data_source_names();
  ASSERT_GE(names.size(), 5u);
  EXPECT_EQ(names[0], "spoken-digits");
  EXPECT_TRUE(snn::train::data_source("dvs-gesture").camera);
  EXPECT_FALSE(snn::train::data_source("shd").camera);
  const auto unknown = error_of([] { snn::train::data_source("mnist"); });
  EXPECT_NE(unknown.find("data.source must be one of spoken-digits, shd, ssc, nmnist, "
                         "dvs-gesture"),
            std::string::npos)
      << unknown;
  // A source of one's own: registered once, then loaded by name.
  snn::train::register_data_source(
      {"test-task", "a learnable toy task", false, [](const snn::train::DataOptions& o) {
         snn::train::TrainingData d;
         d.train = task(o.time_bins() * 4, 1);
         d.test = task(12, 2);
         d.classes = 3;
         d.frame = {8};
         return d;
       }});
  const auto d = snn::train::load_data(snn::train::DataOptions().source("test-task").time_bins(5));
  EXPECT_EQ(d.train.inputs.size(0), 20);
  EXPECT_NE(error_of([] {
              snn::train::register_data_source(
                  {"test-task", "again", false,
                   [](const snn::train::DataOptions&) { return snn::train::TrainingData(); }});
            }).find("a source named \"test-task\" exists already"),
            std::string::npos);
  // Missing files are named, with the path.
  const auto missing = error_of([] {
    snn::train::load_data(snn::train::DataOptions().source("shd").path("/no/such/dir"));
  });
  EXPECT_NE(missing.find("/no/such/dir/shd_train.h5"), std::string::npos) << missing;
}

// Stops after two of four epochs, resumes in a fresh model and optimizer from the
// checkpoint, and must end with the same weights and metrics, bit for bit, as the
// uninterrupted run.
TEST(TrainerTest, ResumeContinuesBitForBit) {
  const auto train = task(64, 4), test = task(32, 5);
  const auto options = TrainerOptions().epochs(4).batch_size(16).seed(7);

  torch::manual_seed(11);
  auto straight = mlp();
  Trainer a(straight, adam(straight), options);
  a.fit(train, test);

  torch::manual_seed(11);
  auto first = mlp();
  const auto path = scratch("resume.ckpt").string();
  Trainer b(first, adam(first), TrainerOptions(options).checkpoint_path(path));
  b.on_epoch = [](const snn::train::EpochMetrics& m) { return m.epoch < 1; };  // stop after 2
  b.fit(train, test);
  ASSERT_EQ(b.epoch(), 2);

  torch::manual_seed(999);  // a different initialisation and generator: all must come from the file
  auto resumed = mlp();
  Trainer c(resumed, adam(resumed), options);
  c.load_checkpoint(path);
  EXPECT_EQ(c.epoch(), 2);
  c.fit(train, test);
  ASSERT_EQ(c.history().size(), a.history().size());
  for (size_t e = 0; e < a.history().size(); ++e) {
    EXPECT_EQ(c.history()[e].train_loss, a.history()[e].train_loss) << "epoch " << e;
    EXPECT_EQ(c.history()[e].train_accuracy, a.history()[e].train_accuracy) << "epoch " << e;
    EXPECT_EQ(c.history()[e].test_loss, a.history()[e].test_loss) << "epoch " << e;
    EXPECT_EQ(c.history()[e].synops, a.history()[e].synops) << "epoch " << e;
  }
  const auto pa = straight->named_parameters(), pc = resumed->named_parameters();
  for (const auto& p : pa) {
    EXPECT_TRUE(at::equal(p.value(), pc[p.key()])) << p.key() << " differs after resume";
  }
  EXPECT_EQ(c.step(), a.step());
}

TEST(CheckpointTest, AnotherArchitectureIsNamed) {
  auto model = mlp(16);
  const auto path = scratch("arch.ckpt").string();
  snn::train::save_model(path, *model);
  auto other = mlp(12);
  const auto msg = error_of([&] { snn::train::load_model(path, *other); });
  EXPECT_NE(msg.find("another architecture"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'0.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[16, 8]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[12, 8]"), std::string::npos) << msg;
}

TEST(CheckpointTest, TruncatedAndCorruptedFilesAreRefused) {
  auto model = mlp();
  const auto path = scratch("bad.ckpt").string();
  snn::train::save_model(path, *model);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto write = [&](const std::string& b) { std::ofstream(path, std::ios::binary) << b; };
  write(bytes.substr(0, bytes.size() / 2));
  auto msg = error_of([&] { snn::train::load_model(path, *model); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  auto corrupt = bytes;
  corrupt[corrupt.size() - 100] ^= 0x5a;
  write(corrupt);
  msg = error_of([&] { snn::train::load_model(path, *model); });
  EXPECT_NE(msg.find("corrupted"), std::string::npos) << msg;
  write("PK\x03\x04 not a checkpoint at all, but long enough");
  msg = error_of([&] { snn::train::load_model(path, *model); });
  EXPECT_NE(msg.find("not an snn.cpp checkpoint"), std::string::npos) << msg;
  msg = error_of([&] { snn::train::load_model(path + ".missing", *model); });
  EXPECT_NE(msg.find("cannot open checkpoint"), std::string::npos) << msg;
}

// A write that fails half-way (here: an error while the archive is being filled) leaves
// the previous checkpoint whole and loadable, and no temporary file behind.
TEST(CheckpointTest, AFailedWriteKeepsThePreviousCheckpoint) {
  auto model = mlp();
  const auto dir = scratch("keep");
  fs::create_directories(dir);
  const auto path = (dir / "keep.ckpt").string();
  snn::train::save_model(path, *model);
  const auto before = fs::file_size(path);
  auto bigger = mlp(32);
  EXPECT_THROW(snn::train::save_checkpoint(path, *bigger,
                                           [](torch::serialize::OutputArchive&) {
                                             throw std::runtime_error("interrupted");
                                           }),
               std::runtime_error);
  EXPECT_EQ(fs::file_size(path), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  auto again = mlp();
  EXPECT_NO_THROW(snn::train::load_model(path, *again));
}

// Saves a model, runs this test binary again (a new process) to load it and run it on the
// same input, and compares the outputs bit for bit.
TEST(CheckpointTest, ModelLoadsInAFreshProcess) {
  if (const char* child = std::getenv("SNN_ROUNDTRIP_DIR")) {  // the new process
    auto model = mlp();  // fresh weights: everything must come from the file
    snn::train::load_model(std::string(child) + "/model.ckpt", *model);
    at::Tensor input;
    torch::load(input, std::string(child) + "/input.pt");
    snn::reset_states(*model);
    torch::save(model->forward(input), std::string(child) + "/output.pt");
    return;
  }
  torch::manual_seed(21);
  auto model = mlp();
  const auto dir = scratch("roundtrip");
  fs::create_directories(dir);
  const auto input = (at::rand({3, 10, 8}) < 0.5).to(at::kFloat) * 2;
  snn::train::save_model((dir / "model.ckpt").string(), *model);
  torch::save(input, (dir / "input.pt").string());
  snn::reset_states(*model);
  const auto expected = model->forward(input);
  ASSERT_GT(expected.sum().item<double>(), 0) << "the model must spike";
  // A new process of this test program (an argument vector: no shell).
  ASSERT_EQ(snn::io::run_program(
                snn::io::ProgramOptions({fs::read_symlink("/proc/self/exe").string(),
                                         "--gtest_filter=CheckpointTest.ModelLoadsInAFreshProcess"})
                    .env("SNN_ROUNDTRIP_DIR", dir.string())),
            0);
  at::Tensor out;
  torch::load(out, (dir / "output.pt").string());
  EXPECT_TRUE(at::equal(out, expected));
}

TEST(TrainerTest, BadInputIsNamed) {
  auto model = mlp();
  Trainer t(model, adam(model), TrainerOptions().epochs(1));
  auto msg = error_of([&] { t.fit({at::rand({4, 8}), at::zeros({4}, at::kLong)}); });
  EXPECT_NE(msg.find("[N, T, ...]"), std::string::npos) << msg;
  msg = error_of([&] { t.fit({at::rand({4, 5, 8}), at::zeros({3}, at::kLong)}); });
  EXPECT_NE(msg.find("labels of shape [4]"), std::string::npos) << msg;
  msg = error_of([&] { t.load_checkpoint(scratch("nothing.ckpt").string()); });
  EXPECT_NE(msg.find("cannot open checkpoint"), std::string::npos) << msg;
  const auto path = scratch("model_only.ckpt").string();
  snn::train::save_model(path, *model);
  msg = error_of([&] { t.load_checkpoint(path); });
  EXPECT_NE(msg.find("holds a model only"), std::string::npos) << msg;
  msg = error_of([&] { Trainer(mlp(), nullptr); });
  EXPECT_NE(msg.find("no optimizer"), std::string::npos) << msg;
}

// A camera dataset in memory: sample i has 300·(i + 1) ON events at pixel (i, 0) and one
// OFF event at (1, 1), labels i % 2 (all but sample 0 saturate a uint8 count).
class TinyCamera : public snn::data::EventDataset {
 public:
  int64_t size() const override { return 4; }
  snn::events::Events events(int64_t i) const override {
    snn::events::Events e(sensor(), /*has_y=*/true);
    e.push_back(0, 1, 1, 0);
    for (int64_t k = 0; k < 300 * (i + 1); ++k) e.push_back(1 + k, i, 0, 1);
    return e;
  }
  int64_t label(int64_t i) const override { return i % 2; }
  snn::events::SensorSize sensor() const override { return {8, 8, 2}; }
  std::string repr() const override { return "TinyCamera"; }
};

TEST(PresetsTest, EventFramesAreToFrameCountsAsUint8) {
  const TinyCamera data;
  const auto d = snn::train::event_frames(data, /*time_bins=*/2);
  ASSERT_EQ(d.inputs.sizes(), (std::vector<int64_t>{4, 2, 2, 8, 8}));
  EXPECT_EQ(d.inputs.scalar_type(), at::kByte);
  EXPECT_TRUE(at::equal(d.labels, at::tensor({0, 1, 0, 1}, at::kLong)));
  const snn::events::ToFrame frame(snn::events::ToFrameOptions().n_time_bins(2));
  for (int64_t i = 0; i < 4; ++i) {
    const auto counts = frame.apply(data.events(i)).to(at::kLong);
    EXPECT_TRUE(at::equal(d.inputs[i].to(at::kLong), counts.clamp_max(255))) << i;
    EXPECT_EQ(d.inputs[i].max().item<int64_t>() == 255, counts.max().item<int64_t>() > 255) << i;
  }
  EXPECT_EQ(d.inputs[3].max().item<int64_t>(), 255) << "a count above 255 saturates";
  // Downsampled by 1/2: 4 × 4 pixels holding the same counts (no two pixels merge here).
  const auto half = snn::train::event_frames(data, 2, 0.5);
  EXPECT_EQ(half.inputs.sizes(), (std::vector<int64_t>{4, 2, 2, 4, 4}));
  EXPECT_TRUE(at::equal(half.inputs.to(at::kLong).sum({1, 2, 3, 4}),
                        d.inputs.to(at::kLong).sum({1, 2, 3, 4})));
  EXPECT_THROW_WITH(snn::train::event_frames(data, 0), "time_bins >= 1");
  EXPECT_THROW_WITH(snn::train::event_frames(data, 2, 1.5), "0 < spatial_factor <= 1");
}

TEST(PresetsTest, DvsConvTakesAnyBatchAndCountsItsSynops) {
  for (const auto kind : {snn::train::NeuronKind::IAF, snn::train::NeuronKind::LIF,
                          snn::train::NeuronKind::ALIF}) {
    // 34 × 34 (N-MNIST): 17, 8, 4 after the three poolings.
    auto model = snn::train::dvs_conv(
        snn::train::ConvOptions()
            .neurons(snn::train::ConvOptions().neurons().kind(kind))
            .height(34)
            .width(34)
            .outputs(10));
    for (const int64_t batch : {1, 3}) {
      snn::reset_states(*model);
      const auto x = (at::rand({batch, 5, 2, 34, 34}) < 0.3).to(at::kFloat) * 3;
      EXPECT_EQ(model->forward(x).sizes(), (std::vector<int64_t>{batch, 5, 10}));
    }
    snn::reset_states(*model);
    snn::analysis::Analyzer analyzer(model);
    analyzer.forward((at::rand({2, 5, 2, 34, 34}) < 0.3).to(at::kFloat));
    const auto layers = analyzer.parameter_layers();
    ASSERT_EQ(layers.size(), 4u) << "three convolutions and the read-out";
    EXPECT_GT(layers[0].synops.item<double>(), 0);
  }
  EXPECT_THROW_WITH(snn::train::dvs_conv(snn::train::ConvOptions().height(4)), "height and width >= 8");
}

}  // namespace

TEST(PresetsTest, EveryNeuronKindBuildsEveryPresetAndLearns) {
  // Every kind in the MLP and the convolutional preset: the forward keeps the shape, a
  // training step reaches every parameter (the recurrent connections included), and the
  // constants a kind cannot take are named.
  for (const auto& name : snn::train::neuron_kind_names()) {
    const auto kind = snn::train::parse_neuron_kind(name);
    auto neurons = snn::train::PresetNeurons().kind(kind).tau_mem(5.0);
    torch::manual_seed(0);
    auto mlp = snn::train::shd_mlp(
        snn::train::MLPOptions().neurons(neurons).inputs(12).hidden(16).outputs(4).delays({0, 2}));
    const auto x = at::rand({2, 9, 12}) * 3;
    const auto out = mlp->forward(x);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 9, 4})) << name;
    (out.sum() + out.pow(2).sum()).backward();
    for (const auto& p : mlp->named_parameters()) {
      if (p.value().requires_grad()) {
        EXPECT_TRUE(p.value().grad().defined()) << name << ": " << p.key();
      }
    }
    auto conv = snn::train::dvs_conv(snn::train::ConvOptions().neurons(snn::train::PresetNeurons(neurons).norm_input(false))
                                         .channels(2).height(16).width(16).outputs(3));
    const auto y = conv->forward(at::rand({2, 4, 2, 16, 16}) * 4);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 4, 3})) << name;
    if (snn::train::is_snntorch_kind(kind)) {
      EXPECT_THROW_WITH(snn::train::check_neurons(snn::train::PresetNeurons().kind(kind).min_v_mem(-1.0)),
                        "has no lower bound of the membrane");
      EXPECT_THROW_WITH(snn::train::check_neurons(snn::train::PresetNeurons().kind(kind).reset_fn(
                            snn::MembraneSubtract{0.5})),
                        "resets by MembraneSubtract() (the threshold)");
    }
  }
  EXPECT_EQ(snn::train::neuron_kind_title(snn::train::NeuronKind::RSynaptic), "RSynaptic");
  EXPECT_EQ(snn::train::default_comparison(), (std::vector<std::string>{"iaf", "lif", "alif"}));
}
