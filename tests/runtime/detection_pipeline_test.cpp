// DETR object detection: DetrImageProcessor's output size, HF post_process_object_detection, and
// `accel detect` on a copy of the detr-tiny fixture with a preprocessor_config.json.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "preprocess/image_processor.h"
#include "runtime/detection_pipeline.h"
#include "test_util.h"

namespace accel {
namespace {

namespace fs = std::filesystem;
const std::string kImage = test::DataDir() + "/preprocess/vit-image-314x207/image.png";

TEST(DetrPreprocess, OutputSizeFollowsGetSizeWithAspectRatio) {
  using preprocess::DetrResizeOutputSize;
  using P = std::pair<int, int>;
  EXPECT_EQ(DetrResizeOutputSize(480, 640, 800, 1333), (P{800, 1066}));   // short side to 800, long truncated
  EXPECT_EQ(DetrResizeOutputSize(600, 2000, 800, 1333), (P{400, 1333}));  // capped: 399.9 rounds to 400
  EXPECT_EQ(DetrResizeOutputSize(1000, 500, 800, 1333), (P{1333, 666}));  // 666.5 rounds half to even
  EXPECT_EQ(DetrResizeOutputSize(800, 1000, 800, 1333), (P{800, 1000}));  // already there
  EXPECT_EQ(DetrResizeOutputSize(207, 314, 64, 80), (P{53, 80}));
}

TEST(DetrPreprocess, ConfigReadsBothSizeSpellings) {
  auto now = preprocess::ImageProcessorConfig::FromJson(
      nlohmann::json::parse(R"({"image_processor_type": "DetrImageProcessor", "size": {"shortest_edge": 800, "longest_edge": 1333}})"), "x");
  ASSERT_TRUE(now.ok()) << now.status().message();
  EXPECT_EQ(now->shortest_edge, 800);
  EXPECT_EQ(now->longest_edge, 1333);
  auto legacy = preprocess::ImageProcessorConfig::FromJson(
      nlohmann::json::parse(R"({"feature_extractor_type": "DetrFeatureExtractor", "size": 800, "max_size": 1333})"), "x");
  ASSERT_TRUE(legacy.ok()) << legacy.status().message();
  EXPECT_EQ(legacy->shortest_edge, 800);
  EXPECT_EQ(legacy->longest_edge, 1333);
  auto bad = preprocess::ImageProcessorConfig::FromJson(
      nlohmann::json::parse(R"({"image_processor_type": "DetrImageProcessor", "size": {"shortest_edge": 800, "longest_edge": "big"}})"), "x");
  EXPECT_FALSE(bad.ok());
}

TEST(DetrPostProcess, SoftmaxDropsNoObjectAndScalesCornerBoxes) {
  // Three queries over 2 classes + no-object: a confident class 1, a confident "no object"
  // (its best real class is below the threshold), and a tie won by the first class.
  const float logits[] = {0, 5, 0, /**/ 0, 0, 9, /**/ 2, 2, -1};
  const float boxes[] = {0.5f, 0.5f, 0.2f, 0.4f, /**/ 0.1f, 0.1f, 0.1f, 0.1f, /**/ 0.25f, 0.75f, 0.5f, 0.5f};
  auto d = runtime::PostProcessDetections(logits, boxes, 3, 3, 200, 100, 0.4f, {"cat", "dog"});
  ASSERT_EQ(d.size(), 2u);
  const double e5 = std::exp(5.0);
  EXPECT_NEAR(d[0].score, e5 / (e5 + 2), 1e-6);
  EXPECT_EQ(d[0].label, "dog");
  EXPECT_EQ(d[0].label_id, 1);
  EXPECT_FLOAT_EQ(d[0].xmin, 80.0f);
  EXPECT_FLOAT_EQ(d[0].xmax, 120.0f);
  EXPECT_FLOAT_EQ(d[0].ymin, 30.0f);
  EXPECT_FLOAT_EQ(d[0].ymax, 70.0f);
  EXPECT_EQ(d[1].label, "cat");
  EXPECT_NEAR(d[1].score, std::exp(2.0) / (2 * std::exp(2.0) + std::exp(-1.0)), 1e-6);
  EXPECT_FLOAT_EQ(d[1].xmin, 0.0f);
  EXPECT_FLOAT_EQ(d[1].ymax, 100.0f);
  EXPECT_TRUE(runtime::PostProcessDetections(logits, boxes, 3, 3, 200, 100, 0.99f, {}).empty());
}

// detr-tiny plus a DetrImageProcessor config (small sizes keep it fast).
std::string DetrFolder() {
  const std::string dir = test::MakeTempDir("detr-detect");
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(test::ModelDir("detr-tiny") + "/" + f, dir + "/" + f);
  std::ofstream(dir + "/preprocessor_config.json") << R"({"image_processor_type": "DetrImageProcessor", "do_resize": true,
    "size": {"shortest_edge": 64, "longest_edge": 80}, "resample": 2, "do_rescale": true, "rescale_factor": 0.00392156862745098,
    "do_normalize": true, "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "do_pad": true})";
  return dir;
}

TEST(DetrPipeline, DetectIsTheModelOnTheProcessedImage) {
  const std::string dir = DetrFolder();
  auto model = LoadedModel::Load(dir);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto found = runtime::DetectObjects(**model, kImage, 0.0f);
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(found->size(), 10u);  // every query at threshold 0
  // By hand: 314x207 -> 80x53, the model, the post-processing.
  auto cfg = preprocess::ImageProcessorConfig::Load(dir + "/preprocessor_config.json");
  auto img = preprocess::LoadImage(kImage);
  auto pre = preprocess::RunImagePipeline(*img, *cfg);
  ASSERT_EQ(pre->pixel_values.shape(), (Shape{1, 3, 53, 80}));
  auto out = (*model)->Run({{"pixel_values", pre->pixel_values}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto want = runtime::PostProcessDetections((*out)["logits"].data<float>(), (*out)["pred_boxes"].data<float>(), 10, 8, 314, 207,
                                             0.0f, {"label_0", "label_1", "label_2", "label_3", "label_4", "label_5", "label_6"});
  ASSERT_EQ(want.size(), found->size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*found)[i].label, want[i].label);
    EXPECT_FLOAT_EQ((*found)[i].score, want[i].score);
    EXPECT_FLOAT_EQ((*found)[i].xmin, want[i].xmin);
  }
  fs::remove_all(dir);
}

TEST(DetrPipeline, Cli) {
  const std::string dir = DetrFolder();
  auto j = test::RunCli("detect -m " + dir + " " + kImage + " --threshold 0 --json");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  auto parsed = nlohmann::json::parse(j.out, nullptr, false);
  ASSERT_TRUE(parsed.is_array()) << j.out;
  EXPECT_EQ(parsed.size(), 10u);
  EXPECT_TRUE(parsed[0].contains("box") && parsed[0]["box"].contains("xmin")) << j.out;
  auto text = test::RunCli("detect -m " + dir + " " + kImage + " --threshold 0.99");
  EXPECT_EQ(text.exit_code, 0) << text.out;
  auto emulated = test::RunCli("detect -m " + dir + " " + kImage + " --threshold 0 --device emulated --json");
  EXPECT_EQ(emulated.exit_code, 0) << emulated.out;
  auto vit = test::RunCli("detect -m " + test::ModelDir("vit-tiny") + " " + kImage);
  EXPECT_EQ(vit.exit_code, 2) << vit.out;
  auto no_config = test::RunCli("detect -m " + test::ModelDir("detr-tiny") + " " + kImage);
  EXPECT_EQ(no_config.exit_code, 2) << no_config.out;
  EXPECT_NE(no_config.out.find("preprocessor_config.json"), std::string::npos) << no_config.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel
