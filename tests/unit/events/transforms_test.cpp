// Transforms, representations and slicers: text form round trips, parameter checks, edge
// cases. Parity with Tonic lives in tests/parity/test_events_transforms.py.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "snn/events/slicers.h"
#include "snn/events/transforms.h"
#include "test_util.h"

namespace {

using namespace snn::events;

using snn::test::error_of;

Events grid_events() {
  Events e(SensorSize{4, 3, 2});
  e.push_back(0, 0, 0, 0);
  e.push_back(10, 1, 0, 1);
  e.push_back(20, 3, 2, 0);
  e.push_back(30, 2, 1, 1);
  e.push_back(40, 3, 2, 1);
  return e;
}

Events audio_events() {
  Events e(SensorSize{8, 1, 1}, /*has_y=*/false);
  for (int i = 0; i < 6; ++i) e.push_back(100 * i, (3 * i) % 8, 0, 1);
  return e;
}

// ---- text form --------------------------------------------------------------------------------

TEST(TransformSpecTest, ReprRoundTripsForEveryTransform) {
  const std::vector<std::string> specs = {
      "CropTime(min=0, max=none)",
      "CropTime(min=-5, max=20000)",
      "TimeSkew(coefficient=1.3, offset=100)",
      "TimeAlignment()",
      "TimeJitter(std=2.5, clip_negative=false, sort_timestamps=true)",
      "RandomTimeReversal(p=0.25, flip_polarities=false)",
      "CropSpace(x=1, y=2, width=10, height=20)",
      "CenterCrop(size=(10, 12))",
      "RandomCrop(target_size=(5, 6))",
      "Downsample(time_factor=0.001, spatial_factor=(0.5, 0.25), target_size=none)",
      "Downsample(time_factor=1, spatial_factor=none, target_size=(17, 17))",
      "RandomFlipLR(p=1)",
      "RandomFlipUD(p=0.5)",
      "RandomFlipPolarity(p=0)",
      "SpatialJitter(var_x=1, var_y=2, sigma_xy=0.5, clip_outliers=true)",
      "MergePolarities()",
      "Denoise(filter_time=10000)",
      "RefractoryPeriod(delta=1000.5)",
      "Decimation(n=5)",
      "DropEvent(p=0.2)",
      "DropEvent(p=(0, 0.5))",
      "RefractoryPeriod(delta=(0, 1000))",
      "UniformNoise(n=(10, 100))",
      "DropPixel(coordinates=[(1, 2), (3, 4)], hot_pixel_frequency=none)",
      "DropPixel(coordinates=[], hot_pixel_frequency=60)",
      "DropEventByTime(duration_ratio=0.25)",
      "DropEventByArea(area_ratio=0.1)",
      "UniformNoise(n=100)",
      "EventDrop()",
      "Compose([])",
      "Compose([Denoise(filter_time=10), Compose([MergePolarities()]), DropEvent(p=0.1)])",
  };
  for (const auto& s : specs) {
    const auto t = parse_transform(s);
    EXPECT_EQ(t->repr(), s);
    EXPECT_EQ(parse_transform(t->repr())->repr(), t->repr());
  }
}

TEST(TransformSpecTest, DefaultsAreFilledInAndNamed) {
  EXPECT_EQ(parse_transform("CropTime()")->repr(), "CropTime(min=0, max=none)");
  EXPECT_EQ(parse_transform("Downsample(spatial_factor=0.5)")->repr(),
            "Downsample(time_factor=1, spatial_factor=(0.5, 0.5), target_size=none)");
  EXPECT_EQ(parse_transform("TimeJitter(std=1)")->repr(),
            "TimeJitter(std=1, clip_negative=true, sort_timestamps=false)");
  EXPECT_EQ(parse_transform(" Compose ( [ CropTime ( max = 5 ) ] ) ")->repr(),
            "Compose([CropTime(min=0, max=5)])");
  EXPECT_EQ(parse_transform("Compose(transforms=[MergePolarities()])")->repr(),
            "Compose([MergePolarities()])");
  EXPECT_EQ(parse_transform("RandomFlipLR(p=1e0)")->repr(), "RandomFlipLR(p=1)");
  EXPECT_EQ(parse_transform("CenterCrop(size=10)")->repr(), "CenterCrop(size=(10, 10))");
  EXPECT_EQ(parse_transform("DropEvent(p=(0.2, 0.2))")->repr(), "DropEvent(p=0.2)");
  EXPECT_EQ(parse_transform("TimeJitter(std=0, clip_negative=False)")->repr(),
            "TimeJitter(std=0, clip_negative=false, sort_timestamps=false)");
}

TEST(TransformSpecTest, DifferentConfigurationsHaveDifferentReprs) {
  // Reals print in their shortest exact form, so nearby values stay apart.
  const auto a = Denoise(0.3).repr(), b = Denoise(0.1 + 0.2).repr();
  EXPECT_EQ(a, "Denoise(filter_time=0.3)");
  EXPECT_EQ(b, "Denoise(filter_time=0.30000000000000004)");
  EXPECT_EQ(parse_transform(b)->repr(), b);
  EXPECT_NE(RefractoryPeriod(1000).repr(), RefractoryPeriod(1000.0000001).repr());
  EXPECT_NE(ToFrame(ToFrameOptions().time_window(1000)).repr(),
            ToFrame(ToFrameOptions().event_count(1000)).repr());
}

TEST(TransformSpecTest, ParseErrorsNameTheProblem) {
  EXPECT_THROW_WITH(parse_transform("Blur(sigma=1)"), "unknown transform 'Blur'");
  EXPECT_THROW_WITH(parse_transform("Denoise(filter_tim=10)"), "needs the parameter 'filter_time'");
  EXPECT_THROW_WITH(parse_transform("Denoise(filter_time=10, foo=1)"),
                    "Denoise has no parameter 'foo'");
  EXPECT_THROW_WITH(parse_transform("Denoise(filter_time=abc)"), "expected '(' after 'abc'");
  EXPECT_THROW_WITH(parse_transform("Denoise(filter_time=true)"),
                    "Denoise(filter_time=...) expects a number, got a boolean");
  EXPECT_THROW_WITH(parse_transform("Decimation(n=2.5)"), "expects an integer, got '2.5'");
  EXPECT_THROW_WITH(parse_transform("Denoise(filter_time='10')"),
                    "Denoise(filter_time=...) expects a number, got a string");
  EXPECT_THROW_WITH(parse_transform("Denoise(filter_time=10"), "expected ')'");
  EXPECT_THROW_WITH(parse_transform("Denoise(filter_time=10) x"), "after the end");
  EXPECT_THROW_WITH(parse_transform("Denoise(filter_time=1, filter_time=2)"), "given twice");
  EXPECT_THROW_WITH(parse_transform("Denoise(10)"), "keyword arguments only");
  EXPECT_THROW_WITH(parse_transform("Compose([Denoise(filter_time=1), 3])"),
                    "expects a list of transforms");
  EXPECT_THROW_WITH(parse_transform("Compose([Nope()])"), "unknown transform 'Nope'");
  EXPECT_THROW_WITH(parse_transform("DropEvent(p=1e999)"), "bad number '1e999'");
  EXPECT_THROW_WITH(parse_transform(""), "expected a value, found the end");
  // Found by fuzzing: deep nesting was a stack overflow.
  EXPECT_THROW_WITH(parse_transform("Compose(" + std::string(100000, '(') + ")"),
                    "nested deeper than 64 levels");
  EXPECT_THROW_WITH(parse_representation("ToFrame(time_window=10, n_time_bins=3)"),
                    "exactly one of time_window, event_count, n_time_bins, n_event_bins; got 2");
  EXPECT_THROW_WITH(parse_representation("ToPicture()"), "unknown representation 'ToPicture'");
  EXPECT_THROW_WITH(parse_slicer("SliceByTime(window=3)"), "needs the parameter 'time_window'");
  EXPECT_THROW_WITH(parse_slicer("SliceByEventCount(event_count=3, overlap=0.5)"),
                    "expects an integer, got '0.5'");
}

TEST(TransformSpecTest, RepresentationAndSlicerReprsRoundTrip) {
  const std::vector<std::string> reps = {
      "ToFrame(time_window=1000, event_count=none, n_time_bins=none, n_event_bins=none, "
      "overlap=100, include_incomplete=true, start_time=0, end_time=5000)",
      "ToFrame(time_window=none, event_count=none, n_time_bins=none, n_event_bins=7, "
      "overlap=0.25, include_incomplete=false, start_time=none, end_time=none)",
      "ToImage()",
      "ToVoxelGrid(n_time_bins=5)",
      "ToTimesurface(dt=1000, tau=5000.5)",
      "ToBinaRep(n_frames=3, n_bits=4)",
      "ToAveragedTimesurface(surface_size=3, cell_size=8, time_window=20000.5, tau=5000, "
      "decay=\"lin\")",
      "ToAveragedTimesurface(surface_size=5, cell_size=10, time_window=1000, tau=100, "
      "decay=\"exp\")",
  };
  for (const auto& s : reps) EXPECT_EQ(parse_representation(s)->repr(), s);
  const std::vector<std::string> slicers = {
      "SliceByTime(time_window=100, overlap=10, include_incomplete=true, start_time=none, "
      "end_time=1000, reset_time=false)",
      "SliceByTime(time_window=0.5, overlap=0, include_incomplete=false, start_time=-3, "
      "end_time=none, reset_time=true)",
      "SliceByTimeBins(bin_count=4, overlap=0.5)",
      "SliceByEventCount(event_count=10, overlap=3, include_incomplete=false)",
      "SliceByEventBins(bin_count=3, overlap=0)",
      "SliceAtIndices(start_indices=[0, 5], end_indices=[5, 9])",
      "SliceAtTimePoints(start_times=[0, 10.5], end_times=[20, 30])",
  };
  for (const auto& s : slicers) EXPECT_EQ(parse_slicer(s)->repr(), s);
}

// ---- parameter checks --------------------------------------------------------------------------

TEST(TransformOptionsTest, BadParametersAreRejectedByName) {
  EXPECT_THROW_WITH(Denoise(0), "filter_time must be > 0, got filter_time=0");
  EXPECT_THROW_WITH(RefractoryPeriod(-1), "got delta=-1");
  EXPECT_THROW_WITH(DropEvent(1.5), "got p=1.5");
  EXPECT_THROW_WITH(DropEvent(RealPair{0.5, 0.1}), "got p=(0.5, 0.1)");
  EXPECT_THROW_WITH(RefractoryPeriod(RealPair{10, 5}), "got delta=(10, 5)");
  EXPECT_THROW_WITH(parse_transform("DropEvent()"), "DropEvent needs the parameter 'p'");
  EXPECT_THROW_WITH(RandomFlipLR(RandomFlipOptions().p(-0.1)), "got p=-0.1");
  EXPECT_THROW_WITH(Decimation(0), "n must be >= 1, got n=0");
  EXPECT_THROW_WITH(DropEventByTime(1), "duration_ratio must lie in [0, 1), got duration_ratio=1");
  EXPECT_THROW_WITH(DropEventByArea(-0.5), "area_ratio must lie in [0, 1), got area_ratio=-0.5");
  EXPECT_THROW_WITH(UniformNoise(-1),
                    "UniformNoise: n must be >= 0 (a range: 0 <= lo <= hi), got n=-1");
  EXPECT_THROW_WITH(CropTime(CropTimeOptions().min(10).max(5)), "got min=10, max=5");
  EXPECT_THROW_WITH(TimeJitter(TimeJitterOptions(-2)), "std must be >= 0, got std=-2");
  EXPECT_THROW_WITH(SpatialJitter(SpatialJitterOptions().var_x(1).var_y(1).sigma_xy(2)),
                    "positive semi-definite");
  EXPECT_THROW_WITH(Downsample(DownsampleOptions().spatial_factor(RealPair{0, 1})),
                    "spatial_factor must be > 0, got spatial_factor=(0, 1)");
  EXPECT_THROW_WITH(
      Downsample(DownsampleOptions().spatial_factor(RealPair{1, 1}).target_size(IntPair{2, 2})),
      "not both");
  EXPECT_THROW_WITH(CropSpace(CropSpaceOptions(0, 3)), "width must be >= 1, got width=0");
  EXPECT_THROW_WITH(ToFrame(ToFrameOptions()), "got 0");
  EXPECT_THROW_WITH(ToFrame(ToFrameOptions().time_window(0)), "time_window must be > 0");
  EXPECT_THROW_WITH(ToFrame(ToFrameOptions().time_window(10).overlap(10)),
                    "overlap must lie in [0, time_window), got overlap=10");
  EXPECT_THROW_WITH(ToFrame(ToFrameOptions().event_count(10).overlap(2.5)), "got overlap=2.5");
  EXPECT_THROW_WITH(ToFrame(ToFrameOptions().n_time_bins(3).overlap(1)), "got overlap=1");
  EXPECT_THROW_WITH(ToFrame(ToFrameOptions().n_event_bins(3).include_incomplete(true)),
                    "include_incomplete applies to time_window and event_count only");
  EXPECT_THROW_WITH(ToFrame(ToFrameOptions().event_count(3).start_time(0)),
                    "start_time and end_time apply to time_window only");
  EXPECT_THROW_WITH(ToVoxelGrid(0), "n_time_bins must be >= 1, got n_time_bins=0");
  EXPECT_THROW_WITH(ToTimesurface(0, 1), "dt must be > 0, got dt=0");
  EXPECT_THROW_WITH(ToTimesurface(1, -1), "tau must be > 0, got tau=-1");
  EXPECT_THROW_WITH(ToBinaRep(ToBinaRepOptions().n_frames(0)),
                    "n_frames must be >= 1, got n_frames=0");
  EXPECT_THROW_WITH(ToBinaRep(ToBinaRepOptions().n_bits(1)),
                    "n_bits must lie in [2, 63], got n_bits=1");
  EXPECT_THROW_WITH(ToBinaRep(ToBinaRepOptions().n_bits(64)), "got n_bits=64");
  EXPECT_THROW_WITH(ToAveragedTimesurface(ToAveragedTimesurfaceOptions().surface_size(4)),
                    "surface_size must be odd and in [1, cell_size], got surface_size=4 with "
                    "cell_size=10");
  EXPECT_THROW_WITH(ToAveragedTimesurface(ToAveragedTimesurfaceOptions().cell_size(3)),
                    "got surface_size=5 with cell_size=3");
  EXPECT_THROW_WITH(ToAveragedTimesurface(ToAveragedTimesurfaceOptions().cell_size(0)),
                    "cell_size must be >= 1, got cell_size=0");
  EXPECT_THROW_WITH(ToAveragedTimesurface(ToAveragedTimesurfaceOptions().time_window(-1)),
                    "time_window must be >= 0, got time_window=-1");
  EXPECT_THROW_WITH(ToAveragedTimesurface(ToAveragedTimesurfaceOptions().tau(0)),
                    "tau must be > 0, got tau=0");
  EXPECT_THROW_WITH(
      parse_representation("ToAveragedTimesurface(decay=\"log\")"),
      "ToAveragedTimesurface(decay=...) expects one of \"exp\", \"lin\", got \"log\"");
  EXPECT_THROW_WITH(parse_representation("ToAveragedTimesurface(decay=1)"),
                    "expects one of \"exp\", \"lin\", got '1'");
  EXPECT_THROW_WITH(parse_representation("ToAveragedTimesurface(decay=\"exp)"),
                    "unterminated string");
  EXPECT_THROW_WITH(SliceByTime(SliceByTimeOptions(10).overlap(-1)), "got overlap=-1");
  EXPECT_THROW_WITH(SliceByEventCount(0), "event_count must be >= 1, got event_count=0");
  EXPECT_THROW_WITH(SliceByEventCount(5, 5), "got overlap=5 with event_count=5");
  EXPECT_THROW_WITH(SliceByTimeBins(2, 1.0), "overlap must lie in [0, 1), got overlap=1");
  EXPECT_THROW_WITH(SliceAtIndices({0, 1}, {1}), "same length, got 2 and 1");
  EXPECT_THROW_WITH(SliceAtIndices({3}, {1}), "start_indices[0]=3, end_indices[0]=1");
  EXPECT_THROW_WITH(SliceAtTimePoints({5}, {1}), "start_times[0]=5, end_times[0]=1");
}

// ---- behaviour and edge cases ------------------------------------------------------------------

TEST(TransformTest, EmptyEventsPassThroughEveryTransform) {
  const Events empty(SensorSize{4, 3, 2});
  for (const auto* s : {"CropTime(max=5)",
                        "TimeSkew(coefficient=2)",
                        "TimeAlignment()",
                        "TimeJitter(std=3)",
                        "RandomTimeReversal(p=1)",
                        "CropSpace(width=2, height=2)",
                        "CenterCrop(size=(2, 2))",
                        "RandomCrop(target_size=(2, 2))",
                        "Downsample(spatial_factor=0.5)",
                        "RandomFlipLR(p=1)",
                        "RandomFlipUD(p=1)",
                        "RandomFlipPolarity(p=1)",
                        "SpatialJitter()",
                        "Denoise(filter_time=5)",
                        "RefractoryPeriod(delta=5)",
                        "Decimation(n=2)",
                        "DropEvent(p=0.5)",
                        "DropPixel(hot_pixel_frequency=1)",
                        "DropEventByTime()",
                        "DropEventByArea()",
                        "UniformNoise(n=5)",
                        "EventDrop()"}) {
    EXPECT_TRUE(parse_transform(s)->apply(empty, 0).empty()) << s;
  }
}

TEST(TransformTest, ComposeRunsEveryTransformOnEmptyEvents) {
  // Tonic's Compose stops at the first empty result; here MergePolarities still sets P = 1.
  const auto t = parse_transform("Compose([CropTime(min=1000), MergePolarities()])");
  const auto out = t->apply(grid_events(), 0);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.sensor(), (SensorSize{4, 3, 1}));
}

TEST(TransformTest, OneEvent) {
  Events one(SensorSize{4, 3, 2});
  one.push_back(7, 2, 1, 1);
  EXPECT_EQ(Denoise(10).apply(one).size(), 0) << "no neighbour fired";
  EXPECT_EQ(RefractoryPeriod(10).apply(one).size(), 1) << "a pixel's first event is kept";
  EXPECT_EQ(DropEvent(0.4).apply(one).size(), 1) << "int(0.4 * 1 + 0.5) = 0 dropped";
  EXPECT_EQ(DropEvent(0.5).apply(one).size(), 0) << "int(0.5 * 1 + 0.5) = 1 dropped";
  const auto frames = ToFrame(ToFrameOptions().time_window(5)).apply(one);
  EXPECT_EQ(frames.sizes(), (at::IntArrayRef{1, 2, 3, 4}));
  EXPECT_EQ(frames[0][1][1][2].item<int>(), 1);
  const auto voxels = ToVoxelGrid(3).apply(one);
  EXPECT_EQ(voxels.sizes(), (at::IntArrayRef{3, 1, 3, 4}));
  EXPECT_EQ(voxels[0][0][1][2].item<float>(), 1.0f) << "one instant: all in bin 0, polarity +1";
  EXPECT_EQ(voxels.abs().sum().item<float>(), 1.0f);
}

TEST(TransformTest, EmptyEventsGiveEmptyFrames) {
  const Events empty(SensorSize{4, 3, 2});
  EXPECT_EQ(ToFrame(ToFrameOptions().time_window(5)).apply(empty).sizes(),
            (at::IntArrayRef{1, 2, 3, 4}));
  EXPECT_EQ(
      ToFrame(ToFrameOptions().time_window(5).start_time(0).end_time(20)).apply(empty).sizes(),
      (at::IntArrayRef{4, 2, 3, 4}));
  EXPECT_EQ(ToFrame(ToFrameOptions().n_time_bins(6)).apply(empty).sizes(),
            (at::IntArrayRef{6, 2, 3, 4}));
  EXPECT_EQ(ToFrame(ToFrameOptions().n_event_bins(2)).apply(empty).sum().item<int>(), 0);
  EXPECT_EQ(ToTimesurface(5, 5).apply(empty).size(0), 0);
  EXPECT_EQ(ToImage().apply(empty).sizes(), (at::IntArrayRef{2, 3, 4}));
  EXPECT_EQ(ToVoxelGrid(2).apply(empty).sum().item<float>(), 0.0f);
  EXPECT_TRUE(SliceByTime(SliceByTimeOptions(5)).slice_indices(empty).empty());
  EXPECT_EQ(SliceByEventCount(5).slice_indices(empty), (std::vector<IndexRange>{{0, 0}}));
}

TEST(TransformTest, BinaRepReadsBinaryFramesAsBits) {
  // t = 0, 10, 20, 30, 40; 4 time bins of 10 µs: the event at t = 40 falls in none (as ToFrame).
  const auto r = ToBinaRep(ToBinaRepOptions().n_frames(1).n_bits(4)).apply(grid_events());
  ASSERT_EQ(r.sizes(), (at::IntArrayRef{1, 2, 3, 4}));
  EXPECT_EQ(r.scalar_type(), at::kFloat);
  EXPECT_FLOAT_EQ(r[0][0][0][0].item<float>(), 8.0f / 15) << "bin 0: the top bit";
  EXPECT_FLOAT_EQ(r[0][1][0][1].item<float>(), 4.0f / 15);
  EXPECT_FLOAT_EQ(r[0][0][2][3].item<float>(), 2.0f / 15);
  EXPECT_FLOAT_EQ(r[0][1][1][2].item<float>(), 1.0f / 15);
  EXPECT_FLOAT_EQ(r.sum().item<float>(), 15.0f / 15);
  EXPECT_EQ(ToBinaRep(ToBinaRepOptions().n_frames(2)).apply(Events(SensorSize{4, 3, 2})).sizes(),
            (at::IntArrayRef{2, 2, 3, 4}));
  EXPECT_EQ(ToBinaRep(ToBinaRepOptions().n_bits(3)).apply(audio_events()).sizes(),
            (at::IntArrayRef{1, 1, 8}));
}

TEST(TransformTest, AveragedTimesurfaceAveragesEachCellsSurfaces) {
  // One cell (cell_size 4 covers the 4x3 sensor), surfaces of 3x3. Channel 1 holds t = 10 at
  // (1, 0), t = 30 at (2, 1), t = 40 at (3, 2): 30 sees 10 (age 20) at (-1, -1); 40 sees 30
  // (age 10) at (-1, -1) and 10 is 2 pixels away.
  const auto s =
      ToAveragedTimesurface(
          ToAveragedTimesurfaceOptions().surface_size(3).cell_size(4).time_window(25).tau(10))
          .apply(grid_events());
  ASSERT_EQ(s.sizes(), (at::IntArrayRef{1, 2, 3, 3}));
  EXPECT_FLOAT_EQ(s[0][1][1][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(s[0][1][0][0].item<float>(),
                  static_cast<float>((std::exp(-2.0) + std::exp(-1.0)) / 3));
  EXPECT_FLOAT_EQ(s[0][0][1][1].item<float>(), 1.0f) << "channel 0: two lone events";
  EXPECT_FLOAT_EQ(s.sum().item<float>(),
                  static_cast<float>(2 + (std::exp(-2.0) + std::exp(-1.0)) / 3));
  const auto lin =
      ToAveragedTimesurface(
          ToAveragedTimesurfaceOptions().surface_size(3).cell_size(4).time_window(15).tau(10).decay(
              TimesurfaceDecay::Linear))
          .apply(grid_events());
  EXPECT_FLOAT_EQ(lin[0][1][0][0].item<float>(), static_cast<float>((1 - 10.0 / 30) / 3))
      << "age 20 lies outside the window of 15";
  const auto audio =
      ToAveragedTimesurface(ToAveragedTimesurfaceOptions().surface_size(3).cell_size(3))
          .apply(audio_events());
  EXPECT_EQ(audio.sizes(), (at::IntArrayRef{3, 1, 3}));
  EXPECT_EQ(ToAveragedTimesurface().apply(Events(SensorSize{25, 5, 2})).sizes(),
            (at::IntArrayRef{3, 2, 5, 5}));
}

TEST(TransformTest, FramesCountPastInt16) {
  // Tonic counts in int16 and wraps past 32767; int32 counts do not.
  Events e(SensorSize{2, 2, 2});
  for (int i = 0; i < 40000; ++i) e.push_back(i, 1, 0, 1);
  const auto f = ToFrame(ToFrameOptions().n_event_bins(1)).apply(e);
  EXPECT_EQ(f.scalar_type(), at::kInt);
  EXPECT_EQ(f[0][1][0][1].item<int>(), 40000);
}

TEST(TransformTest, AudioEvents) {
  const Events a = audio_events();
  EXPECT_EQ(CropTime(CropTimeOptions().max(250)).apply(a).size(), 3);
  const auto d = Downsample(DownsampleOptions().spatial_factor(RealPair{0.5, 0.5})).apply(a);
  EXPECT_EQ(d.sensor(), (SensorSize{4, 1, 1}));
  EXPECT_FALSE(d.has_y());
  const auto flipped = RandomFlipLR(RandomFlipOptions().p(1)).apply(a);
  EXPECT_EQ(flipped.x[1], 8 - 1 - a.x[1]);
  EXPECT_EQ(ToFrame(ToFrameOptions().n_time_bins(2)).apply(a).sizes(), (at::IntArrayRef{2, 1, 8}));
  EXPECT_THROW_WITH(RandomFlipUD(RandomFlipOptions().p(1)).apply(a),
                    "RandomFlipUD: needs events with a y column");
  EXPECT_THROW_WITH(CenterCrop(2, 2).apply(a), "CenterCrop: needs events with a y column");
  EXPECT_THROW_WITH(ToVoxelGrid(2).apply(a), "needs a sensor with 2 polarities");
}

TEST(TransformTest, BadEventsAreRejected) {
  Events e(SensorSize{4, 3, 2});
  e.push_back(0, 1, 1, 2);
  EXPECT_THROW_WITH(ToFrame(ToFrameOptions().event_count(1)).apply(e),
                    "has polarity 2, expected one in [0, 2)");
  Events mixed(SensorSize{4, 3, 1});
  mixed.push_back(0, 1, 1, 0);
  mixed.push_back(1, 1, 1, 1);
  EXPECT_THROW_WITH(ToFrame(ToFrameOptions().event_count(1)).apply(mixed),
                    "single-polarity sensor");
  EXPECT_THROW_WITH(CropSpace(CropSpaceOptions(4, 3).x(1)).apply(grid_events()),
                    "reaches past the sensor width 4");
}

TEST(TransformTest, RandomTransformsAreReproducibleFromTheSeed) {
  Events e(SensorSize{64, 64, 2});
  std::mt19937_64 g(3);
  for (int i = 0; i < 2000; ++i) e.push_back(i * 10, g() % 64, g() % 64, g() % 2);
  const auto t = parse_transform(
      "Compose([DropEvent(p=0.3), TimeJitter(std=20, sort_timestamps=true), SpatialJitter("
      "clip_outliers=true)])");
  const auto a = t->apply(e, 11), b = t->apply(e, 11), c = t->apply(e, 12);
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.x, b.x);
  EXPECT_NE(a.t, c.t);
  EXPECT_EQ(DropEvent(0.3).apply(e, 5).size(), 2000 - 600);
}

TEST(TransformTest, FramesCountEachWindow) {
  // t = 0, 10, 20, 30, 40 at (x, y, p) = (0,0,0) (1,0,1) (3,2,0) (2,1,1) (3,2,1).
  // Windows of 20 µs, 10 µs overlap: [0,20) [10,30) [20,40); t = 40 is in none.
  const auto f = ToFrame(ToFrameOptions().time_window(20).overlap(10)).apply(grid_events());
  ASSERT_EQ(f.sizes(), (at::IntArrayRef{3, 2, 3, 4}));
  EXPECT_EQ(f.sum().item<int>(), 6);
  EXPECT_EQ(f[0][0][0][0].item<int>(), 1);
  EXPECT_EQ(f[0][1][0][1].item<int>(), 1);
  EXPECT_EQ(f[1][1][0][1].item<int>(), 1);
  EXPECT_EQ(f[1][0][2][3].item<int>(), 1);
  EXPECT_EQ(f[2][1][1][2].item<int>(), 1);
  EXPECT_EQ(f[2][1][2][3].item<int>(), 0);
  // Windows of 15 µs: [0,15) [15,30), and with include_incomplete also [30,45).
  EXPECT_EQ(ToFrame(ToFrameOptions().time_window(15)).apply(grid_events()).size(0), 2);
  const auto g =
      ToFrame(ToFrameOptions().time_window(15).include_incomplete(true)).apply(grid_events());
  ASSERT_EQ(g.size(0), 3);
  EXPECT_EQ(g[2].sum().item<int>(), 2);
  EXPECT_EQ(g[2][1][2][3].item<int>(), 1);
}

TEST(SlicerTest, SlicesAreTheIndexRanges) {
  const Events e = grid_events();  // t = 0, 10, 20, 30, 40
  const SliceByTime s(SliceByTimeOptions(15).overlap(5));
  const auto r = s.slice_indices(e);  // windows [0,15) [10,25) [20,35)
  EXPECT_EQ(r, (std::vector<IndexRange>{{0, 2}, {1, 3}, {2, 4}}));
  const auto pieces = s.slice(e);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[1].t, (std::vector<int64_t>{10, 20}));
  // reset_time: slice k shifted back by k·stride = 10 µs, into the first window [0, 15).
  const auto reset = SliceByTime(SliceByTimeOptions(15).overlap(5).reset_time(true)).slice(e);
  ASSERT_EQ(reset.size(), 3u);
  EXPECT_EQ(reset[0].t, (std::vector<int64_t>{0, 10}));
  EXPECT_EQ(reset[1].t, (std::vector<int64_t>{0, 10}));
  EXPECT_EQ(reset[2].t, (std::vector<int64_t>{0, 10}));
  EXPECT_EQ(reset[2].x, pieces[2].x);
  EXPECT_EQ(SliceByTime(SliceByTimeOptions(15).overlap(5).reset_time(true)).slice_indices(e), r);
  EXPECT_EQ(SliceAtIndices({0, 3}, {2, 99}).slice_indices(e),
            (std::vector<IndexRange>{{0, 2}, {3, 5}}));
}

}  // namespace
